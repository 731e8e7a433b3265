"""What each server dialect takes on the wire, where servers differ: stop sequences (OpenAI's API,
and vLLM with it, takes four at most) and JSON Schema keywords a constrained decoder refuses (vLLM's
xgrammar answers 400 to `uniqueItems`). What a server is not sent is applied here: the extra stops
cut the text as it streams, and every reply is validated against the whole schema (llm/output.py)."""

from __future__ import annotations

from typing import Any

MAX_STOPS = 4  # OpenAI's limit, which vLLM enforces
UNENFORCED = frozenset({"uniqueItems"})  # checked after decoding, not while


def split_stops(stops: list[str] | None, dialect: str) -> tuple[list[str], list[str]]:
    """(the stops a server is sent, the stops applied here)."""
    stops = list(stops or [])
    if dialect == "llama.cpp":
        return stops, []
    return stops[:MAX_STOPS], stops[MAX_STOPS:]


def wire_schema(schema: Any, dialect: str) -> Any:
    """The schema without the keywords the dialect's decoder refuses (llama.cpp takes them all)."""
    if dialect == "llama.cpp":
        return schema
    if isinstance(schema, dict):
        return {k: wire_schema(v, dialect) for k, v in schema.items() if k not in UNENFORCED}
    if isinstance(schema, list):
        return [wire_schema(v, dialect) for v in schema]
    return schema


def cut_at_stops(text: str, stops: list[str]) -> tuple[str, bool]:
    """The text up to the first of the stops, and whether one was there."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return (text[:min(found)], True) if found else (text, False)


class StopCutter:
    """Stops applied as text streams in: text that could still be the start of a stop is held back
    until the next piece shows it is not."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops
        self.hold = max((len(s) for s in stops), default=1) - 1
        self.buffer = ""
        self.hit = False

    def feed(self, text: str) -> str:
        if self.hit:
            return ""
        self.buffer += text
        out, self.hit = cut_at_stops(self.buffer, self.stops)
        if self.hit:
            self.buffer = ""
            return out
        keep = min(self.hold, len(self.buffer))
        out, self.buffer = self.buffer[:len(self.buffer) - keep], self.buffer[len(self.buffer) - keep:]
        return out

    def flush(self) -> str:
        out, self.buffer = self.buffer, ""
        return out
