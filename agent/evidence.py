"""Evidence at sentence level: the sentences of the retrieved passages that answer the question.

Each passage is split into sentences; each sentence is ranked against the question (and the search's
sub-questions) by the embedding model (the sentence alone and read in its place, after its
document's title and the sentence before it, half each) and by BM25 over the candidate sentences, and keeps
its source's number, document and date. What the question asks for lifts a sentence that gives it:
the kind of answer (a date, a time of day, money, a number with its unit, a reason, a name) and, for
a definition question, a sentence whose subject is the thing asked about. For a question about the
current state of things, a sentence that a newer source on the same thing supersedes is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np

from tansuo.core.sources import SourceBook, sentences
from tansuo.embedding import Embedder
from tansuo.retrieval.lexical import Lexical, tokenize

MIN_WORDS, MAX_WORDS = 4, 90  # shorter says nothing; longer is a listing, not a sentence
DENSE_WEIGHT = 0.7  # of the embedding cosine against BM25 (normalised to the best sentence)
SAME_THING = 0.6  # cosine of two sentences above which they speak of the same thing
SAME_TOPIC = 0.55  # cosine of two passages about the same thing (the recency verifier's default)
NEAR_THING = 0.45  # two sentences this close, in passages about the same thing, speak of one thing
# passages below this are about different things, however alike two of their sentences read ("Roads
# along the harbour are closed" for a marathon, "A cycle lane along Harbour Road opened")
RELATED_TOPIC = 0.4
# What kind of answer a question word asks for, and how a sentence that gives one reads (the answer
# type of classic question answering): "When ...?" wants a date or time, "How much ...?" money.
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_UNITS = (r"(?:k?m|km|kilomet\w*|met\w*|miles?|feet|foot|yards?|seconds?|minutes?|min|hours?|h|days?|weeks?|"
          r"months?|years?|percent|%|kg|kilo\w*|tonnes?|litres?|liters?)")
_DATE = rf"\b(?:\d{{1,2}}:\d{{2}}|\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}|{_MONTHS}\s+\d{{1,2}})\b"
_MONEY = r"(?:\d[\d,]*(?:\.\d+)?\s*(?:eur|euros?|usd|dollars?|gbp|pounds?|nok|sek|kr|yen|cents?)\b|[€$£]\s*\d)"
_WANTS = (
    # a time of day: "What time ...?", or "When does the first ferry leave?" (a timetable, asked in the
    # present), which a date alone ("returned to the route on 10 February") does not answer
    (re.compile(r"^\s*(?:(?:at )?what time|when (?:does|do) (?:the )?(?:first|last|next|earliest|latest)\b.*"
                r"\b(?:leave|depart|arrive|open|close|run|start|sail|fly|go)\b)", re.I),
     re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)|\b(?:noon|midnight)\b", re.I)),
    (re.compile(r"^\s*(?:when|since when|until when|what time|what year|which year|in (?:which|what) year|"
                r"what date|by when|from when)\b", re.I),
     re.compile(_DATE, re.I)),
    # a price asks for money, a size or a duration for a number with its unit, a count for a number:
    # "How long is the lane?" is not answered by "It opened on 15 June."
    (re.compile(r"^\s*(?:how much|what (?:does|did|do|will) .*\b(?:cost|pay|charge)|"
                r"what (?:is|was|are|were) the (?:price|cost|fee|fare|charge|rent)s?|"
                r"(?:what|which) (?:\w+ )?(?:price|cost|fee|fare|rent)s?(?=[\s?]|$))", re.I),
     re.compile(_MONEY, re.I)),
    (re.compile(r"^\s*how (?:long|far|big|high|fast|wide|deep|heavy|old|tall)\b", re.I),
     re.compile(rf"\d[\d.,]*\s*-?\s*{_UNITS}\b", re.I)),
    (re.compile(r"^\s*(?:(?:with |by |for )?how (?:many|often)|what (?:is|was) the number|"
                r"(?:(?:below|above|under|over|up to|from|at|to) )?"
                r"what (?:value|amount|rate|percentage|share|age|speed|limit))\b", re.I),
     re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twice|once|dozen|hundred|thousand)\b",
                re.I)),
    (re.compile(r"^\s*(?:which|what) (?:exception|error|warning)s?\b", re.I),
     re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning|Iteration|Interrupt|Exit)\b")),
    (re.compile(r"^\s*why\b", re.I),
     re.compile(r"\b(?:because|due to|so that|for (?:a|an|the)|to (?:repair|fix|allow|make|cut|fund|keep)|"
                r"citing|caused|owing to|after|reasons?)\b", re.I)),
    (re.compile(r"^\s*(?:who|whom|whose)\b", re.I), re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+ [A-Z][a-z]+")),
)
ANSWER_TYPE = 0.08  # added to a sentence that gives the kind of answer the question asks for
# "What does break do?", "What is __call__ for?": a definition, which a reference topic or an article
# states first; the first sentences of a document's first passage rank above the details after them.
_DEFINES = re.compile(r"^\s*what\s+(?:does|do)\s+.+?\s(?:do|mean|means|check|checks)\b|"
                      r"^\s*what\s+(?:is|are)\s+.+?\s(?:for|used for)\b|"
                      r"^\s*what\s+(?:is|are)\s+(?:an?\s+|the\s+)?\S+(?:\s+\S+)?\s*\??\s*$", re.I)
LEAD = (0.1, 0.05)  # added to the first and second sentence of a document's first passage
# A definition is a sentence whose subject is the thing asked about ("The "async for" statement allows
# ...", or "It terminates ..." early in that thing's own document), not a rule about where it may
# appear ("... may only occur nested in a loop"): the definitional pattern of definition questions.
DEFINING = 0.3
# the term ends the question ("What is X for?"): "What is the rent for a flat in 2025?" asks no definition
_TERM = re.compile(r"^\s*what\s+(?:does|do|is|are)\s+(?:the\s+|an?\s+)?(.+?)"
                   r"(?:\s+(?:statement|keyword|expression|operator|function|special method|method|built-?in))?"
                   r"(?:\s+(?:do|mean|means|check|checks)\b.*|\s+(?:used\s+)?for(?:\s+in\s+python)?\s*\??|\s*\?)\s*$",
                   re.I)
_QUOTED = re.compile(r"(?<!\w)['\"\u2018\u201c`]([^'\"\u2019\u201d`]{1,40})['\"\u2019\u201d`]")
_NO_TERM = frozenset({"it", "this", "that", "they", "these", "those", "he", "she", "there", "used", "do"})
_PRONOUN = re.compile(r"^(?:it|this|they|these)\b", re.I)
_RULE = re.compile(r"\b(?:may|can|must|cannot|should)\s+(?:only|not|never|also)\b|\bonly\b", re.I)
IN_PERIOD = 0.08  # added to a sentence of a document dated in the period the question asks about
_GRAMMAR = re.compile(r"::=|^\s*[>|$]|^\s*\w+\s*:\s*$|-{3,}|={3,}")  # grammar, prompts, labels, rules
_LETTERS = re.compile(r"[A-Za-z]")
_PLACEHOLDER = re.compile(r"<\w+>")
_LEAD_IN = re.compile(r"\b(?:as follows|the following)[.:]?$", re.I)
_REFERENCE = re.compile(r"\*\*[^*]+\*\*\s+[-–]")  # a "see also" line: "**PEP 343** - The with statement"


@dataclass(frozen=True)
class Sentence:
    n: int  # the citation number of its source
    text: str
    doc_id: str
    date: datetime | None
    score: float = 0.0
    dense: float = 0.0  # its best embedding cosine to the question or a sub-question
    title: str = ""  # its document's title: "It terminates the nearest enclosing loop" is about `break`
    lead: int = -1  # its place among the sentences of its document's first passage (-1: later)
    before: str = ""  # the sentence before it in its passage: "... are not equal to themselves" is about NaN
    # its embeddings (alone, read in its place), kept once computed: ranking again against a question's
    # parts or checking for superseded sentences embeds nothing twice
    vectors: tuple[np.ndarray, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @property
    def ranked_text(self) -> str:
        """The sentence read in its place: after its document's title and the sentence before it."""
        return " ".join(p for p in (f"{self.title}." if self.title else "", self.before, self.text) if p)


