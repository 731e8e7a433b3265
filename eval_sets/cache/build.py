"""Writes pairs.jsonl: question pairs labelled same meaning (a cache may serve one's answer for
the other) or different meaning (it must not). The guards and the default threshold were
written while reading the "dev" split's misses; "heldout" pairs were written afterwards.
Written for this project; `kind` says how a pair
differs: paraphrase, or order, number, date, negation, entity, topic (different meaning).

    .venv/bin/python eval_sets/cache/build.py
"""

import json
import sys
from pathlib import Path

# Same meaning: reworded, reordered, shortened, different register.
SAME = """
How many people live in Oslo? | What is the population of Oslo?
What is the capital of Australia? | Which city is Australia's capital?
Who wrote Pride and Prejudice? | Who is the author of Pride and Prejudice?
How tall is Mount Everest? | What is the height of Mount Everest?
When did the Berlin Wall fall? | In what year did the Berlin Wall come down?
What is the boiling point of water at sea level? | At what temperature does water boil at sea level?
How do I reverse a list in Python? | What's the way to reverse a Python list?
What does HTTP status 404 mean? | What is the meaning of the HTTP 404 status code?
How far is the Moon from the Earth? | What is the distance between the Earth and the Moon?
Who painted the Mona Lisa? | Which artist painted the Mona Lisa?
What is the speed of light? | How fast does light travel?
How do I install numpy? | What is the command to install numpy?
What is photosynthesis? | Can you explain what photosynthesis is?
How many bones are in the human body? | How many bones does an adult human have?
What language is spoken in Brazil? | Which language do people in Brazil speak?
What is the largest ocean on Earth? | Which ocean is the biggest on Earth?
Who discovered penicillin? | Who was the discoverer of penicillin?
How do I convert a string to an integer in Python? | In Python, how can I turn a string into an int?
What is the chemical symbol for gold? | Which chemical symbol does gold have?
When was the Eiffel Tower built? | In which year was the Eiffel Tower constructed?
What is the main ingredient of guacamole? | Guacamole is mainly made from what?
How long does it take to boil an egg? | How many minutes should I boil an egg?
What is the currency of Japan? | Which currency is used in Japan?
How does a vaccine work? | How do vaccines work?
What causes rain? | Why does it rain?
What is the tallest building in the world? | Which building is the tallest in the world?
How do I create a virtual environment in Python? | How can I make a Python virtual environment?
Who was the first person on the Moon? | Who first walked on the Moon?
What is the freezing point of water in Fahrenheit? | At how many degrees Fahrenheit does water freeze?
How do I sort a dictionary by value in Python? | Sorting a Python dict by its values: how?
What does DNA stand for? | What is DNA short for?
How many continents are there? | What is the number of continents?
What is the longest river in Africa? | Which river in Africa is the longest?
How do I undo the last git commit? | How can I revert my most recent git commit?
Who invented the telephone? | Who is credited with inventing the telephone?
What time zone is London in? | Which time zone does London use?
What is the square root of 144? | What's the square root of 144?
Convert 5 km to miles | How many miles is 5 km?
What is 15% of 200? | Calculate 15 percent of 200
What day of the week was 2024-02-29? | Which weekday was 29 February 2024?
How many days are there between 2025-01-01 and 2025-03-01? | Count the days from 2025-01-01 to 2025-03-01
What are the opening hours of the Halden library? | When is the Halden library open?
When will the Halden tram line open? | What is the opening date of the Halden tram line?
Who is the rector of the university? | Who is the university's rector?
How do I read a CSV file with pandas? | What's the pandas way to load a CSV file?
What is the difference between a list and a tuple in Python? | How do Python lists and tuples differ?
Why is the sky blue? | What makes the sky look blue?
How many legs does a spider have? | A spider has how many legs?
What is the population of Canada? | How many people live in Canada?
Which planet is closest to the Sun? | What planet is nearest to the Sun?
How do I center a div in CSS? | What is the way to center a div with CSS?
What is the GDP of Germany? | How large is Germany's GDP?
Who composed the Four Seasons? | Who is the composer of The Four Seasons?
What is the melting point of iron? | At what temperature does iron melt?
How do I check my Python version? | How can I find out which Python version I have?
What is machine learning? | Could you explain machine learning?
What is the atomic number of carbon? | Carbon has which atomic number?
How many players are on a football team? | How many players does a football side have on the field?
What is the capital of Canada? | Canada's capital city is what?
How do I make pancakes? | What is a recipe for pancakes?
What is the largest desert in the world? | Which desert is the biggest in the world?
When did World War II end? | In what year did the Second World War end?
What does CPU stand for? | What is the full form of CPU?
How do I exit vim? | How can I quit the vim editor?
What is an API? | Explain what an API is
How much does a blue whale weigh? | What is the weight of a blue whale?
Who is the author of 1984? | Who wrote the novel 1984?
What is the smallest country in the world? | Which country is the smallest in the world?
How do I split a string in Python? | In Python, how do I split a string?
What is the deepest point in the ocean? | Where is the deepest spot of the ocean?
What is the national animal of Scotland? | Which animal is Scotland's national animal?
How many hours of sleep does an adult need? | How much sleep should an adult get each night?
What is inflation? | Can you define inflation?
Who founded Microsoft? | Who were the founders of Microsoft?
What is the formula for the area of a circle? | How do you compute the area of a circle?
How do I merge two dictionaries in Python? | What is the way to combine two Python dicts?
What is the hottest planet in the solar system? | Which planet in our solar system is the hottest?
How old is the universe? | What is the age of the universe?
What is a black hole? | Explain black holes
Where is the Great Barrier Reef? | In which country is the Great Barrier Reef?
how many people live in oslo | Oslo population?
what is the capital of australia | capital of Australia
Please tell me who wrote Hamlet. | Who wrote Hamlet?
Hey, what's the boiling point of water? | What is the boiling point of water?
Is a whale bigger than an elephant? | Which is bigger, a whale or an elephant?
What is 37 times 91? | Multiply 37 by 91
What is the weather usually like in Lisbon in July? | How is Lisbon's weather in July, typically?
How do I delete a file in Python? | What's the Python code to remove a file?
What is the population of Tokyo? | How many residents does Tokyo have?
Who won the 2018 FIFA World Cup? | Which country won the FIFA World Cup in 2018?
What is the plural of cactus? | What's the plural form of the word cactus?
How do I list files in a directory with Python? | List the files of a folder in Python: how?
What is the half-life of carbon-14? | How long is the half-life of carbon 14?
What is the largest mammal? | Which mammal is the largest?
When was Python first released? | In which year did Python's first release come out?
How many teaspoons are in a tablespoon? | A tablespoon holds how many teaspoons?
What is the capital city of Kenya? | Which city is the capital of Kenya?
What does a mitochondrion do? | What is the function of mitochondria?
How do I make a HTTP request in Python? | How can I send an HTTP request from Python?
How many minutes are in a day? | What is the number of minutes in one day?
What is the official language of Austria? | Which language is official in Austria?
How do I calculate compound interest? | What is the formula for compound interest?
What year did the Titanic sink? | When did the Titanic sink?
What is the highest mountain in Africa? | Which mountain is the tallest in Africa?
How does a refrigerator keep food cold? | How do fridges cool food?
What is the meaning of the word ephemeral? | What does ephemeral mean?
Who was Albert Einstein? | Tell me about Albert Einstein
"""

