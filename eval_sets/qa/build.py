"""Writes questions.jsonl: questions over the dated news corpus (eval_sets/news) with their gold
documents and the facts a right answer states, for `tansuo eval run qa-news`.

    python eval_sets/qa/build.py

Three categories:
- "one document": each line of ANSWERS is the factuality set's claim id (eval_sets/factuality/
  claims.jsonl gives the question and the document), then the facts;
- "newest of conflicting": NEWEST, questions about the present whose answer is only in the newest
  document of a chain (the older ones, listed as `superseded`, say something else);
- "several documents": SEVERAL, questions whose facts come from two or more documents, every one of
  which the answer must cite.
Facts are separated by ";" (all must be stated), each with alternatives separated by "/" (any one
will do); they are compared as whole words after lower-casing, with "1,000" read as "1000".
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
f32 | potholes/pothole
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
f60 | red pandas/red panda
f61 | wildfire/smoke
f62 | 55
f63 | 49
f64 | 13 September 2027/2027
"""

# id | newest document | superseded documents | question | facts
NEWEST = """
r01 | n02 | n01 | How many ferry departures to Skerry island are there each day now? | six/6
r02 | n02 | n01 | Is there still a replacement water taxi to Skerry, or is the ferry back? | 10 February/six/06:40
r03 | n04 | n03 | What does a ten-swim card cost at the aquatic centre today? | 46
r04 | n04 | n03 | Why did swimming at the aquatic centre get more expensive? | energy
r05 | n06 | n05 | Is the Main Library on Kirkegata open on Sundays these days? | 10:00; 16:00
r06 | n06 | n05 | Can I go to the Main Library again, or is it still closed for the roof repair? | 22 April/reopened
r07 | n08 | n07 | Who runs the city now that the mayor has left? | Tomas Berg/Berg
r08 | n08 | n07 | Why did Ingrid Solberg leave office? | health
r09 | n08 | n07 | When will the council vote on a new mayor? | September
r10 | n10 | n09 | Does bus line 7 serve its usual stops again? | 30 May/normal route/again stops
r11 | n10 | n09 | Is the Elv Bridge resurfacing finished? | 30 May/ahead of schedule/finished
r12 | n12 | n11 | Do Eastside residents still need to boil their tap water? | lifted/9 July
r13 | n12 | n11 | Has the broken pipe on Lindeveien been fixed? | replaced
r14 | n14 | n13 | Do I have to pay for downtown street parking on Saturdays now? | 10:00; 16:00
r15 | n14 | n13 | Until what time is downtown parking charged on weekdays at present? | 20:00
r16 | n16 | n15 | When does the Halden Tech Festival take place after the change? | October
r17 | n16 | n15 | Can I get my money back for a tech festival ticket bought for September? | 1 September/refunded/refund
r18 | n16 | n15 | Why was the tech festival moved? | fire-safety/fire safety
r19 | n18 | n17 | On which days does the recycling centre take hazardous waste now? | every day
r20 | n18 | n17 | What are the recycling centre's opening hours on Saturdays? | 14:00
r21 | n20 | n19 | Is entry to the City Museum still free on the first Sunday of the month? | May 2025/ends/runs out
r22 | n20 | n19 | What do students pay for the City Museum? | 6 EUR/6
r23 | n25 | n24 | Are there limits on hospital visitors at the moment? | two/2
r24 | n25 | n24 | Should I visit someone in hospital if I have flu symptoms? | stay home
r25 | n27 | n26 | What did the investigation find about the harbour crane? | metal fatigue/fatigue
r26 | n27 | n26 | What will happen to the other cranes of the model that collapsed? | replace/2026
r27 | n29 | n28 | Can I fly from Halden to Reykjavik with Nordic Wings this summer? | cancelled/canceled
r28 | n29 | n28 | How will passengers with Reykjavik bookings get their money back? | 14 days/automatically
r29 | n31 | n30 | What property tax rate will homeowners pay in 2026? | 0.52
r30 | n31 | n30 | Below what value are homes exempt from property tax in 2026? | 175,000/175000
r31 | n33 | n32 | Which version of the city app lets me pay for bus tickets? | 2.3
r32 | n33 | n32 | Will version 2.0 of the city app keep getting updates? | end of 2025/stop
r33 | n36 | n35 | Where is the Saturday farmers market held now? | Town Square
r34 | n36 | n35 | How many vendors fit under the new roofed stalls on Town Square? | 40
r35 | n41 | n39, n40 | Can heavy trucks use Fjord Road again? | removed
r36 | n41 | n39, n40 | Is Fjord Road still down to one lane? | both lanes
r37 | n41 | n39, n40 | How was the slope above Fjord Road secured? | rock bolts/netting
r38 | n45 | n44 | What is the latest cost estimate for the stadium renovation? | 61
r39 | n45 | n44 | Why did the stadium renovation get more expensive? | steel/redesigned roof
r40 | n55 | n53, n54 | Can I swim at the harbour bath at Pier 1 now? | reopened/12 August
r41 | n55 | n53, n54 | Until when are lifeguards on duty at the harbour bath this season? | 31 August
r42 | n58 | n57 | When is the tram line expected to open now? | 2029
r43 | n58 | n57 | Why is the tram opening delayed? | archaeological
r44 | n63 | n62 | What does a monthly bus pass cost for students now? | 29
r45 | n63 | n62 | Why did the monthly bus pass get cheaper? | climate
"""

