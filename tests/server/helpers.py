"""Parts of the service for tests: the scripted agent's, and a backend that echoes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import httpx

from tansuo.llm.testing import ScriptedBackend
from tansuo.server.parts import Parts, assemble_parts
from tansuo.server.store import MemoryStore, Store
from tansuo.server.testing import free_port, serving  # noqa: F401 (the tests' import point)
from tansuo.settings import Settings


def parts_for(settings: Settings, agent, embedder, *, store: Store | None = None, slots: int = 2,
              depth: int = 4, cache: bool = True) -> Parts:
    settings = settings if cache else settings.model_copy(update={"answer_cache": False})
    return assemble_parts(settings, agent, embedder, store or MemoryStore(), queue=(slots, depth))


class EchoBackend(ScriptedBackend):
    """Plans 'answer' and answers with the question and how many earlier messages it saw, forever;
    each answer takes `delay_s` (a busy model)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s = delay_s

    async def chat(self, request):
        if self.delay_s and request.response_schema is None:
            await asyncio.sleep(self.delay_s)
        return await super().chat(request)

    def _next_text(self, request) -> str:
        if request.response_schema is not None:
            return json.dumps({"use": "answer"})
        *earlier, last = [m for m in request.messages if m["role"] in ("user", "assistant")]
        return f"You asked: {last['content']} ({len(earlier)} earlier messages)"


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 300) -> None:
    """Until `tansuo serve` at `url` answers /healthz; fails with its log's tail if it exits or is late."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)
