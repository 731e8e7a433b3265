"""A guard model on any OpenAI-compatible server (Llama Guard 3 on vLLM or llama-server) in place
of the embedded scorer and judge. Llama Guard replies `safe`, or `unsafe` and a line of hazard
codes (S1..S14), which map onto Tansuo's categories."""

from __future__ import annotations

import re

from tansuo.errors import TansuoError
from tansuo.llm import ChatRequest, LLMBackend
from tansuo.verifiers.harm import HarmScore

# Llama Guard 3's hazard taxonomy (MLCommons) -> the categories of verifiers/data/harm.yaml
HAZARDS = {"S1": "violence_weapons", "S2": "crime", "S3": "crime", "S4": "sexual_minors", "S5": "hate",
           "S6": "advice", "S7": "personal_data", "S8": "crime", "S9": "violence_weapons", "S10": "hate",
           "S11": "self_harm", "S12": "sexual_explicit", "S13": "loaded", "S14": "crime"}
_CODE = re.compile(r"\bS(\d{1,2})\b")


class GuardError(TansuoError):
    """The guard model gave a reply that is neither safe nor unsafe."""


class GuardModel:
    def __init__(self, backend: LLMBackend, *, max_tokens: int = 12) -> None:
        self.backend = backend
        self.max_tokens = max_tokens

    async def assess(self, text: str, *, role: str = "request") -> HarmScore:
        # Llama Guard's chat template reads the last turn's role: a user turn is a request, an
        # assistant turn an answer to judge.
        messages = ([{"role": "user", "content": text}] if role != "answer" else
                    [{"role": "user", "content": "(the user's question)"}, {"role": "assistant", "content": text}])
        result = await self.backend.chat(ChatRequest(messages=messages, max_tokens=self.max_tokens, temperature=0.0))
        return parse_guard_reply(result.content)


def parse_guard_reply(reply: str) -> HarmScore:
    words = reply.strip().lower()
    if words.startswith("safe"):
        return HarmScore(0.0, "benign", {}, judged=True)
    if words.startswith("unsafe"):
        codes = [f"S{n}" for n in _CODE.findall(reply.upper())]
        category = next((HAZARDS[c] for c in codes if c in HAZARDS), "crime")
        return HarmScore(1.0, category, {}, judged=True)
    raise GuardError(f"the guard model's reply is neither 'safe' nor 'unsafe': {reply[:80]!r}")
