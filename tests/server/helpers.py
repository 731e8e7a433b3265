"""Parts of the service for tests: the scripted agent's, and a backend that echoes."""

from __future__ import annotations

import asyncio
import json

from server.app import Parts
from server.auth import KeyRing
from server.cache import AnswerCache, CacheOptions
from server.chat import ChatService
from server.conversations import Conversations
from server.gate import Gate
from server.metrics import Metrics
from server.store import MemoryStore, Store
from server.testing import free_port, serving  # noqa: F401 (the tests' import point)
from tansuo.llm.testing import ScriptedBackend
from tansuo.settings import Settings


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
