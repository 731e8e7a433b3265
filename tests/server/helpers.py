"""The service on 127.0.0.1 in this process (uvicorn in a thread), built from given parts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from server.app import Parts, create_app
from server.auth import KeyRing
from server.cache import AnswerCache, CacheOptions
from server.chat import ChatService
from server.conversations import Conversations
from server.gate import Gate
from server.metrics import Metrics
from server.store import MemoryStore, Store
from tansuo.llm.testing import ScriptedBackend
from tansuo.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parts_for(settings: Settings, agent, embedder, *, store: Store | None = None, slots: int = 2,
              depth: int = 4, cache: bool = True) -> Parts:
    store = store or MemoryStore()
    index = agent.deps.index

    def document_hash(doc_id: str) -> str | None:
        return None if index is None else index.content_hash(doc_id)

    chat = ChatService(agent=agent, conversations=Conversations(store, cap=settings.history_messages),
                       cache=AnswerCache(store, embedder, document_hash=document_hash,
                                         options=CacheOptions(similarity=settings.answer_cache_similarity))
                       if cache else None,
                       gate=Gate(slots, depth), metrics=Metrics(), document_hash=document_hash)
    return Parts(settings=settings, chat=chat, router=agent.deps.router, index=index, backend=agent.deps.backend,
                 keys=KeyRing(settings.effective_api_keys_file), plots_dir=settings.data_dir / "plots")


@contextlib.contextmanager
def serving(settings: Settings, parts: Parts) -> Iterator[str]:
    """The app on a free port; yields its base URL, stops it on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, parts), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


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