# Different meaning: reads alike (often within cosine 0.9), asks something else.
DIFFERENT = """
order | Is Paris larger than Rome? | Is Rome larger than Paris?
order | Convert 5 km to miles | Convert 5 miles to km
order | Flights from Oslo to Bergen | Flights from Bergen to Oslo
order | Is a whale bigger than an elephant? | Is an elephant bigger than a whale?
order | Did Newton live before Einstein? | Did Einstein live before Newton?
order | How do I convert Celsius to Fahrenheit? | How do I convert Fahrenheit to Celsius?
order | Is Python faster than Java? | Is Java faster than Python?
order | Translate hello from English to French | Translate hello from French to English
order | Is the Nile longer than the Amazon? | Is the Amazon longer than the Nile?
order | Was Germany older than Italy as a state? | Was Italy older than Germany as a state?
order | Exchange rate from euro to dollar | Exchange rate from dollar to euro
order | Is silver more expensive than gold? | Is gold more expensive than silver?
order | Is Mars closer to the Sun than Earth? | Is Earth closer to the Sun than Mars?
order | Subtract 7 from 20 | Subtract 20 from 7
order | Divide 10 by 4 | Divide 4 by 10
order | Do cats live longer than dogs? | Do dogs live longer than cats?
order | Is tea healthier than coffee? | Is coffee healthier than tea?
order | Train from Paris to London | Train from London to Paris
number | What was the population of Oslo in 2023? | What was the population of Oslo in 2024?
number | Convert 5 km to miles | Convert 50 km to miles
number | What is 15% of 200? | What is 15% of 300?
number | What is the square root of 144? | What is the square root of 169?
number | What is 37 times 91? | What is 37 times 92?
number | Who won the 2018 FIFA World Cup? | Who won the 2014 FIFA World Cup?
number | What happened in 1989? | What happened in 1998?
number | How much is 100 dollars in euros? | How much is 1000 dollars in euros?
number | What is the boiling point of water at 2000 meters? | What is the boiling point of water at 3000 meters?
number | Python 3.11 new features | Python 3.12 new features
number | What is the tax rate for an income of 50,000 euros? | What is the tax rate for an income of 80,000 euros?
number | Who was president of the United States in 1990? | Who was president of the United States in 2000?
number | What is 2 to the power of 10? | What is 2 to the power of 20?
number | How many calories are in 2 eggs? | How many calories are in 3 eggs?
number | What is the area of a circle with radius 3? | What is the area of a circle with radius 4?
number | Convert 30 degrees Celsius to Fahrenheit | Convert 13 degrees Celsius to Fahrenheit
date | What day of the week was 2024-02-29? | What day of the week was 2024-03-29?
date | What happened on 3 March 2025? | What happened on 3 May 2025?
date | How many days are there between 2025-01-01 and 2025-03-01? | How many days are there between 2025-01-01 and 2025-04-01?
date | What was the weather in Oslo on 1 June 2024? | What was the weather in Oslo on 2 June 2024?
date | Which events are scheduled for 2026-12-24? | Which events are scheduled for 2026-12-31?
negation | Does numpy support float16 arrays? | Does numpy not support float16 arrays?
negation | Which foods are safe for dogs? | Which foods are not safe for dogs?
negation | Why does my code work? | Why doesn't my code work?
negation | Which countries use the euro? | Which countries don't use the euro?
negation | Can I take ibuprofen with food? | Can I take ibuprofen without food?
negation | Is it safe to drink tap water in Oslo? | Is it not safe to drink tap water in Oslo?
negation | Which planets have rings? | Which planets have no rings?
negation | Should I use async in this case? | Should I never use async in this case?
negation | What languages are statically typed? | What languages are not statically typed?
negation | Which trains stop at Halden? | Which trains don't stop at Halden?
negation | What vegetables grow in shade? | What vegetables never grow in shade?
negation | Is Pluto a planet? | Is Pluto not a planet?
negation | Which fields are required in the manifest? | Which fields are not required in the manifest?
negation | When is the library open? | When is the library not open?
entity | Who is the mayor of Oslo? | Who is the mayor of Bergen?
entity | What is the capital of Austria? | What is the capital of Australia?
entity | How tall is Mount Everest? | How tall is Mount Kilimanjaro?
entity | Who wrote Hamlet? | Who wrote Macbeth?
entity | What is the population of Canada? | What is the population of Mexico?
entity | How do I install numpy? | How do I install pandas?
entity | Who founded Microsoft? | Who founded Apple?
entity | What is the currency of Japan? | What is the currency of China?
entity | When was the Eiffel Tower built? | When was the Statue of Liberty built?
entity | What is the GDP of Germany? | What is the GDP of France?
entity | Who painted the Mona Lisa? | Who painted The Starry Night?
entity | What language is spoken in Brazil? | What language is spoken in Argentina?
entity | What is the longest river in Africa? | What is the longest river in Asia?
entity | Who composed the Four Seasons? | Who composed the Magic Flute?
entity | What time zone is London in? | What time zone is Tokyo in?
entity | Where is the Great Barrier Reef? | Where is the Great Wall?
entity | What is the chemical symbol for gold? | What is the chemical symbol for silver?
entity | What is the national animal of Scotland? | What is the national animal of Wales?
entity | What is the capital city of Kenya? | What is the capital city of Nigeria?
entity | When will the Halden tram line open? | When will the Moss tram line open?
entity | Who is the CEO of Google? | Who is the CEO of Amazon?
entity | How do I read a CSV file with pandas? | How do I read a JSON file with pandas?
entity | What is the melting point of iron? | What is the melting point of copper?
entity | What is the atomic number of carbon? | What is the atomic number of nitrogen?
entity | How do I exit vim? | How do I exit emacs?
topic | How many people live in Oslo? | How big is Oslo in square kilometres?
topic | What is the capital of Australia? | What is the largest city in Australia?
topic | Who wrote Pride and Prejudice? | When was Pride and Prejudice written?
topic | How tall is Mount Everest? | Who first climbed Mount Everest?
topic | When did the Berlin Wall fall? | Why did the Berlin Wall fall?
topic | How do I reverse a list in Python? | How do I sort a list in Python?
topic | What does HTTP status 404 mean? | What does HTTP status 500 mean?
topic | Who painted the Mona Lisa? | Where is the Mona Lisa displayed?
topic | What is the speed of light? | What is the speed of sound?
topic | How do I install numpy? | How do I uninstall numpy?
topic | How many bones are in the human body? | How many muscles are in the human body?
topic | What is the largest ocean on Earth? | What is the deepest ocean on Earth?
topic | How do I create a virtual environment in Python? | How do I delete a virtual environment in Python?
topic | What is the freezing point of water in Fahrenheit? | What is the boiling point of water in Fahrenheit?
topic | How do I undo the last git commit? | How do I amend the last git commit?
topic | What are the opening hours of the Halden library? | Where is the Halden library?
topic | Who is the rector of the university? | Who was the previous rector of the university?
topic | What is the difference between a list and a tuple in Python? | What is the difference between a list and a set in Python?
topic | What is the population of Canada? | What is the population density of Canada?
topic | Which planet is closest to the Sun? | Which planet is farthest from the Sun?
topic | What is the smallest country in the world? | What is the smallest country in Europe?
topic | How many hours of sleep does an adult need? | How many hours of sleep does a baby need?
topic | Who founded Microsoft? | When was Microsoft founded?
topic | What is the hottest planet in the solar system? | What is the coldest planet in the solar system?
topic | How do I merge two dictionaries in Python? | How do I compare two dictionaries in Python?
topic | What is the highest mountain in Africa? | What is the highest mountain in Europe?
topic | What year did the Titanic sink? | Why did the Titanic sink?
topic | What is the meaning of the word ephemeral? | What is the opposite of ephemeral?
topic | What is the largest mammal? | What is the largest bird?
topic | How do I make pancakes? | How do I make waffles?
"""