def candidates(book: SourceBook) -> list[Sentence]:
    """Every readable sentence of the book's documents, in source order, without repeats."""
    out, seen = [], set()
    for item in book.items:
        if item.source.kind != "document":
            continue
        first = item.source.chunk_id.rpartition("#")[2] == "0"
        place, before = 0, ""
        for text in split(item.text):
            key = " ".join(text.lower().split())
            if key not in seen and readable(text):
                seen.add(key)
                out.append(Sentence(item.source.n, text, item.doc_id, item.source.date, title=item.source.title,
                                    lead=place if first else -1, before=before))
                place += 1
            before = text if readable(text) else ""  # a code or grammar line lends no context
    return out


def split(text: str) -> list[str]:
    """Sentences within paragraphs and lines: a heading or a list item is not joined to the next."""
    out = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)", text):
        lines = [line.strip() for line in block.splitlines()]
        out += [" ".join(s.split()) for s in sentences(" ".join(line for line in lines if line))]
    # a sentence that introduces a listing ends with a colon; shown alone it ends like a sentence
    return [s[:-1] + "." if s.endswith(":") and len(s.split()) >= 8 else s for s in out if s]


def readable(text: str) -> bool:
    """A sentence a person can read as an answer: not a grammar rule, a prompt line or a heading rule,
    mostly letters, and not the short lead-in to a listing ("The syntax for a slicing:")."""
    words = text.split()
    if text.endswith(":") or sum(text.count(c) for c in "=|{}") > 3 or _PLACEHOLDER.search(text):
        return False  # a listing's lead-in, a signature, code, a grammar line ("yield <expr>")
    if _LEAD_IN.search(text) or _REFERENCE.search(text):
        return False
    letters = len(_LETTERS.findall(text))
    return MIN_WORDS <= len(words) <= MAX_WORDS and letters >= 0.6 * len(text.replace(" ", "")) \
        and not _GRAMMAR.search(text)


