"""Demonstrations for the call-writing prompt: the trained requests nearest a request's wording,
one per wording and one call each, shown before the tool's own example calls; the service finds
them beside the adapter it loads."""

from __future__ import annotations

import json
from pathlib import Path

from tansuo.agent.build import adapter_demos
from tansuo.agent.demos import Demo, DemoBank, wording, write_demos
from tansuo.agent.planner import Situation, calls_messages, options, route_messages
from tansuo.agent.router import RouterOptions, ToolRouter
from tansuo.embedding import HashingEmbedder
from tansuo.llm.adapter import SHIPPED, demos_path
from tansuo.llm.testing import ScriptedBackend
from tansuo.plugins.builtin import build_toolbox


def cal(request: str, **arguments) -> Demo:
    return Demo(request, (("calendar", {"request": arguments}),), "calendar")


BANK = [
    cal("How many days are there between 3 May 2024 and 2024-06-09?", operation="days_between",
        start="3 May 2024", end="2024-06-09"),
    cal("How many days are there between 1 Jan 2020 and 2020-02-02?", operation="days_between",
        start="1 Jan 2020", end="2020-02-02"),
    cal("How many working days are there between 2024-05-03 and 2024-06-09?", operation="days_between",
        start="2024-05-03", end="2024-06-09", business_days=True),
    cal("What weekday is 2025-03-03?", operation="weekday", date="2025-03-03"),
    cal("What date is 10 days after 2025-03-03?", operation="add", date="2025-03-03", days=10),
    Demo("Weekday of 2025-03-03, and 5 km in miles?", (("calendar", {"request": {"operation": "weekday",
                                                                                  "date": "2025-03-03"}}),
                                                         ("units", {"value": 5, "from_unit": "km",
                                                                    "to_unit": "mile"}))),
]


def test_a_wording_keeps_the_words_and_masks_values_dates_and_pasted_rows():
    assert wording("Add 26 weeks to September 19, 2024: which date?") == "Add N weeks to DATE: which date?"
    assert wording("Was 5 Sep 2024 a Monday, or 2024-09-06?") == "Was DATE a Monday, or DATE?"
    assert wording("Total up the units values:\nproduct,units\njuice,131\ntea,-4.5") == "Total up the units values:"
    assert wording("What is 2x + 3 for x = -1.5?") == "What is 2x + N for x = N?"


def test_the_nearest_wordings_come_last_one_per_wording_and_one_call_each(embedder):
    bank = DemoBank(BANK, embedder)
    shown = bank.nearest("calendar", "How long is it from 2 March 2026 until 2026-04-18, in days?")
    assert len(shown) == 3 and len({wording(d.request) for d in shown}) == 3  # the two day counts read alike
    assert shown[-1].calls[0][1]["request"]["operation"] == "days_between"
    assert "business_days" not in shown[-1].calls[0][1]["request"]
    assert all(len(d.calls) == 1 for d in shown)  # the two-tool request is nobody's demonstration
    assert bank.nearest("calendar", "Which day of the week was 9 June 2024?")[-1].request.startswith("What weekday")
    assert bank.nearest("units", "5 km in miles") == () and bank.nearest("nope", "x") == ()


def test_route_demonstrations_are_the_nearest_trained_requests_among_the_options_offered(embedder):
    bank = DemoBank.from_jsonl(demos_path(SHIPPED), embedder)  # the shipped adapter's training requests
    for request, option in (("Catch me up on the harbour tunnel.", "search"), ("Cheers, that sorted it.", "answer")):
        shown = bank.routes(request, ["search", "calendar", "answer"])
        assert len(shown) == 3 and shown[-1][1] == option and request not in {text for text, _ in shown}
    assert all(option != "search" for _, option in bank.routes("Catch me up on the tram.", ["calendar", "answer"]))
    shown = bank.routes("Catch me up on the harbour tunnel.", ["search", "calendar", "answer"])
    s = Situation("Catch me up on the harbour tunnel.", "2026-11-28", preview=["'Tunnel' (news)"], can_search=True,
                  route_demos=shown)
    messages = route_messages(s, options(s))
    assert messages[-3]["content"] == shown[-1][0] and json.loads(messages[-2]["content"]) == {"use": "search"}


def test_the_call_prompt_shows_the_nearest_trained_requests_before_the_tools_own_examples(tmp_path):
    box = build_toolbox(plots_dir=tmp_path)
    router = ToolRouter(box, HashingEmbedder(), options=RouterOptions(tool_k=5, tool_threshold=-1),
                        demos=DemoBank(BANK, HashingEmbedder()))
    request = "How long is it from 2 March 2026 until 2026-04-18, in days?"
    calendar = next(o for o in router.offers(request, ["tools"]) if o.spec.name == "calendar")
    messages = calls_messages(Situation(request, "2026-11-28"), calendar)
    asked = [m["content"] for m in messages[1:-1] if m["role"] == "user"]
    own = [c.request for c in calendar.spec.example_calls]
    assert asked[:3] == [d.request for d in calendar.demos] and sorted(asked[3:]) == sorted(own)
    replies = [json.loads(m["content"]) for m in messages if m["role"] == "assistant"]
    assert replies[0]["calls"] == [{"name": "calendar", "arguments": calendar.demos[0].calls[0][1]}]
    units = next(o for o in router.offers("5 km in miles", ["tools"]) if o.spec.name == "units")
    assert units.demos == ()  # a tool the bank lacks keeps its example calls alone


def test_the_service_reads_the_demonstrations_beside_the_adapter_it_loads(tmp_path):
    adapter = tmp_path / "tools-lora.gguf"
    adapter.write_bytes(b"")

    class Loaded:
        tool_adapter = adapter

    assert adapter_demos(Loaded(), HashingEmbedder()) is None  # trained before they were recorded
    write_demos([{"request": d.request, "calls": [{"name": n, "arguments": a} for n, a in d.calls]} for d in BANK],
                demos_path(adapter))
    assert demos_path(adapter) == tmp_path / "tools-lora.demos.jsonl"
    bank = adapter_demos(Loaded(), HashingEmbedder())
    assert bank is not None and bank.tools() == {"calendar"}
    assert adapter_demos(ScriptedBackend(), HashingEmbedder()) is None  # a model with no adapter: none


def test_the_shipped_adapter_has_its_demonstrations():
    path = demos_path(SHIPPED)
    assert path.is_file() and Path(path).stat().st_size < 2 * 2**20
