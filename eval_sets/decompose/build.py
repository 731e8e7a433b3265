"""Writes questions.jsonl: tasks in several dependent parts, each with the sub-questions a good plan
asks (its gold decomposition), for `tansuo eval run decompose`.

    python eval_sets/decompose/build.py

Each block: the category line `# category`, then one task per line as
`id | task | sub-question; sub-question; ...` (in the order a plan would ask them; later ones may
use earlier answers). Written for this project: about the news corpus (eval_sets/news) and general
knowledge.
"""

import json
from pathlib import Path

TASKS = """
# comparison
d01 | Did an adult single swim cost more in 2024 or in 2025, and by how much? | What did an adult single swim cost in 2024?; What does an adult single swim cost in 2025?; What is the difference between the two prices?
d02 | Is a monthly bus pass cheaper now than it was in 2024? | What did a monthly bus pass cost in 2024?; What does a monthly bus pass cost now?
d03 | Which costs more per year: the dog licence or twelve hours of downtown parking? | How much is the annual dog licence fee?; What does an hour of downtown parking cost?; What do twelve hours of parking cost?
d04 | Which is taller, Mount Everest or K2, and by how many metres? | How tall is Mount Everest?; How tall is K2?; What is the difference in height?
d05 | Which city has more inhabitants, Oslo or Copenhagen? | What is the population of Oslo?; What is the population of Copenhagen?
d06 | Was the Eiffel Tower finished before or after the Statue of Liberty was dedicated? | When was the Eiffel Tower finished?; When was the Statue of Liberty dedicated?
d07 | Which river is longer, the Nile or the Amazon? | How long is the Nile?; How long is the Amazon?
d08 | Has the stadium renovation estimate grown by more than 20 percent? | What was the first stadium renovation estimate?; What is the latest stadium renovation estimate?; By what percentage did the estimate grow?
d09 | Who is older, the author of Pride and Prejudice or the author of Frankenstein? | Who wrote Pride and Prejudice?; Who wrote Frankenstein?; When was each author born?
d10 | Is the property tax rate for 2026 higher than for 2025? | What is the property tax rate for 2025?; What is the property tax rate for 2026?
# sequential
d11 | How old was the first person to walk on the Moon when he did it? | Who was the first person to walk on the Moon?; When did he walk on the Moon?; When was he born?
d12 | What is the capital of the country where the Mona Lisa's painter was born? | Who painted the Mona Lisa?; In which country was he born?; What is the capital of that country?
d13 | Who succeeded the mayor who resigned in 2025, and when does the council vote on a successor? | Which mayor resigned in 2025?; Who is acting mayor?; When will the council vote on a successor?
d14 | What is the speed limit on the road where the new speed cameras are installed? | Where are the new speed cameras installed?; What is the speed limit on that road?
d15 | Which play opens the theatre season, and who wrote it? | Which play opens the theatre season?; Who is the author of that play?
d16 | What is the field of the university's new rector, and whom did she succeed? | Who is the new university rector?; What is her field?; Whom did she succeed?
d17 | What currency is used in the country that hosted the 2016 Summer Olympics? | Which country hosted the 2016 Summer Olympics?; What currency does that country use?
d18 | Who was president of the United States when the Berlin Wall fell? | When did the Berlin Wall fall?; Who was US president at that time?
d19 | What language is spoken in the country with the largest population in South America? | Which South American country has the largest population?; What language is spoken there?
d20 | Where will the tram line end, and when will it open? | Where does the tram line run to?; When will the tram line open?
# parallel parts
d21 | What are the opening hours of the recycling centre and of the Main Library? | What are the opening hours of the recycling centre?; What are the opening hours of the Main Library?
d22 | When is the school winter break, and when is the next municipal election? | When is the school winter break?; When is the next municipal election?
d23 | Tell me the population of Halden and the size of its 2026 budget. | What is the population of Halden?; What is Halden's 2026 budget?
d24 | What do students pay for the museum, the theatre and the monthly bus pass? | What do students pay for the City Museum?; What do students pay at the theatre?; What do students pay for a monthly bus pass?
d25 | What are the capitals of Canada, Australia and Brazil? | What is the capital of Canada?; What is the capital of Australia?; What is the capital of Brazil?
d26 | Who won the women's and the men's marathon, and in what times? | Who won the women's marathon and in what time?; Who won the men's marathon and in what time?
d27 | What happened to the Skerry ferry and to the Reykjavik flights? | What happened to the Skerry ferry?; What happened to the Reykjavik flights?
d28 | Give me the boiling point of water and the freezing point of water in Fahrenheit. | What is the boiling point of water in Fahrenheit?; What is the freezing point of water in Fahrenheit?
d29 | Why was the harbour bath closed and why was there an air quality alert? | Why was the harbour bath closed?; Why was there an air quality alert?
d30 | Who wrote Hamlet, and who wrote Don Quixote? | Who wrote Hamlet?; Who wrote Don Quixote?
# calculation
d31 | How much would a family of two adults and two children pay for one swim each? | What does an adult swim cost?; What does a child swim cost?; What is two adult prices plus two child prices?
d32 | How many days passed between the landslide on Fjord Road and its full reopening? | When did the landslide close Fjord Road?; When was Fjord Road fully reopened?; How many days are between those dates?
d33 | How much does a year of monthly bus passes cost at today's price? | What does a monthly bus pass cost now?; What is twelve times that price?
d34 | How many kilometres of tram line are there per stop? | How long is the tram line?; How many stops will it have?; What is the length divided by the number of stops?
d35 | How many years will pass between the start of tram construction and its opening? | When did tram construction begin?; When will the tram open?; How many years are between them?
d36 | How much did Halden's population grow in 2024 in people? | What was Halden's population at the end of 2024?; By what percentage did it grow?; How many people is that?
d37 | What is the total cost of two theatre tickets for adults and one for a student? | What does an adult theatre ticket cost?; What does a student theatre ticket cost?; What is the total for two adults and one student?
d38 | How many hours is the recycling centre open on a Saturday? | When does the recycling centre open on Saturdays?; When does it close on Saturdays?; How many hours is that?
d39 | What is the area of a circle whose radius is the length of the cycle lane in kilometres? | How long is the Harbour Road cycle lane?; What is the area of a circle with that radius?
d40 | If the stadium estimate keeps rising at the same rate, what would it be after another rise? | What was the first stadium estimate?; What is the latest estimate?; What would the next estimate be at the same growth?
"""


def rows():
    category = ""
    for line in TASKS.strip().splitlines():
        if line.startswith("#"):
            category = line.lstrip("# ").strip()
            continue
        qid, task, subs = (x.strip() for x in line.split("|"))
        yield {"id": qid, "category": category, "question": task,
               "sub_questions": [s.strip() for s in subs.split(";") if s.strip()]}


if __name__ == "__main__":
    out = Path(__file__).with_name("questions.jsonl")
    items = list(rows())
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    print(f"{out}: {len(items)} tasks")