# Written after the guards and the threshold were fixed, and never used to change them: the held-out split.
HELDOUT_SAME = """
What is the capital of Peru? | Which city is the capital of Peru?
Who wrote War and Peace? | Who is the author of War and Peace?
How many moons does Jupiter have? | What is the number of Jupiter's moons?
When was the first iPhone released? | In what year did the first iPhone come out?
How do I copy a file in Python? | What's the way to copy a file with Python?
What is the population of Lagos? | How many people live in Lagos?
What is the speed of sound in air? | How fast does sound travel through air?
Who discovered gravity? | Who is credited with discovering gravity?
What does RAM stand for? | What is RAM short for?
How do I remove duplicates from a list in Python? | How can I drop duplicate items from a Python list?
What is the largest planet in the solar system? | Which planet in the solar system is the biggest?
How long is the Great Wall of China? | What is the length of the Great Wall of China?
What is the currency of Switzerland? | Which currency is used in Switzerland?
Who painted the Sistine Chapel ceiling? | Which artist painted the ceiling of the Sistine Chapel?
What is the chemical formula of water? | Water's chemical formula is what?
How do I check disk space on Linux? | How can I see free disk space on Linux?
What is the capital of Egypt? | capital of Egypt?
How many strings does a violin have? | A violin has how many strings?
What is the national language of Iran? | Which language is the national language of Iran?
How do I make a cup of green tea? | What is the way to prepare green tea?
What is the distance of a marathon? | How long is a marathon?
When did the French Revolution begin? | In which year did the French Revolution start?
What is the square root of 81? | Square root of 81?
How do I print without a newline in Python? | In Python, how can I print without a trailing newline?
What is the highest waterfall in the world? | Which waterfall is the tallest in the world?
How many weeks are in a year? | A year has how many weeks?
What is the main language of Quebec? | Which language do most people in Quebec speak?
Who invented the light bulb? | Who is known for inventing the light bulb?
What is the boiling point of ethanol? | At what temperature does ethanol boil?
How do I find the length of a string in Python? | What's the Python way to get a string's length?
"""

