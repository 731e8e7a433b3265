"""The default backend: a GGUF model served by a llama-server child process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tansuo.errors import BackendUnavailable
from tansuo.llm.llama_server import LlamaServer
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.llm.types import ChatRequest, ChatResult, StreamEvent


class EmbeddedBackend:
    """Starts llama-server on first use, restarts it if it died, stops it on `aclose`."""

    def __init__(self, server: LlamaServer, *, timeout_s: float = 120.0, max_retries: int = 0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server = server
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._transport = transport
        self._client: OpenAIBackend | None = None
        self._lock = asyncio.Lock()

    @property
    def model(self) -> str:
        return self.server.cfg.alias

    async def start(self) -> OpenAIBackend:
        async with self._lock:
            if self._client is None or not self.server.alive:
                await self._discard_client()
                base_url = await asyncio.to_thread(self.server.start)
                self._client = OpenAIBackend(base_url, model=self.model, dialect="llama.cpp",
                                             timeout_s=self._timeout_s, max_retries=self._max_retries,
                                             transport=self._transport)
            return self._client

    async def chat(self, request: ChatRequest) -> ChatResult:
        client = await self.start()
        try:
            return await client.chat(request)
        except BackendUnavailable as exc:
            raise self._explain(exc) from None

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        client = await self.start()
        try:
            async for event in client.stream(request):
                yield event
        except BackendUnavailable as exc:
            raise self._explain(exc) from None

    async def aclose(self) -> None:
        await self._discard_client()
        await asyncio.to_thread(self.server.stop)

    async def _discard_client(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _explain(self, exc: BackendUnavailable) -> BackendUnavailable:
        if self.server.alive:
            return exc
        code = self.server.proc.returncode if self.server.proc else None
        return BackendUnavailable(f"embedded llama-server died (exit code {code}); it restarts on the "
                                  f"next request. Log: {Path(self.server.log_path)}: {self.server.log_tail()}")
