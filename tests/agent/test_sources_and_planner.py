"""Citations, the planner's schema and prompt, tool routing and plan ordering."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tansuo.agent.decompose import order
from tansuo.agent.planner import (
    Situation,
    Step,
    calls_messages,
    calls_schema,
    options,
    queries_schema,
    route_messages,
    route_schema,
    steps_schema,
    to_decision,
)
from tansuo.agent.router import RouterOptions, ToolRouter
from tansuo.core.sources import SourceBook, check_citations
from tansuo.embedding import HashingEmbedder
from tansuo.retrieval.hits import Hit
from tests.agent.helpers import sample_toolbox


def hit(n: int, text: str, title: str = "Doc") -> Hit:
    return Hit(chunk_id=f"d{n}#0", doc_id=f"d{n}", title=f"{title} {n}", source=f"/d{n}", text=text, start=0,
               end=len(text), published=None, updated=None, date_origin="none", metadata={}, score=1.0)


def book() -> SourceBook:
    b = SourceBook()
    b.add_hit(hit(1, "The Halden tram line opened on 3 March 2025 and runs 12 km."))
    b.add_hit(hit(2, "The library closes at 20:00 on weekdays."))
    return b


def test_the_same_chunk_keeps_one_number():
    b = book()
    assert b.add_hit(hit(1, "The Halden tram line opened on 3 March 2025 and runs 12 km.")) == 1
    assert len(b) == 2 and b.add_tool_result("call_1", "math", {"expression": "2+2"}, {"value": 4}) == 3


def test_markers_to_missing_sources_are_dropped_and_kept_ones_listed():
    cited = check_citations("The tram opened in 2025 [1]. It has 40 stops [9].", book())
    assert cited.dropped == (9,) and cited.numbers == (1,) and "[9]" not in cited.text


def test_an_uncited_sentence_copied_from_a_source_is_attributed_to_it():
    cited = check_citations("The library closes at 20:00 on weekdays.", book())
    assert cited.text == "The library closes at 20:00 on weekdays [2]." and cited.attributed == 1


def test_a_sentence_with_a_changed_number_and_words_is_not_attributed():
    cited = check_citations("Trains leave every 7 minutes from Bergen central station.", book())
    assert cited.numbers == () and cited.attributed == 0


def test_the_schemas_accept_only_offered_tools_with_valid_arguments():
    router = ToolRouter(sample_toolbox(), HashingEmbedder(), options=RouterOptions(tool_k=3, tool_threshold=-1))
    offers = router.offers("add two numbers", ["answer", "search", "tools"])
    situation = Situation("add two numbers", "2026-11-28", offers=offers, preview=["'Tram' (/news)"],
                          can_search=True)
    route = route_schema(options(situation))
    for choice in ("answer", "search", "add", "broken"):
        jsonschema.validate({"use": choice}, route)
    for bad in ({"use": "plan"}, {"use": "rm_rf"}, {}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, route)
    calls = calls_schema([o for o in offers if o.spec.name == "add"])
    jsonschema.validate({"calls": [{"name": "add", "arguments": {"a": 1, "b": 2}}]}, calls)
    for bad in ({"calls": [{"name": "broken", "arguments": {"x": 1}}]},
                {"calls": [{"name": "add", "arguments": {"a": "one", "b": 2}}]}, {"calls": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, calls)
    jsonschema.validate({"queries": ["tram opening date", "library hours"]}, queries_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"steps": [{"task": "only one", "needs": []}]}, steps_schema())


def test_search_is_offered_only_when_the_index_has_something_similar():
    assert options(Situation("q", "2026-11-28", can_search=True, preview=[])) == ["answer"]
    assert options(Situation("q", "2026-11-28", can_search=True, preview=["'T' (/x)"], can_plan=True)) == [
        "search", "plan", "answer"]


def test_router_offers_at_most_k_above_the_threshold():
    router = ToolRouter(sample_toolbox(), HashingEmbedder(), options=RouterOptions(tool_k=2, tool_threshold=-1))
    assert len(router.offers("add two numbers", ["tools"])) == 2
    strict = ToolRouter(sample_toolbox(), HashingEmbedder(), options=RouterOptions(tool_k=3, tool_threshold=0.99))
    assert strict.offers("completely unrelated words here", ["tools"]) == []
    assert router.offers("add two numbers", ["answer", "search"]) == []  # the profile offers no tools


def test_route_demonstrations_come_from_the_offered_tools_and_the_index():
    router = ToolRouter(sample_toolbox(), HashingEmbedder(), options=RouterOptions(tool_k=1, tool_threshold=-1))
    offers = router.offers("add two numbers", ["tools"])
    s = Situation("add two numbers", "2026-11-28", offers=offers, preview=["'Halden tram line' (/news/tram)"],
                  can_search=True, history=[{"role": "user", "content": "hello"}])
    messages = route_messages(s, options(s))
    assert "Today is 2026-11-28" in messages[0]["content"] and f"- {offers[0].spec.name}:" in messages[0]["content"]
    demos = [(u["content"], json.loads(a["content"])["use"]) for u, a in zip(messages[1:-1:2], messages[2:-1:2])]
    assert ("What is new about halden tram line?", "search") in demos
    assert messages[-1]["content"].startswith("Earlier: user: hello")
    assert messages[-1]["content"].endswith("Question: add two numbers")


def test_fill_demonstrations_are_the_tools_example_calls():
    from tansuo.plugins.builtin import build_toolbox

    box = build_toolbox(plots_dir=Path("/nonexistent"))
    router = ToolRouter(box, HashingEmbedder(), options=RouterOptions(tool_k=5, tool_threshold=-1))
    units = next(o for o in router.offers("convert units", ["tools"]) if o.spec.name == "units")
    messages = calls_messages(Situation("5 km in miles", "2026-11-28"), units)
    shown = [json.loads(m["content"])["calls"][0]["arguments"] for m in messages if m["role"] == "assistant"]
    assert shown and all(set(a) == {"value", "from_unit", "to_unit"} for a in shown)


def test_plan_steps_run_after_what_they_need():
    decision = to_decision("plan", {"steps": [{"task": "c", "needs": [2, 3, 1]}, {"task": "a", "needs": []},
                                              {"task": "b", "needs": [2, 9]}]})
    assert decision.steps[0].needs == (2, 3)
    assert [s.task for s in order(decision.steps)] == ["a", "b", "c"]
    cycle = order([Step(1, "x", (2,)), Step(2, "y", (1,))])
    assert [s.task for s in cycle] == ["x", "y"]  # a cycle runs as written, it does not hang
