"""Follow-up questions a person might ask next (Perplexity's `related_questions`), written by the
model under a JSON schema from the question, the answer and its sources' titles."""

from __future__ import annotations

from collections.abc import Sequence

from tansuo.errors import LLMError
from tansuo.llm import ChatRequest, LLMBackend

MAX_QUESTIONS = 3
SCHEMA = {"type": "object", "additionalProperties": False, "required": ["questions"],
          "properties": {"questions": {"type": "array", "minItems": 1, "maxItems": MAX_QUESTIONS,
                                       "items": {"type": "string", "minLength": 10, "maxLength": 160}}}}
SYSTEM = ("Suggest up to three short follow-up questions the user might ask next about the same subject. "
          "Each is a whole question that stands alone, ending with a question mark, and none repeats the "
          "user's question. Reply with JSON only.")


async def related_questions(backend: LLMBackend, question: str, answer: str, titles: Sequence[str]) -> list[str]:
    """Up to three follow-ups; none when the model fails (the answer stands without them)."""
    context = f"Question: {question}\nAnswer: {answer[:800]}"
    if titles:
        context += "\nSources: " + "; ".join(dict.fromkeys(titles[:5]))
    request = ChatRequest(messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": context}],
                          max_tokens=160, temperature=0.0, response_schema=SCHEMA)
    try:
        result = await backend.chat(request)
    except LLMError:  # down, timed out, or output the schema did not admit
        return []
    asked = _plain(question)
    out: list[str] = []
    for text in (result.parsed or {}).get("questions", []):
        text = " ".join(str(text).split())
        if text.endswith("?") and _plain(text) != asked and _plain(text) not in map(_plain, out):
            out.append(text)
    return out


def _plain(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())
