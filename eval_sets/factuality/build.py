"""Builds items.jsonl, the labelled factuality set, from claims.jsonl and the news corpus.

Each correct claim (written for this set, paraphrasing one news document) becomes one correct item
and up to four items with a planted error: a changed number, a changed date, a changed name, and
a citation of the wrong source. Every item's sources are the claim's document and its two
neighbours in the corpus (often the same story at another time: the hardest distractors). The
output is deterministic; run `python eval_sets/factuality/build.py` after editing claims.jsonl.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from verifiers.facts import _NUMBER, _blank, facts, find_dates  # noqa: E402

NAME_POOL = ["Tomas Berg", "Lena Dahl", "Siri Holm", "Jonas Eide", "Olav Lunde", "Amira Haddad", "Ingrid Solberg",
             "Storgata", "Kirkegata", "Lindeveien", "Nordic Wings", "Harbour Hall", "Eastside", "Northgate"]


def _pick(key: str, options: list[str]) -> str:
    return options[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(options)]


def change_number(claim: str) -> str | None:
    _, spans = find_dates(claim)
    rest = _blank(claim, spans)
    for m in _NUMBER.finditer(rest):
        raw = m.group()
        if "." in raw:
            whole, frac = raw.split(".")
            new = f"{whole}.{(int(frac) + 30) % (10 ** len(frac)):0{len(frac)}d}"
        else:
            digits = raw.replace(",", "")
            number = int(digits)
            value = number + (1 if 1900 <= number <= 2100 else 3 if number < 1000 else number // 10)  # years: +1
            new = f"{value:,}" if "," in raw else f"{value:0{len(digits)}d}"
        return claim[:m.start()] + new + claim[m.end():]
    return None


def change_date(claim: str) -> str | None:
    _, spans = find_dates(claim)
    if not spans:
        return None
    start, end = spans[0]
    text = claim[start:end]
    day = re.search(r"\b(\d{1,2})\b", text)
    if day is None:
        return None
    value = int(day.group(1))
    new = value + 3 if value <= 25 else value - 3
    return claim[:start] + text[:day.start()] + str(new) + text[day.end():] + claim[end:]


def change_name(claim: str, key: str, source_text: str) -> str | None:
    names = sorted((n for n in facts(claim).names if n in source_text and not n.isupper()), key=lambda n: (-len(n), n))
    if not names:
        return None
    old = names[0]
    new = _pick(key, [n for n in NAME_POOL if n not in source_text and n != old])
    return claim.replace(old, new, 1)


def main() -> None:
    docs = [json.loads(line) for line in (HERE.parent / "news" / "documents.jsonl").read_text().splitlines()]
    index = {d["id"]: i for i, d in enumerate(docs)}
    items = []
    for line in (HERE / "claims.jsonl").read_text().splitlines():
        c = json.loads(line)
        i = index[c["doc"]]
        sources = [c["doc"], docs[i - 1]["id"], docs[(i + 1) % len(docs)]["id"]]
        order = sorted(sources, key=lambda s: hashlib.sha1(f"{c['id']}{s}".encode()).hexdigest())
        right, wrong = order.index(c["doc"]) + 1, order.index(sources[1]) + 1
        source_text = docs[i]["title"] + " " + docs[i]["text"]
        variants = [("correct", c["claim"], right), ("number", change_number(c["claim"]), right),
                    ("date", change_date(c["claim"]), right),
                    ("name", change_name(c["claim"], c["id"], source_text), right),
                    ("citation", c["claim"], wrong)]
        for kind, claim, n in variants:
            if claim is None or (kind != "correct" and kind != "citation" and claim == c["claim"]):
                continue
            answer = claim[:-1] + f" [{n}]." if claim.endswith(".") else f"{claim} [{n}]"
            items.append({"id": f"{c['id']}-{kind}", "kind": kind, "question": c["question"], "sources": order,
                          "answer": answer, "label": "supported" if kind == "correct" else "unsupported"})
    out = HERE / "items.jsonl"
    out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
    kinds = {}
    for x in items:
        kinds[x["kind"]] = kinds.get(x["kind"], 0) + 1
    print(f"{len(items)} items -> {out}: {kinds}")


if __name__ == "__main__":
    main()
