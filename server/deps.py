"""What a route needs, as typed dependencies: the service's parts (built at startup, on the app's
state) and who the request acts for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tansuo.server.conversations import ANONYMOUS
from tansuo.server.parts import Parts


def parts_of(request: Request) -> Parts:
    """The parts the app runs on (`create_app` puts them on the app's state)."""
    return request.app.state.parts


PartsDep = Annotated[Parts, Depends(parts_of)]


def owner_of(request: Request) -> str:
    """Who the request acts for: its API key's name, or ANONYMOUS (keys off, no key sent)."""
    return request.scope.get("state", {}).get("owner", ANONYMOUS)