HELDOUT_DIFFERENT = """
order | Is Madrid larger than Barcelona? | Is Barcelona larger than Madrid?
order | Bus from Leeds to York | Bus from York to Leeds
order | Convert 10 pounds to kilograms | Convert 10 kilograms to pounds
order | Did Mozart live before Beethoven? | Did Beethoven live before Mozart?
order | Is steel heavier than aluminium? | Is aluminium heavier than steel?
order | Divide 9 by 3 | Divide 3 by 9
number | What is 12 times 13? | What is 12 times 14?
number | Who won the Tour de France in 2019? | Who won the Tour de France in 2021?
number | What is 20% of 80? | What is 25% of 80?
number | How much is 50 euros in yen? | How much is 500 euros in yen?
number | What is the population of Lima in 2010? | What is the population of Lima in 2020?
number | Python 3.9 release date | Python 3.10 release date
negation | Which metals are magnetic? | Which metals are not magnetic?
negation | Why does the test pass? | Why doesn't the test pass?
negation | Which countries drive on the left? | Which countries never drive on the left?
negation | Can cats eat chocolate? | Can cats not eat chocolate?
negation | Which birds can fly? | Which birds cannot fly?
negation | Which buses run on Sunday? | Which buses don't run on Sunday?
entity | What is the capital of Peru? | What is the capital of Chile?
entity | Who wrote War and Peace? | Who wrote Anna Karenina?
entity | How many moons does Jupiter have? | How many moons does Saturn have?
entity | What is the currency of Switzerland? | What is the currency of Sweden?
entity | Who painted the Sistine Chapel ceiling? | Who painted the Last Supper?
entity | How do I copy a file in Python? | How do I copy a file in Rust?
entity | What is the population of Lagos? | What is the population of Nairobi?
entity | When was the first iPhone released? | When was the first iPad released?
topic | Who discovered gravity? | When was gravity discovered?
topic | What is the largest planet in the solar system? | What is the smallest planet in the solar system?
topic | How long is the Great Wall of China? | Why was the Great Wall of China built?
topic | What is the capital of Egypt? | What is the largest city of Egypt?
topic | Who invented the light bulb? | When was the light bulb invented?
topic | What is the highest waterfall in the world? | Where is the highest waterfall in the world?
topic | How many weeks are in a year? | How many days are in a year?
topic | When did the French Revolution begin? | When did the French Revolution end?
topic | What is the boiling point of ethanol? | What is the freezing point of ethanol?
topic | How do I remove duplicates from a list in Python? | How do I count duplicates in a list in Python?
"""


