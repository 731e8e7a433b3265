"""Builds items.jsonl, the labelled factuality set, from claims.jsonl, natural.jsonl and the news
corpus, with rules of its own: nothing here uses `verifiers/` code (the code the set measures), so
an error it plants is not one the verifier was written to find.

Planted items, from each correct claim (written for this set, paraphrasing one news document):
- `correct`: the claim, citing its document;
- `number`: the claim's first number (not a date or a time) changed by this script's rule
  (a year minus 1; below 10 doubled; otherwise times 1.5, decimals kept);
- `swap`: the claim's first name (else date, else time) replaced by one that another document's
  claim states and the claim's own document does not;
- `citation`: the claim citing a neighbouring document instead of its own.
Natural items, from natural.jsonl (answers the model wrote to the qa-news questions): labelled by
rule against the gold facts and the cited documents: `natural-unsupported` when the answer states a
number, date, time or name that none of its cited documents (nor the question) holds;
`natural-supported` when it states every gold fact and every such fact of it is held; other answers
(true to their sources but not stating the gold facts) are left out.
Every planted item's sources are the claim's document and its two neighbours in the corpus (often
the same story at another time). Split: by hash of the question, like qa-news (a third dev).

    .venv/bin/python eval_sets/factuality/build.py
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from evals import claims  # noqa: E402
from evals.qa_sets import states  # noqa: E402
from evals.sets import hash_split  # noqa: E402

_MONTH = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"\b\d{{1,2}} (?:{_MONTH})(?: \d{{4}})?\b|\b(?:{_MONTH}) \d{{1,2}}(?:, \d{{4}})?\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_NUMBER = re.compile(r"(?<![\w.,:])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w:])|(?<![\w.,:])\d+(?:\.\d+)?(?![\w:])")
_NAME = re.compile(r"(?<=[a-z,;] )(?:[A-Z][\w'’-]+)(?: [A-Z][\w'’-]+)*")


def _pick(key: str, options: list[str]) -> str:
    return options[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(options)]


def _spans(pattern: re.Pattern, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def change_number(claim: str) -> str | None:
    taken = _spans(_DATE, claim) + _spans(_TIME, claim)
    for m in _NUMBER.finditer(claim):
        if any(a <= m.start() < b for a, b in taken):
            continue
        raw = m.group()
        value = float(raw.replace(",", ""))
        places = len(raw.split(".")[1]) if "." in raw else 0
        if places == 0 and 1900 <= value <= 2100:
            new = value - 1
        else:
            new = value * 2 if value < 10 else value * 1.5
        text = f"{new:,.{places}f}" if "," in raw else f"{new:.{places}f}"
        if text != raw:
            return claim[:m.start()] + text + claim[m.end():]
    return None


_NOT_NAMES = re.compile(rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?|{_MONTH}")


def facts_by_kind(text: str) -> dict[str, list[str]]:
    names = [m.group() for m in _NAME.finditer(text) if not _NOT_NAMES.fullmatch(m.group())]
    return {"name": names, "date": [m.group() for m in _DATE.finditer(text)],
            "time": [m.group() for m in _TIME.finditer(text)]}


def swap_fact(claim: str, key: str, own_text: str, others: list[str]) -> str | None:
    """The claim with its first name (else date, else time) replaced by one from another claim."""
    mine = facts_by_kind(claim)
    for kind in ("name", "date", "time"):
        if not mine[kind]:
            continue
        pool = sorted({f for text in others for f in facts_by_kind(text)[kind]
                       if f not in own_text and f not in claim})
        if pool:
            return claim.replace(mine[kind][0], _pick(key + kind, pool), 1)
    return None


def cite(claim: str, n: int) -> str:
    return claim[:-1] + f" [{n}]." if claim.endswith(".") else f"{claim} [{n}]"


def planted(docs: list[dict], rows: list[dict]) -> list[dict]:
    index = {d["id"]: i for i, d in enumerate(docs)}
    items = []
    for c in rows:
        i = index[c["doc"]]
        sources = [c["doc"], docs[i - 1]["id"], docs[(i + 1) % len(docs)]["id"]]
        order = sorted(sources, key=lambda s: hashlib.sha1(f"{c['id']}{s}".encode()).hexdigest())
        right, wrong = order.index(c["doc"]) + 1, order.index(sources[1]) + 1
        own = docs[i]["title"] + " " + docs[i]["text"]
        others = [r["claim"] for r in rows if r["doc"] != c["doc"]]
        variants = [("correct", c["claim"], right), ("number", change_number(c["claim"]), right),
                    ("swap", swap_fact(c["claim"], c["id"], own, others), right), ("citation", c["claim"], wrong)]
        for kind, claim, n in variants:
            if claim is None:
                continue
            items.append({"id": f"{c['id']}-{kind}", "kind": kind, "question": c["question"], "sources": order,
                          "answer": cite(claim, n), "label": "supported" if kind == "correct" else "unsupported"})
    return items


def natural(docs: list[dict], rows: list[dict], questions: dict[str, dict]) -> list[dict]:
    texts = {d["id"]: f"{d['title']}. {d['text']}" for d in docs}
    items = []
    for r in rows:
        sources = {n: texts[d] for n, d in enumerate(r["sources"], start=1)}
        bad = claims.unsupported(r["answer"], sources, r["question"])
        checked = [c for c in claims.check(r["answer"], sources, r["question"]) if c.facts]
        gold = questions[r["qa"]]["facts"]
        if bad:
            label = "unsupported"
        elif checked and all(states(r["answer"], alts) for alts in gold):
            label = "supported"
        else:
            continue  # true to its sources but not the gold answer, or nothing to check: not labelled
        items.append({"id": f"{r['qa']}-natural", "kind": f"natural-{label}", "question": r["question"],
                      "sources": r["sources"], "answer": r["answer"], "label": label})
    return items


def main() -> None:
    docs = [json.loads(line) for line in (HERE.parent / "news" / "documents.jsonl").read_text().splitlines()]
    read = lambda path: [json.loads(line) for line in path.read_text().splitlines() if line.strip()]  # noqa: E731
    questions = {q["id"]: q for q in read(HERE.parent / "qa" / "questions.jsonl")}
    items = planted(docs, read(HERE / "claims.jsonl"))
    if (HERE / "natural.jsonl").exists():
        items += natural(docs, read(HERE / "natural.jsonl"), questions)
    for item in items:
        item["split"] = hash_split(item["question"])
    out = HERE / "items.jsonl"
    out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
    kinds: dict[str, int] = {}
    for x in items:
        kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
    print(f"{len(items)} items -> {out}: {kinds}")


if __name__ == "__main__":
    main()
