"""Writes questions.jsonl: questions over the dated news corpus (eval_sets/news) with their gold
document and the facts a right answer states, for `tansuo eval run qa-news`.

    python eval_sets/qa/build.py

Each line of ANSWERS: the factuality set's claim id (eval_sets/factuality/claims.jsonl gives the
question and the document), then the facts, separated by ";" (all must be stated), each with
alternatives separated by "/" (any one will do). Facts are compared as whole words after
lower-casing, with "1,000" read as "1000".
"""

import json
from pathlib import Path

ANSWERS = """
f01 | dry dock/hull inspection
f02 | 06:40
f03 | 4.50
f04 | 5.20
f05 | roof/storm
f06 | 21:00
f07 | Ingrid Solberg
f08 | Tomas Berg
f09 | Brugata; Elvparken
f10 | 30 May/reopened
f11 | E. coli/pipe
f12 | 9 July/ended
f13 | 2.00/2 EUR
f14 | 2.80
f15 | 12/September
f16 | 3/October
f17 | 2 cubic/2 m
f18 | 09:00/Saturday
f19 | first Sunday
f20 | 12 EUR/12
f21 | 8 April/09:00
f22 | 2.4
f23 | 17; 21 February
f24 | 10:00; 20:00
f25 | two visitors/2 visitors/two/2
f26 | crane
f27 | metal fatigue/fatigue
f28 | 5 June
f29 | dropped/cancelled/canceled/refund
f30 | 0.45
f31 | 0.52
f32 | pothole
f33 | ticket
f34 | four hours/4 hours
f35 | Pier 4
f36 | 4 October/Town Square
f37 | 50
f38 | Amira Haddad
f39 | landslide
f40 | single lane/one lane/29 September
f41 | both lanes/weight limit
f42 | 30 EUR/30
f43 | libraries/library
f44 | 48
f45 | 61
f46 | The Lighthouse Keeper/Lighthouse Keeper
f47 | no longer/not allowed/banned
f48 | 102300/102,300
f49 | N2/00:30/hourly
f50 | stadium
f51 | Lena Dahl
f52 | 1.24
f53 | 10:00; 18:00
f54 | algae
f55 | 12 August/reopened
f56 | Wi-Fi/wifi
f57 | 30 June
f58 | 2029
f59 | no late fees/stopped charging/no longer
f60 | red panda
f61 | wildfire/smoke
f62 | 55
f63 | 49
f64 | 13 September 2027/2027
"""


def rows():
    claims = {}
    for line in (Path(__file__).parents[1] / "factuality" / "claims.jsonl").read_text().splitlines():
        if line.strip():
            c = json.loads(line)
            claims[c["id"]] = c
    for line in ANSWERS.strip().splitlines():
        cid, facts = (x.strip() for x in line.split("|"))
        claim = claims[cid]
        yield {"id": f"qa-{cid}", "category": "one document", "question": claim["question"],
               "documents": [claim["doc"]],
               "facts": [[alt.strip() for alt in fact.split("/")] for fact in facts.split(";")],
               "reference": claim["claim"]}


if __name__ == "__main__":
    out = Path(__file__).with_name("questions.jsonl")
    items = list(rows())
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    print(f"{out}: {len(items)} questions")