def written():
    for split, same, different in (("dev", SAME, DIFFERENT), ("heldout", HELDOUT_SAME, HELDOUT_DIFFERENT)):
        for line in same.strip().splitlines():
            a, b = (x.strip() for x in line.split("|"))
            yield {"a": a, "b": b, "same": True, "kind": "paraphrase", "split": split}
        for line in different.strip().splitlines():
            kind, a, b = (x.strip() for x in line.split("|"))
            yield {"a": a, "b": b, "same": False, "kind": kind, "split": split}


def rows(embedder):
    """The pairs; a held-out pair that nearly repeats a dev pair ("the capital of Peru" for "the
    capital of Australia": each side within the eval runner's near-twin cosine of the same side of
    a dev pair, values masked) counts as dev: the guards were written reading the dev pairs, so such
    a pair measures nothing held out."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from evals.wall import pair_twins

    pairs = list(written())
    dev = [(r["a"], r["b"]) for r in pairs if r["split"] == "dev"]
    heldout = [(r["a"], r["b"]) for r in pairs if r["split"] == "heldout"]
    twins = {pair for pair, _ in pair_twins(embedder, heldout, dev)}
    for r in pairs:
        yield {**r, "split": "dev" if (r["a"], r["b"]) in twins else r["split"]}


if __name__ == "__main__":
    out = Path(__file__).with_name("pairs.jsonl")
    from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
    from tansuo.settings import load_settings

    embedder = SentenceTransformerEmbedder(embedding_model_path(load_settings()))
    items = [{"id": f"pair-{i:03d}", **r} for i, r in enumerate(rows(embedder), start=1)]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
    print(f"{out}: {len(items)} pairs ({sum(r['same'] for r in items)} same meaning)")
