"""Queries that keep the question: the question is always searched as asked, and a model-written
query is kept only when most of its words come from the question (or the conversation before it).

A 135M model rewrote "What does the Python statement 'with' do?" into `with` and
`python.util.with_all_non_zero_values`; neither searches for what was asked. A query whose words
are mostly new is a guess, not a rewrite, and is dropped before it searches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tansuo.retrieval.lexical import tokenize

KEEP_SHARE = 0.5  # of a query's words that must come from the question or the conversation
# "When does the first ferry leave, and when does the night bus run?": a second question joined by
# "and" starts with a question word (after a preposition: "and with how many votes ..."); each part
# is searched and answered on its own.
_SECOND = re.compile(r",?\s+and\s+(?=(?:(?:with|from|for|by|at|in|on|to|since|until)\s+)?"
                     r"(?:what|when|where|who|whom|whose|which|why|how|is|are|was|were|does|do|did|can)\b)", re.I)
# "What do students pay at the museum and at the theatre?": one question asked of two things, each
# after the same preposition.
_PARALLEL = re.compile(r"^(?P<head>.+?\b(?P<prep>at|in|on|for|from|to|of|with|by|about)\s+)(?P<a>[^,?]+?)"
                       r",?\s+and\s+(?P=prep)\s+(?P<b>[^,?]+?)\s*\??$", re.I)

# "What did the card cost before and after the change?": one question asked of two times.
_WHEN = r"before|after|until|since|during"
_TIMES = re.compile(rf"^(?P<head>.+?\s)(?P<a>{_WHEN})\s+and\s+(?P<b>{_WHEN})\s+(?P<tail>[^?]+?)\s*\??$", re.I)


def parts(question: str) -> list[str]:
    """The question's parts when it asks two or more things joined by "and" (else none)."""
    pieces = [p.strip(" ,?") for p in _SECOND.split(question.strip())]
    if len(pieces) < 2 and (times := _TIMES.match(question.strip())):
        pieces = [f"{times['head']}{times[k]} {times['tail']}" for k in "ab"]
    if len(pieces) < 2 and (parallel := _PARALLEL.match(question.strip())):
        pieces = [parallel["head"] + parallel["a"], parallel["head"] + parallel["b"]]
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