# id | documents | question | facts (each from a different document)
SEVERAL = """
s01 | n03, n04 | What did a ten-swim card cost before and after the March 2025 price change? | 40; 46
s02 | n13, n14 | Until what time was weekday parking paid in 2024, and until when is it paid now? | 18:00; 20:00
s03 | n62, n63 | What did students pay for a monthly bus pass in 2024, and what do they pay in 2025? | 33; 29
s04 | n44, n45 | What was the first stadium renovation estimate and what is it now? | 48; 61
s05 | n05, n06 | On which dates did the Main Library close for the roof repair and reopen? | 18 November; 22 April
s06 | n01, n02 | Between which dates was the Skerry ferry out of service? | 8 January; 10 February
s07 | n11, n12 | What contaminated the water in Eastside, and when was the advisory lifted? | E. coli; 9 July
s08 | n07, n08 | Why did the mayor resign in 2025, and with how many votes had she been elected? | health; 27
s09 | n26, n27 | On what day did the harbour crane collapse, and what caused it? | 19 March; metal fatigue/fatigue
s10 | n28, n29 | What fares had been announced for the Reykjavik flights, and why was the route cancelled? | 89; bookings
s11 | n30, n31 | Below what home values was property tax waived for 2025 and for 2026? | 150,000/150000; 175,000/175000
s12 | n15, n16 | How much were early-bird tickets for the tech festival, and in which month is it held now? | 60; October
s13 | n17, n18 | When does the recycling centre close on weekdays and on Saturdays? | 16:00; 14:00
s14 | n19, n20 | When did the free museum Sundays start, and when did they end? | October 2024; May 2025
s15 | n24, n25 | Since when has the hospital had its 10:00 to 20:00 visiting hours, and how many visitors may a patient have during flu season? | 1 December 2024; two/2
s16 | n32, n33 | Which phone systems does the city app need, and what did version 2.3 add? | Android 10/iOS 15; ticket
s17 | n35, n36 | Where was the farmers market during the Town Square renovation, and when did it return? | Pier 4; 4 October
s18 | n39, n40 | How much time did the detour over Høgda add, and when did Fjord Road reopen with one lane? | 25 minutes; 29 September
s19 | n40, n41 | Which vehicles were banned from Fjord Road after the landslide, and is that ban still in force? | 12 tonnes; removed
s20 | n53, n55 | When are lifeguards at the harbour bath, and when did it reopen after the algae closure? | 10:00; 12 August
s21 | n57, n58 | How long will the tram line be, and in which year will it open? | 7 kilometre/7 km; 2029
s22 | n57, n58 | How many stops will the tram have, and what is its budget? | 12 stops/12; 410
s23 | n09, n10 | Which street did bus line 7 use during the detour, and when did the bridge reopen? | Storgata; 30 May
s24 | n50, n51 | Where did the 2025 Halden Marathon finish, and who won the women's race? | stadium; Lena Dahl
s25 | n50, n51 | When were the harbour roads closed for the marathon, and what was the men's winning time? | 07:00; 2:14:48
s26 | n22, n56 | How long is the Harbour Road cycle lane, and how many city buses have free Wi-Fi? | 2.4; 84
s27 | n37, n49 | What is the new speed limit on Ring Road, and which night bus goes to the airport? | 50; N2
s28 | n60, n46 | Which animals came to Halden Zoo in 2025, and which play opens the theatre season? | red pandas/red panda; Lighthouse Keeper
s29 | n42, n47 | How much is the dog licence fee, and where are rental e-scooters banned? | 30; Old Town
s30 | n48, n52 | What was Halden's population at the end of 2024, and how large is the 2026 budget? | 102300/102,300; 1.24
s31 | n38, n64 | Who is the university rector, and when are the next municipal elections? | Amira Haddad; 2027
s32 | n23, n21 | When does the 2025 school winter break start, and on which day is the Northgate power cut? | 17; 8 April
s33 | n43, n61 | Where are the cooling centres during the heat warning, and who should avoid outdoor exercise in the smoke alert? | libraries/library; asthma
s34 | n34, n53 | How quickly are bus routes cleared of snow, and how often is the harbour bath's water tested? | four hours/4 hours; twice a week
s35 | n59, n06 | Do the libraries still charge late fees, and how late is the Main Library open on weekdays? | no longer/no late fees; 21:00
s36 | n02, n49 | When does the first ferry to Skerry leave, and when does the first night bus to the airport run? | 06:40; 00:30
s37 | n03, n62 | What does a child pay for a swim, and what did students pay for a monthly bus pass in 2024? | 2.00/2 EUR; 33
s38 | n14, n63 | What does an hour of downtown parking cost now, and what does a monthly adult bus pass cost? | 2.80; 49
s39 | n20, n46 | What do students pay at the City Museum and at the theatre? | 6 EUR/6; 20 EUR/20
s40 | n27, n58 | What caused the crane collapse, and why is the tram delayed? | metal fatigue/fatigue; archaeological
s41 | n16, n45 | Why was the tech festival postponed, and why did the stadium estimate rise? | fire-safety/fire safety; steel
s42 | n04, n63 | Why did swim prices go up, and why did the bus pass get cheaper? | energy; climate
s43 | n12, n55 | When was the Eastside boil-water advisory lifted, and when did the harbour bath reopen? | 9 July; 12 August
s44 | n16, n29 | Until when can tech festival tickets be refunded, and how soon are Reykjavik bookings refunded? | 1 September; 14 days
s45 | n31, n52 | What will the property tax rate be in 2026, and what share of the 2026 budget goes to schools? | 0.52; 31
"""


