"""Turn budgets, the repeated-call guard, and the trace events' wire form."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tansuo.agent.budget import Budget, BudgetExceeded, Limits, RepeatedCall
from tansuo.agent.events import AnswerDelta, Searched, Source, ToolReturned, TurnEnded


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_limit_stops_the_turn_and_names_itself() -> None:
    budget = Budget(Limits(steps=2, tool_calls=2, tokens=10, seconds=5))
    budget.step()
    budget.step()
    with pytest.raises(BudgetExceeded, match="steps") as exc:
        budget.step()
    assert exc.value.limit == "steps"
    budget.tool_call("math", {"expression": "1+1"})
    budget.tool_call("math", {"expression": "2+2"})
    with pytest.raises(BudgetExceeded, match="tool_calls"):
        budget.tool_call("math", {"expression": "3+3"})
    budget.generated(10)
    assert budget.tokens_left() == 0
    with pytest.raises(BudgetExceeded, match="tokens"):
        budget.generated(1)


def test_wall_clock_runs_out_on_an_injected_clock() -> None:
    clock = FakeClock()
    budget = Budget(Limits(seconds=5), clock=clock)
    clock.now += 4
    assert budget.remaining_s == pytest.approx(1)
    budget.step()
    clock.now += 2
    assert budget.remaining_s == 0
    with pytest.raises(BudgetExceeded, match="seconds"):
        budget.tool_call("units", {})
    assert budget.used()["seconds"] == pytest.approx(6)


def test_identical_calls_are_stopped_whatever_the_key_order() -> None:
    budget = Budget(Limits(tool_calls=10, repeats=2))
    budget.tool_call("convert", {"value": 1, "unit": "km"})
    budget.tool_call("convert", {"unit": "km", "value": 1})
    budget.tool_call("convert", {"unit": "km", "value": 2})  # different arguments: fine
    with pytest.raises(RepeatedCall, match='convert\\({"unit":"km","value":1}\\) was made 3 times') as exc:
        budget.tool_call("convert", {"value": 1, "unit": "km"})
    assert exc.value.times == 3 and budget.tool_calls == 3


def test_events_serialise_to_json_with_their_type() -> None:
    when = datetime(2025, 3, 3, tzinfo=timezone.utc)
    source = Source(1, "Ferry notice", "https://x/n01", "n01#0", when, "metadata")
    events = [Searched(1.5, "ferry skerry", (source,), kept=1),
              ToolReturned(2.0, "c1", "math", ok=False, error="timed out after 5 s"),
              AnswerDelta(3.0, "The ferry runs [1]."),
              TurnEnded(4.0, "The ferry runs [1].", (source,), {"steps": 1}, complete=True)]
    wire = [json.loads(json.dumps(e.to_dict())) for e in events]
    assert [w["type"] for w in wire] == ["search", "tool_result", "answer_delta", "turn_ended"]
    assert wire[0]["hits"][0] == {"n": 1, "title": "Ferry notice", "source": "https://x/n01", "chunk_id": "n01#0",
                                  "date": "2025-03-03T00:00:00+00:00", "date_origin": "metadata", "kind": "document",
                                  "snippet": ""}
    assert wire[1]["ok"] is False and wire[1]["error"] == "timed out after 5 s"
    assert wire[3]["sources"][0]["n"] == 1 and wire[3]["complete"] is True


def test_profiles_offer_more_modes_as_the_model_gets_stronger() -> None:
    from tansuo.agent.profile import modes_for

    weak, plugins, agent = modes_for("tools"), modes_for("plugins"), modes_for("agent")
    assert "plugins" not in weak and "agent" not in weak and "tools" in weak
    assert set(weak) < set(plugins) < set(agent) and "agent" in agent
    with pytest.raises(ValueError, match="unknown model profile 'genius'; choose one of tools, plugins, agent"):
        modes_for("genius")
