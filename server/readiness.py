"""Whether the model backend answers, for /readyz, whatever the backend is."""

from __future__ import annotations

from typing import Any


async def backend_ready(backend: Any) -> None:
    """Raise when the backend cannot serve: the embedded one is started (and restarted when it
    died) and asked for its models; a served one is asked for its models."""
    start = getattr(backend, "start", None)
    client = await start() if start is not None else backend
    models = getattr(client, "served_models", None)
    if models is not None:
        await models()