def facts_of(text: str) -> list[list[str]]:
    return [[alt.strip() for alt in fact.split("/")] for fact in text.split(";")]


def ids(text: str) -> list[str]:
    return [d.strip() for d in text.split(",") if d.strip()]


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
               "documents": [claim["doc"]], "facts": facts_of(facts), "reference": claim["claim"]}
    for line in NEWEST.strip().splitlines():
        qid, newest, older, question, facts = (x.strip() for x in line.split("|"))
        yield {"id": f"qa-{qid}", "category": "newest of conflicting", "question": question,
               "documents": [newest], "superseded": ids(older), "facts": facts_of(facts)}
    for line in SEVERAL.strip().splitlines():
        qid, docs, question, facts = (x.strip() for x in line.split("|"))
        yield {"id": f"qa-{qid}", "category": "several documents", "question": question,
               "documents": ids(docs), "facts": facts_of(facts)}


def check(items: list[dict]) -> None:
    """Every fact must be stated in the question's gold documents, by the scorer's own matching."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[2]))
    from evals.qa_sets import states

    docs = {}
    for line in (Path(__file__).parents[1] / "news" / "documents.jsonl").read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            docs[d["id"]] = f"{d['title']}. {d['text']}"
    for item in items:
        text = " ".join(docs[d] for d in item["documents"])
        missing = [f for f in item["facts"] if not states(text, f)]
        if missing:
            raise SystemExit(f"{item['id']}: {missing} not in {item['documents']}")


if __name__ == "__main__":
    out = Path(__file__).with_name("questions.jsonl")
    items = list(rows())
    check(items)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    print(f"{out}: {len(items)} questions")
