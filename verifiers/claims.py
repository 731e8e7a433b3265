"""An answer as claims (its sentences) with the sources they cite, and the exact check of each:
every number, date and name a claim states must appear in a source it cites. Tool results are
sources like documents (a math answer backs "37 x 91 = 3367")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.sources import SourceBook, markers, sentences
from verifiers.facts import Facts, facts

_MARKERS = re.compile(r"\s?\[\d{1,3}\]")


@dataclass(frozen=True)
class ClaimCheck:
    claim: str  # the sentence without its markers
    cited: tuple[int, ...]
    missing: tuple[str, ...]  # facts no cited source contains, e.g. "number 2777"
    backed_by: tuple[int, ...] = ()  # other sources that contain every fact (for re-pointing)

    @property
    def supported(self) -> bool:
        return not self.missing


def check_claims(answer: str, book: SourceBook) -> list[ClaimCheck]:
    """One check per sentence that states a fact; sentences with none (greetings, hedges) are skipped."""
    known = {item.source.n: facts(f"{item.source.title}. {item.text}") for item in book.items}
    out = []
    for sentence in sentences(answer):
        claim = _MARKERS.sub("", sentence).strip()
        stated = facts(claim)
        if not (stated.numbers or stated.dates or stated.names):
            continue
        cited = tuple(n for n in dict.fromkeys(markers(sentence)) if n in known)
        missing = _missing(stated, [known[n] for n in cited])
        backed = tuple(n for n, f in known.items() if n not in cited and not stated.missing_from(f)) if missing else ()
        out.append(ClaimCheck(claim, cited, tuple(missing), backed))
    return out


def _missing(stated: Facts, sources: list[Facts]) -> list[str]:
    """Facts that no cited source contains (all of them when nothing is cited)."""
    if not sources:
        return stated.missing_from(Facts(frozenset(), frozenset(), frozenset()))
    per_source = [set(stated.missing_from(f)) for f in sources]
    return sorted(set.intersection(*per_source))
