"""Why two near-identical questions may still need different answers.

An embedding puts "Is X larger than Y?" next to "Is Y larger than X?", "in 2023" next to "in 2024"
and "does" next to "does not". Before the answer cache serves a stored answer for a new question,
their exact parts must agree: numbers and dates (normalised: "1,000" = "1000"), negations, the named
entities, and the order of the things a comparison or a direction relates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tansuo.verifiers.facts import facts

_WORD = re.compile(r"[a-z0-9]+(?:'t)?")  # "doesn't" stays one word; "France's" is "france" and "s"
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without except cannot isn't aren't wasn't "
                       "weren't don't doesn't didn't won't wouldn't can't couldn't shouldn't hasn't haven't "
                       "hadn't mustn't".split())
# Words that make the order of the things around them matter (X than Y, from X to Y, X before Y).
_ORDERED = frozenset("than versus vs before after from into over under above below beats beat defeated "
                     "older younger larger smaller bigger higher lower faster slower more less prefer rather "
                     "minus divided divide subtract subtracted per convert converting translate exchange".split())
# What kind of answer a question wants; two questions wanting different kinds are different questions
# ("Who founded X?" / "When was X founded?"). A plain "what" or "which" wants any kind.
_ANSWER_KINDS = (("reason", re.compile(r"\bwhy\b|\bwhat (?:is|was|are|were) the reasons?\b|\bfor what reason\b")),
                 ("time", re.compile(r"\bwhen\b|\b(?:what|which) (?:year|date|day|month|time|century|decade)\b"
                                     r"|\bhow long ago\b")),
                 ("place", re.compile(r"\bwhere\b|\b(?:what|which) (?:country|city|place|town|region|continent)\b")),
                 ("person", re.compile(r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|people|artist|author|writer)\b")),
                 ("quantity", re.compile(r"\bhow (?:many|much|far|long|tall|old|big|large|high|deep|fast|heavy)\b"
                                         r"|\bnumber of\b|\bpopulation\b|\bdistance\b|\bweight\b|\bheight\b")),
                 ("method", re.compile(r"\bhow (?:do|does|did|can|could|should|to|would)\b"
                                       r"|\bwhat(?:'s| is) the way\b")))
# Superlatives and ordinal modifiers: "the closest planet" is not "the farthest planet"; synonyms
# share a group ("largest" = "biggest").
_POLAR = {w: g for g, words in enumerate((
    "largest biggest greatest", "smallest tiniest littlest", "tallest highest", "lowest", "shortest", "longest",
    "closest nearest", "farthest furthest", "hottest warmest", "coldest coolest", "deepest", "shallowest",
    "oldest earliest first", "newest latest youngest last most recent", "fastest quickest", "slowest",
    "best", "worst", "richest", "poorest", "heaviest", "lightest", "previous former", "next upcoming",
    "current present", "cheapest", "minimum min", "maximum max", "average mean", "median"), start=0)
    for w in words.split()}
_STOP = frozenset("a an the of in on at for by with and or is are was were be been do does did what which who "
                  "whom whose how why when where there this that these those it its as about can could would "
                  "should will shall may might me my i you your we our they their he she his her please tell "
                  "give show find much many s".split())


@dataclass(frozen=True)
class Signature:
    """A question's exact parts."""

    numbers: frozenset[str]
    dates: frozenset[str]
    names: frozenset[str]  # lower-cased words of proper names
    negations: int
    answer_kind: frozenset[str]  # what the question asks for: time, place, person, reason, quantity, method
    polar: frozenset[int]  # superlatives and modifiers, by synonym group
    quantities: frozenset[str]  # each number with the word after it: "5 km"
    ordered: bool  # has a word that makes order matter
    content: tuple[str, ...]  # content words other than the relational ones, in order
    words: frozenset[str]


def signature(question: str) -> Signature:
    found = facts(question)
    words = _WORD.findall(question.lower().replace("’", "'"))
    negations = sum(w in _NEGATIONS or w.endswith("n't") for w in words)
    names = frozenset(w for name in found.names for w in _WORD.findall(name.lower()) if len(w) > 1)
    text = " ".join(words)
    relational = [w for w in words if _relational(w)]
    kinds = frozenset(kind for kind, pattern in _ANSWER_KINDS if pattern.search(text))
    polar = frozenset(_POLAR[w] for w in words if w in _POLAR)
    quantities = frozenset(f"{w} {nxt}" for w, nxt in zip(words, words[1:]) if _is_number(w) and not _is_number(nxt))
    return Signature(found.numbers, frozenset(d.isoformat() for d in found.dates), names, negations,
                     kinds, polar, quantities, bool(relational),
                     tuple(w for w in words if w not in _STOP and not _relational(w)),
                     frozenset(words))


def _is_number(word: str) -> bool:
    return word.replace(".", "", 1).isdigit()


def _relational(word: str) -> bool:
    return word in _ORDERED or (word.endswith("er") and word[:-2] in _ER_BASES) or (
        word.endswith("ger") and word[:-3] in _ER_BASES)  # bigger


_ER_BASES = frozenset("tall long short wide cheap dear rich poor heavy light strong weak warm cold hot "
                      "great small large big high low fast slow old young".split())


def mismatch(a: Signature, b: Signature) -> str | None:
    """Why the two questions may not share an answer, or None when their exact parts agree."""
    if a.numbers != b.numbers:
        return "different numbers"
    if a.dates != b.dates:
        return "different dates"
    if a.quantities != b.quantities and a.quantities and b.quantities:
        return "different quantities"
    if a.negations != b.negations:
        return "a negation differs"
    if a.answer_kind and b.answer_kind and not a.answer_kind & b.answer_kind:
        return "they ask for different kinds of answer"
    if a.polar != b.polar:
        return "a superlative or modifier differs"
    if not (a.names <= b.words and b.names <= a.words):
        return "different names"
    if (a.ordered or b.ordered) and not (a.quantities and a.quantities == b.quantities) \
            and _order(a, b) != _order(b, a):
        return "the order of what is compared differs"
    return None


def _order(a: Signature, b: Signature) -> tuple[str, ...]:
    """The content words `a` shares with `b`, in `a`'s order, first occurrences only."""
    shared = set(a.content) & set(b.content)
    return tuple(dict.fromkeys(w for w in a.content if w in shared))
