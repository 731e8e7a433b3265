"""The model as a judge: a short question answered under a JSON schema (yes/no, or a category),
at temperature 0. An unusable reply is None, so a verifier falls back on its other evidence
instead of failing the turn over a judgement."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tansuo.errors import InvalidOutput, LLMError
from tansuo.llm import ChatRequest, LLMBackend


@dataclass
class JudgeLog:
    """Model time and tokens spent judging, for the turn's accounting and the benchmark."""

    calls: int = 0
    ms: float = 0.0
    tokens: int = 0
    failures: int = 0  # replies that could not be used


class Judge:
    def __init__(self, backend: LLMBackend, *, max_tokens: int = 24) -> None:
        self.backend = backend
        self.max_tokens = max_tokens
        self.log = JudgeLog()

    async def ask(self, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        request = ChatRequest(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                              max_tokens=self.max_tokens, temperature=0.0, response_schema=schema)
        started = time.perf_counter()
        try:
            result = await self.backend.chat(request)
        except (InvalidOutput, LLMError):  # a judge that cannot answer leaves the decision to the scores
            self.log.failures += 1
            return None
        finally:
            self.log.calls += 1
            self.log.ms += (time.perf_counter() - started) * 1000
        self.log.tokens += result.usage.completion_tokens
        return result.parsed

    async def yes_no(self, system: str, user: str) -> bool | None:
        parsed = await self.ask(system, user, yes_no_schema())
        return None if parsed is None else parsed["answer"] == "yes"

    async def choose(self, system: str, user: str, choices: Sequence[str]) -> str | None:
        parsed = await self.ask(system, user, {"type": "object", "additionalProperties": False, "required": ["answer"],
                                               "properties": {"answer": {"enum": list(choices)}}})
        return None if parsed is None else parsed["answer"]


def yes_no_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["answer"],
            "properties": {"answer": {"enum": ["yes", "no"]}}}
