"""The default backend: a GGUF model served by a llama-server child process."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tansuo.errors import BackendUnavailable
from tansuo.llm.llama_server import LlamaServer
from tansuo.llm.openai_compat import OpenAIBackend
from tansuo.llm.types import TOOLS_ADAPTER, ChatRequest, ChatResult, StreamEvent


def wants_tool_adapter(request: ChatRequest) -> bool:
    """The tool adapter was trained on the planner's route and fill prompts and on the generic tool
    prompt, and nothing else: answers, queries and judgements written with it wander."""
    return request.adapter == TOOLS_ADAPTER or (bool(request.tools) and request.tool_choice != "none")


def with_adapter_scale(request: ChatRequest) -> ChatRequest:
    """The request with llama-server's per-request adapter list, at the request's scale. Always
    explicit, scale 0 included: an omitted entry keeps the server's last setting (llama.cpp#28674)."""
    scale = request.adapter_scale if wants_tool_adapter(request) else 0.0
    return dataclasses.replace(request, extra_body={**(request.extra_body or {}),
                                                    "lora": [{"id": 0, "scale": scale}]})


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

    @property
    def tool_adapter(self) -> Path | None:
        """The LoRA adapter llama-server loads (None: the base model alone)."""
        return self.server.cfg.lora

    async def ready(self) -> None:
        await (await self.start()).ready()

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
            return await client.chat(self._scoped(request))
        except BackendUnavailable as exc:
            raise self._explain(exc) from None

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        client = await self.start()
        try:
            async for event in client.stream(self._scoped(request)):
                yield event
        except BackendUnavailable as exc:
            raise self._explain(exc) from None

    def _scoped(self, request: ChatRequest) -> ChatRequest:
        return with_adapter_scale(request) if self.server.cfg.lora is not None else request

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