def rank(found: Sequence[Sentence], questions: Sequence[str], embedder: Embedder,
         period: tuple[date, date] | None = None) -> list[Sentence]:
    """The sentences, best first, each scored by its best match over the questions; a sentence of a
    document dated within `period` (the past time the question names: "What did a swim cost in
    2024?") ranks above its undated or later rivals."""
    if not found or not questions:
        return list(found)
    found = _embedded(found, embedder)
    asked = embedder.embed(list(questions)).T
    alone = np.stack([s.vectors[0] for s in found])
    titled = np.stack([s.vectors[1] for s in found])
    # the sentence alone and read in its place (title, sentence before), half each: the title lends
    # "It terminates the nearest enclosing loop" its subject, the sentence before lends "... are not
    # equal to themselves" its NaN; alone each lifts any short sentence of a well-titled document
    dense = 0.5 * (alone @ asked) + 0.5 * (titled @ asked)  # sentences x questions
    lexical = _bm25(found, questions)
    scores = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical
    scores = scores + ANSWER_TYPE * np.array([[_gives(q, s.text) for q in questions] for s in found])
    # the question as asked (first) says whether a definition is wanted; its rewrites may not
    term = asked_term(questions[0])
    defining = np.array([defines(term, s) for s in found])
    if defining.max(initial=0.0) < 1.0:  # the thing's own document is not among the sources
        defining = np.minimum(1.0, 2 * defining)
    best = scores.max(axis=1) + DEFINING * defining + np.array([_lead(questions[0], s) + IN_PERIOD * _within(s, period)
                                                                for s in found])
    ranked = [replace(s, score=float(best[i]), dense=float(dense[i].max())) for i, s in enumerate(found)]
    return sorted(ranked, key=lambda s: -s.score)


def _lead(question: str, s: Sentence) -> float:
    return LEAD[s.lead] if 0 <= s.lead < len(LEAD) and _DEFINES.search(question) else 0.0


def asked_term(question: str) -> str:
    """What a definition question asks about, lower-cased without quotes ("what does 'async for' do?"
    -> "async for"); empty for other questions."""
    if not _DEFINES.search(question):
        return ""
    quoted = _QUOTED.search(question)
    match = _TERM.match(question)
    term = _plain(quoted.group(1) if quoted else match.group(1) if match else "")
    if term.startswith(("python ", "python's ")):  # "the Python with statement": the statement is the subject
        term = term.split(" ", 1)[1]
    # a long "term" is a whole question's content ("the rent for a student flat in 2025"), not a thing
    return "" if term in _NO_TERM or len(term) < 2 or len(term.split()) > 4 else term


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[\"'\u2018\u2019\u201c\u201d`()]", " ", text.lower()).split())


def defines(term: str, s: Sentence) -> float:
    """1 when the sentence's subject is the term asked about (its first words, or a pronoun early
    in the term's own document) and it is not a rule about where the term may be used; half that
    outside the term's own document ("A "break" statement executed in the first suite ..." in the
    "for" topic is a detail of the loop, "It terminates ..." in the "break" topic defines break).
    `rank` counts the half in full when no sentence of the term's own document defines it."""
    if not term:
        return 0.0
    whole = rf"{re.escape(term)}(?!\w)"
    own = re.search(rf"(?<!\w){whole}", _plain(s.title)) is not None
    about = re.match(rf"(?:the |an? )?{whole}", _plain(s.text)) is not None \
        or (bool(_PRONOUN.match(s.text)) and 0 <= s.lead <= 3 and own)
    if not about or _RULE.search(" ".join(s.text.split()[:12])):
        return 0.0
    return 1.0 if own else 0.5


