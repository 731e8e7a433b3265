"""Conversation histories over the store, each owned by the caller that started it, with a degraded
mode: when the store stops answering, a turn goes on without its history (and says so), and the
entries it would have written wait until the store answers again, so nothing said is lost.

Ownership: a conversation is stored under its owner's tag and the id the client gave, so another key
asking for the same id finds nothing (404), never the first key's history. Held-back entries also go
to an append-only file in the data dir, so a restart during a store outage loses nothing either.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tansuo.llm import Message
from tansuo.server.store import Store, StoreUnavailable

ANONYMOUS = "anonymous"  # the owner of everything when keys are off
DEGRADED_NOTICE = ("The conversation store is unavailable: this answer does not use the earlier turns, "
                   "and this turn is saved once the store is back.")


def owner_tag(owner: str) -> str:
    """A short, stable tag for an owner (a key's name, or ANONYMOUS): what stored keys carry."""
    return hashlib.sha256(owner.encode()).hexdigest()[:16]


@dataclass
class Loaded:
    messages: list[Message]  # what the model sees of the earlier turns
    degraded: str | None = None  # why history could not be read, when it could not


@dataclass
class Conversations:
    store: Store
    cap: int = 40  # entries (user and assistant messages) kept per conversation
    ttl_s: int = 7 * 86400
    held_file: Path | None = None  # where held-back entries survive a restart (None: memory only)
    pending: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # written while the store was down
    _flushing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.held_file is not None and self.held_file.exists():
            for line in self.held_file.read_text(encoding="utf-8").splitlines():
                try:
                    held = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash mid-write: the rest is still read
                self.pending.setdefault(held["key"], []).extend(held["entries"])

    async def load(self, owner: str, conversation: str) -> Loaded:
        key = _key(owner, conversation)
        try:
            await self._flush()
            entries = await self.store.history(key)
        except StoreUnavailable as exc:
            return Loaded(_messages(self.pending.get(key, [])), degraded=str(exc))
        return Loaded(_messages(entries))

    async def entries(self, owner: str, conversation: str) -> list[dict[str, Any]]:
        """Everything stored for the owner's conversation (the API's GET); raises StoreUnavailable."""
        await self._flush()
        return await self.store.history(_key(owner, conversation))

    async def save(self, owner: str, conversation: str, question: str, answer: dict[str, Any]) -> bool:
        """Append a turn; False when it is held back until the store answers again."""
        key, now = _key(owner, conversation), time.time()
        turn = [{"role": "user", "content": question, "at": now},
                {"role": "assistant", "content": answer.get("content", ""), "at": now,
                 **{k: v for k, v in answer.items() if k != "content"}}]
        try:
            await self._flush()
            await self.store.append(key, turn, cap=self.cap, ttl_s=self.ttl_s)
        except StoreUnavailable:
            self.pending.setdefault(key, []).extend(turn)
            self._hold(key, turn)
            return False
        return True

    async def delete(self, owner: str, conversation: str) -> bool:
        key = _key(owner, conversation)
        held = self.pending.pop(key, None) is not None
        if held:
            self._rewrite()
        return await self.store.delete(key) or held

    async def _flush(self) -> None:
        """Write what was held back, once: one flush at a time, each conversation's entries taken
        before they are written (two requests flushing together stored a turn twice)."""
        if not self.pending:
            return
        async with self._flushing:
            try:
                for key in list(self.pending):
                    entries = self.pending.pop(key, None)
                    if not entries:
                        continue
                    try:
                        await self.store.append(key, entries, cap=self.cap, ttl_s=self.ttl_s)
                    except StoreUnavailable:
                        self.pending[key] = entries + self.pending.get(key, [])
                        raise
            finally:
                self._rewrite()

    def _hold(self, key: str, entries: list[dict[str, Any]]) -> None:
        if self.held_file is None:
            return
        self.held_file.parent.mkdir(parents=True, exist_ok=True)
        with self.held_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"key": key, "entries": entries}, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def _rewrite(self) -> None:
        """The file holds exactly what is still pending (written to a new file, then renamed)."""
        if self.held_file is None or not (self.pending or self.held_file.exists()):
            return
        if not self.pending:
            self.held_file.unlink(missing_ok=True)
            return
        fresh = self.held_file.with_suffix(".tmp")
        fresh.write_text("".join(json.dumps({"key": k, "entries": v}, ensure_ascii=False) + "\n"
                                 for k, v in self.pending.items()), encoding="utf-8")
        fresh.replace(self.held_file)


def _key(owner: str, conversation: str) -> str:
    return f"{owner_tag(owner)}:{conversation}"


def _messages(entries: list[dict[str, Any]]) -> list[Message]:
    return [{"role": e["role"], "content": e.get("content") or ""} for e in entries if e.get("role")]
