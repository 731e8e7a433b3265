"""Conversation histories over the store, with a degraded mode: when the store stops answering, a
turn goes on without its history (and says so), and the entries it would have written wait in
memory until the store answers again, so nothing said is lost."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from server.store import Store, StoreUnavailable
from tansuo.llm import Message

DEGRADED_NOTICE = ("The conversation store is unavailable: this answer does not use the earlier turns, "
                   "and this turn is saved once the store is back.")


@dataclass
class Loaded:
    messages: list[Message]  # what the model sees of the earlier turns
    degraded: str | None = None  # why history could not be read, when it could not


@dataclass
class Conversations:
    store: Store
    cap: int = 40  # entries (user and assistant messages) kept per conversation
    ttl_s: int = 7 * 86400
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # written while the store was down

    async def load(self, conversation: str) -> Loaded:
        try:
            await self._flush()
            entries = await self.store.history(conversation)
        except StoreUnavailable as exc:
            return Loaded(_messages(self.pending.get(conversation, [])), degraded=str(exc))
        return Loaded(_messages(entries))

    async def entries(self, conversation: str) -> list[dict[str, Any]]:
        """Everything stored for a conversation (the API's GET); raises StoreUnavailable."""
        await self._flush()
        return await self.store.history(conversation)

    async def save(self, conversation: str, question: str, answer: dict[str, Any]) -> bool:
        """Append a turn; False when it is held back until the store answers again."""
        now = time.time()
        turn = [{"role": "user", "content": question, "at": now},
                {"role": "assistant", "content": answer.get("content", ""), "at": now,
                 **{k: v for k, v in answer.items() if k != "content"}}]
        try:
            await self._flush()
            await self.store.append(conversation, turn, cap=self.cap, ttl_s=self.ttl_s)
        except StoreUnavailable:
            self.pending.setdefault(conversation, []).extend(turn)
            return False
        return True

    async def delete(self, conversation: str) -> bool:
        self.pending.pop(conversation, None)
        return await self.store.delete(conversation)

    async def _flush(self) -> None:
        for conversation in list(self.pending):
            await self.store.append(conversation, self.pending[conversation], cap=self.cap, ttl_s=self.ttl_s)
            del self.pending[conversation]


def _messages(entries: list[dict[str, Any]]) -> list[Message]:
    return [{"role": e["role"], "content": e.get("content") or ""} for e in entries if e.get("role")]