def _within(s: Sentence, period: tuple[date, date] | None) -> float:
    """1 for a sentence of a document dated in the period, or one that names the period's year when
    the period is a whole year ("the rate for 2026", in a notice of 2025)."""
    if period is None:
        return 0.0
    if s.date is not None and period[0] <= s.date.date() <= period[1]:
        return 1.0
    year = period[0].year
    whole_year = period == (date(year, 1, 1), date(year, 12, 31))
    return float(whole_year and re.search(rf"\b{year}\b", s.text) is not None)


def _embedded(found: Sequence[Sentence], embedder: Embedder) -> list[Sentence]:
    """The sentences with their vectors, embedding only those that have none yet."""
    missing = [s for s in found if s.vectors is None]
    if not missing:
        return list(found)
    vectors = embedder.embed([*(s.text for s in missing), *(s.ranked_text for s in missing)])
    made = {id(s): (vectors[i], vectors[len(missing) + i]) for i, s in enumerate(missing)}
    return [replace(s, vectors=made[id(s)]) if s.vectors is None else s for s in found]


def wants(question: str) -> bool:
    """The question asks for a kind of answer (a date, a number, a reason, a name)."""
    return any(asks.search(question) for asks, _ in _WANTS)


def gives(question: str, sentence: str) -> bool:
    return bool(_gives(question, sentence))


def _gives(question: str, sentence: str) -> float:
    """1 when the question asks for a kind of answer and the sentence has one of that kind."""
    for asks, gives in _WANTS:
        if asks.search(question):
            return float(bool(gives.search(sentence)))
    return 0.0


def _bm25(found: Sequence[Sentence], questions: Sequence[str]) -> np.ndarray:
    """BM25 of each sentence for each question, each column scaled to its best sentence (0..1)."""
    index = Lexical.build([tokenize(s.text) for s in found])
    columns = []
    for question in questions:
        scores = index.scores(question)
        if scores is None or scores.max() <= 0:
            columns.append(np.zeros(len(found)))
        else:
            columns.append(np.asarray(scores, dtype=float) / float(scores.max()))
    return np.stack(columns, axis=1)


def newest_only(ranked: Sequence[Sentence], embedder: Embedder, margin: float,
                topics: dict[tuple[str, str], float] | None = None) -> list[Sentence]:
    """For a question about now: drop each sentence that a sentence from a newer document ranks
    within `margin` of, where the two sentences, or their documents' passages (`topics`: document
    pair -> cosine, from `topics_of`), speak of the same thing: the older one is superseded ("must
    boil tap water" by "the advisory was lifted", whose sentences differ but whose notices are about
    one thing). Alike sentences in passages about different things (below `RELATED_TOPIC`)
    supersede nothing."""
    if len(ranked) < 2:
        return list(ranked)
    ranked = _embedded(ranked, embedder)
    vectors = np.stack([s.vectors[0] for s in ranked])
    sims = vectors @ vectors.T
    topic = topics or {}
    kept = []
    for i, s in enumerate(ranked):
        superseded = any(
            o.doc_id != s.doc_id and _newer(o, s) and o.score >= s.score - margin
            and (sims[i, j] >= SAME_THING and topic.get((s.doc_id, o.doc_id), 1.0) >= RELATED_TOPIC
                 or (sims[i, j] >= NEAR_THING and topic.get((s.doc_id, o.doc_id), 0.0) >= SAME_TOPIC))
            for j, o in enumerate(ranked) if j != i)
        if not superseded:
            kept.append(s)
    return kept


def topics_of(passages: dict[str, str], embedder: Embedder) -> dict[tuple[str, str], float]:
    """Cosine of each pair of documents' passages (document id -> its text)."""
    ids = list(passages)
    if len(ids) < 2:
        return {}
    vectors = embedder.embed([passages[d] for d in ids])
    sims = vectors @ vectors.T
    return {(a, b): float(sims[i, j]) for i, a in enumerate(ids) for j, b in enumerate(ids) if i != j}


def _newer(a: Sentence, b: Sentence) -> bool:
    return a.date is not None and b.date is not None and a.date.date() > b.date.date()
