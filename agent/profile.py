"""Which tool modes a model is offered, by what it can do.

As in the seed: a weak model gets the built-in tools' schemas directly (mode 1); a
stronger one also plugins found by description (mode 2); one that reasons step by step
well also the full agent, a plan of dependent steps (mode 3). Set per deployment
(``TANSUO_MODEL_PROFILE``) and overridable per request.
"""

from __future__ import annotations

from typing import Literal, get_args

Profile = Literal["tools", "plugins", "agent"]
Mode = Literal["answer", "search", "tools", "plugins", "agent"]

_MODES: dict[str, tuple[Mode, ...]] = {
    "tools": ("answer", "search", "tools"),
    "plugins": ("answer", "search", "tools", "plugins"),
    "agent": ("answer", "search", "tools", "plugins", "agent"),
}


def modes_for(profile: str) -> tuple[Mode, ...]:
    """The modes a profile offers; an unknown profile is a clear error, not a silent default."""
    try:
        return _MODES[profile]
    except KeyError:
        raise ValueError(f"unknown model profile {profile!r}; choose one of {', '.join(get_args(Profile))}") from None
