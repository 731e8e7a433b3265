"""Queries that keep the question: the question is always searched as asked, and a model-written
query is kept only when most of its words come from the question (or the conversation before it).

A 135M model rewrote "What does the Python statement 'with' do?" into `with` and
`python.util.with_all_non_zero_values`; neither searches for what was asked. A query whose words
are mostly new is a guess, not a rewrite, and is dropped before it searches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.lexical import tokenize

KEEP_SHARE = 0.5  # of a query's words that must come from the question or the conversation
# "When does the first ferry leave, and when does the night bus run?": a second question joined by
# "and" starts with a question word; each part is searched and answered on its own.
_SECOND = re.compile(r",?\s+and\s+(?=(?:what|when|where|who|whom|whose|which|why|how|in which|in what|since when|"
                     r"until when|is|are|was|were|does|do|did|can)\b)", re.I)


def parts(question: str) -> list[str]:
    """The question's parts when it asks two or more things joined by "and" (else none)."""
    pieces = [p.strip(" ,?") for p in _SECOND.split(question.strip())]
    if len(pieces) < 2 or any(len(tokenize(p)) < 2 for p in pieces):
        return []  # "… and in what time?", "… and who wrote it?": a part that names nothing is no question
    return [p[0].upper() + p[1:] + "?" for p in pieces]


def needed(question: str, queries: Sequence[str], context: str = "") -> list[str]:
    """The question as asked first, then its parts (`parts`), then each query the question needs,
    without repeats."""
    known = set(tokenize(f"{context} {question}"))
    asked = tuple(tokenize(question))
    out = [question, *parts(question)]
    for query in queries:
        words = tokenize(query)
        if not words or tuple(words) == asked:
            continue
        if sum(w in known for w in words) / len(words) >= KEEP_SHARE:
            out.append(query)
    return list(dict.fromkeys(out))
