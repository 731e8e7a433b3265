"""An answer as claims (its sentences) with the sources they cite, and the exact check of each:
every number, date and name a claim states must appear in a source it cites. Tool results are
sources like documents (a math answer backs "37 x 91 = 3367")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tansuo.core.sources import SourceBook, content_words, markers, sentences
from tansuo.verifiers.facts import Facts, facts

_MARKERS = re.compile(r"\s?\[\d{1,3}\]")
_NONE = Facts(frozenset(), frozenset(), frozenset())
MIN_WORDS = 3  # a sentence with fewer content words and no facts states nothing to check ("Hello!")


@dataclass(frozen=True)
class ClaimCheck:
    claim: str  # the sentence without its markers
    cited: tuple[int, ...]
    missing: tuple[str, ...]  # facts no cited source contains, e.g. "number 2777"
    backed_by: tuple[int, ...] = ()  # other sources that contain every fact (for re-pointing)
    has_facts: bool = True
    missing_by: dict[int, tuple[str, ...]] = field(default_factory=dict, compare=False)  # per source

    @property
    def supported(self) -> bool:
        return not self.missing

    def missing_from(self, numbers: Sequence[int]) -> tuple[str, ...]:
        """Facts that none of these sources contains."""
        if not numbers:
            return self.missing_by.get(0, ())
        sets = [set(self.missing_by.get(n, ())) for n in numbers]
        return tuple(sorted(set.intersection(*sets)))


def check_claims(answer: str, book: SourceBook, *, all_claims: bool = False) -> list[ClaimCheck]:
    """One check per sentence that states a fact; with `all_claims`, also per sentence of at least
    MIN_WORDS content words (its support is then a matter of wording, not exact facts)."""
    known = {item.source.n: _source_facts(item) for item in book.items}
    out = []
    for sentence in claim_sentences(answer):
        claim = _MARKERS.sub("", sentence).strip()
        stated = facts(claim)
        has_facts = bool(stated.numbers or stated.dates or stated.names)
        if not has_facts and not (all_claims and len(content_words(claim)) >= MIN_WORDS):
            continue
        cited = tuple(n for n in dict.fromkeys(markers(sentence)) if n in known)
        missing_by = {n: tuple(stated.missing_from(f)) for n, f in known.items()}
        missing_by[0] = tuple(stated.missing_from(_NONE))
        check = ClaimCheck(claim, cited, (), (), has_facts, missing_by)
        missing = check.missing_from(cited)
        backed = tuple(n for n in known if n not in cited and not missing_by[n]) if missing else ()
        out.append(ClaimCheck(claim, cited, missing, backed, has_facts, missing_by))
    return out


def _source_facts(item) -> Facts:
    """A source's facts: its title and text, and its date ("In 2024 parking cost ..." is backed by a
    notice dated 2024-01-15 whose text never says 2024)."""
    found = facts(f"{item.source.title}. {item.text}")
    if item.source.date is None:
        return found
    return Facts(found.numbers, found.dates | {item.source.date.date()}, found.names)


def claim_sentences(text: str) -> list[str]:
    """Sentences, never across a line break (a tool's result line ends without a full stop)."""
    return [s for line in text.splitlines() for s in sentences(line)]
