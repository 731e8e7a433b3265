"""Whether each sentence of a shown answer is held by the sources it cites, by rule (no model, no
`verifiers/` code): a sentence's checkable facts are its numbers, dates, times and names; each must
appear in the text of a source the sentence cites, or in the question. A sentence with such facts
and no citation is unsupported; a sentence without them (a lead-in, "I found no answer") is not
checked."""

from __future__ import annotations

from dataclasses import dataclass

from tansuo.evals.reading import citations, dates, names, normal, numbers, sentences, states, strip_citations, times


@dataclass(frozen=True)
class SentenceCheck:
    sentence: str
    facts: tuple[str, ...]
    missing: tuple[str, ...]  # facts no cited source (nor the question) holds
    cited: tuple[int, ...]

    @property
    def supported(self) -> bool:
        return not self.missing


def facts_of(text: str) -> list[str]:
    """The checkable facts of a text, each as a phrase a source would state."""
    plain = strip_citations(text)
    out = [f.value.isoformat() for f in dates(plain)] + [str(f.value) for f in times(plain)]
    out += [_number_text(f.value) for f in numbers(plain)]
    out += sorted(names(plain))
    return list(dict.fromkeys(out))


def holds(text: str, fact: str) -> bool:
    """`text` states `fact` (dates in any spelling, numbers with or without thousands commas)."""
    if len(fact) == 10 and fact[4] == "-" and fact[7] == "-":
        return fact in {f.value.isoformat() for f in dates(text)}
    if fact.replace(".", "", 1).replace("-", "", 1).isdigit():
        return any(_number_text(f.value) == fact for f in numbers(text)) or states(text, fact)
    if ":" in fact:
        return fact in {str(f.value) for f in times(text)}
    return fact in normal(text)


def check(answer: str, sources: dict[int, str], question: str = "") -> list[SentenceCheck]:
    """Each sentence of `answer` with its facts and those its cited sources do not hold."""
    out = []
    for sentence in sentences(answer):
        cited = tuple(dict.fromkeys(citations(sentence)))
        texts = [sources[n] for n in cited if n in sources]
        found = facts_of(sentence)
        missing = tuple(f for f in found if not holds(question, f) and not any(holds(t, f) for t in texts))
        out.append(SentenceCheck(sentence, tuple(found), missing, cited))
    return out


def unsupported(answer: str, sources: dict[int, str], question: str = "") -> list[SentenceCheck]:
    return [c for c in check(answer, sources, question) if not c.supported]


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
