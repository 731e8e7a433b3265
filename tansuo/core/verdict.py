"""What a verifier returns: a typed verdict the answer carries to the API, the CLI and the eval runner."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["pass", "revise", "block"]
VERIFIERS = ("factuality", "recency", "harmlessness")


@dataclass(frozen=True)
class Verdict:
    """pass: the answer stands (perhaps with notes added); revise: `reason` goes back to the model once;
    block: the user gets `message` instead of the answer."""

    verifier: str
    action: Action = "pass"
    reason: str = ""
    message: str | None = None  # a block's safe reply, or a notice the answer carries
    flags: tuple[str, ...] = ()  # e.g. unsupported, repointed, stale, disagreement, injection, caution
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[dict[str, Any], ...] = ()  # what the verdict rests on (claims, sources, dates)
    stage: str = "answer"  # input | sources | answer
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (lists, not tuples): the same shape in memory as on the wire."""
        return json.loads(json.dumps(asdict(self), default=str))
