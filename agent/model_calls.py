"""The one way a step asks the model for structured output: a request under a JSON schema, timed
and counted on the turn. `constrained` is for what the turn needs (an invalid reply is shown to
the model once, a second one raises); `judgement` for what it can do without (None when the
reply is unusable, so the caller keeps what it has). Prose answers stream through `agent.answer`."""

from __future__ import annotations

from typing import Any

from tansuo.agent import planner
from tansuo.agent.turn import Turn
from tansuo.errors import InvalidOutput
from tansuo.llm import LLMBackend, Message


async def constrained(backend: LLMBackend, turn: Turn, messages: list[Message], schema: dict[str, Any], *,
                      max_tokens: int, adapter: tuple[str, float] | None = None) -> dict[str, Any]:
    """A reply the turn needs (a route, a call's arguments, queries, a plan), in at most `max_tokens`
    and what the turn's budget has left."""
    try:
        return await ask(backend, turn, messages, schema, _within(turn, max_tokens), adapter)
    except InvalidOutput as exc:
        turn.problem("malformed_output", f"the planner's reply was invalid: {exc}", note=False)
        retry = [*messages, {"role": "user", "content": f"Your last reply was invalid ({exc}). "
                                                         "Reply again with JSON that follows the format."}]
        return await ask(backend, turn, retry, schema, _within(turn, max_tokens), adapter)


async def judgement(backend: LLMBackend, turn: Turn, prompt: str, schema: dict[str, Any],
                    max_tokens: int) -> dict[str, Any] | None:
    """A small judgement or choice (relevance, a step check, which sentence answers); None when the
    reply is unusable."""
    try:
        return await ask(backend, turn, [{"role": "user", "content": prompt}], schema, max_tokens)
    except InvalidOutput:
        return None


async def ask(backend: LLMBackend, turn: Turn, messages: list[Message], schema: dict[str, Any],
              max_tokens: int, adapter: tuple[str, float] | None = None) -> dict[str, Any]:
    """One request under `schema` at temperature 0; its time and tokens go on the turn."""
    name, scale = adapter or (None, 1.0)
    with turn.timed("model"):
        parsed, tokens = await planner.ask_model(backend, messages, schema, max_tokens, name, scale)
    turn.budget.generated(tokens)
    return parsed


def _within(turn: Turn, max_tokens: int) -> int:
    return min(max_tokens, max(1, turn.budget.tokens_left()))
