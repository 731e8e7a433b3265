"""End to end with the real embedded model (SmolLM2-135M, temperature 0), the real embedder, the
built-in tools, an http plugin served on 127.0.0.1 and the news eval corpus. Nothing is scripted:
retrieval narrows the model's choices, schemas constrain its output, and these tests check what
it then does. Its measured accuracy on wider sets comes from the eval runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tansuo.agent.turn import TurnRequest
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path
from tansuo.retrieval.build import open_index
from tansuo.retrieval.loaders import load_path
from tansuo.server.assembly import build_agent
from tests.agent.helpers import of_type
from tests.conftest import make_settings, vllm_overrides
from tests.http_helpers import JsonHandler, serving, weather_manifest

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT / "eval_sets" / "news"
CLOCK = datetime(2026, 11, 28, 12, 0)
WEATHER = {"oslo": {"temperature_c": 7.5, "conditions": "light rain", "wind_kmh": 14}}


class _Weather(JsonHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        city = query.get("city", [""])[0]
        report = WEATHER.get(city.strip().lower())
        self.send_json(200, {"city": city, **report} if report else {"error": f"no station for {city!r}"})


@pytest.fixture(scope="module")
def weather_url() -> Iterator[str]:
    with serving(_Weather) as url:
        yield url


@pytest.fixture(scope="module")
async def agent(tmp_path_factory: pytest.TempPathFactory, weather_url: str):
    tmp = tmp_path_factory.mktemp("agent-e2e")
    plugin_dir = tmp / "plugins"
    plugin_dir.mkdir()
    (plugin_dir / "weather.yaml").write_text(yaml.safe_dump(weather_manifest(weather_url)))
    settings = make_settings(tmp / "data", n_ctx=4096, parallel=1, default_corpus=False,
                             plugin_dirs=[plugin_dir], plugin_allow_private_hosts=["127.0.0.1"], **vllm_overrides())
    embedder = SentenceTransformerEmbedder(embedding_model_path(settings))
    open_index(settings, embedder=embedder).add(load_path(NEWS).documents)
    built = await build_agent(settings, embedder=embedder, clock=lambda: CLOCK)
    yield built
    await built.deps.backend.aclose()


async def turn(agent, question: str, profile: str | None = None):
    events = [e async for e in agent.run(TurnRequest(question, profile=profile))]
    end = events[-1]
    assert end.type == "turn_ended" and end.complete, end
    return events, end


def calls_to(events, name: str) -> list:
    return [e for e in of_type(events, "tool_call") if e.name == name]


async def test_a_calculation_goes_through_the_math_tool(agent):
    events, end = await turn(agent, "What is 37 times 91?")
    assert calls_to(events, "math") and of_type(events, "tool_result")[0].ok
    assert "37 × 91 = 3,367 [" in end.answer and any(s.kind == "tool" and s.title == "math tool" for s in end.sources)
    assert "3367.0" not in end.answer and "result" not in end.answer  # a sentence, not the tool's dict


async def test_a_unit_conversion_goes_through_the_units_tool(agent):
    events, end = await turn(agent, "Convert 5 liters to gallons")
    (call,) = calls_to(events, "units")
    assert call.arguments["value"] == 5
    assert "1.32" in end.answer  # 5 L = 1.32086 US gallons


async def test_a_date_question_goes_through_the_calendar_tool(agent):
    events, end = await turn(agent, "What weekday was 2024-02-29?")
    assert calls_to(events, "calendar")
    assert "Thursday" in end.answer


async def test_a_corpus_question_is_answered_with_a_citation_to_the_right_document(agent):
    question = json.loads(next(line for line in (ROOT / "eval_sets/retrieval/questions.jsonl").read_text().splitlines()
                               if '"news-002"' in line))
    events, end = await turn(agent, question["question"])
    assert of_type(events, "search") and not of_type(events, "tool_call")
    cited = {s.chunk_id.split("#")[0] for s in end.sources}
    assert set(question["relevant"]) & cited, (end.answer, end.sources)
    assert "[" in end.answer  # the answer carries its citation markers


async def test_an_http_plugin_found_through_the_index_serves_the_request(agent):
    events, end = await turn(agent, "What is the weather like in Oslo right now?", profile="plugins")
    plan = of_type(events, "plan")[0]
    assert "city_weather" in plan.detail["options"]
    (call,) = calls_to(events, "city_weather")
    assert call.arguments["city"].lower() == "oslo"
    result = of_type(events, "tool_result")[0]
    assert result.ok and result.content.get("temperature_c") == 7.5, result  # served over a real socket
    assert "7.5" in end.answer


async def test_a_two_part_question_is_split_into_two_searches_both_answered(agent):
    events, end = await turn(agent, "When will the tram open and who is the university rector?")
    plan = of_type(events, "plan")[0]
    assert plan.action == "search" and len(plan.detail["queries"]) == 2, plan
    titles = {s.title for e in of_type(events, "search") for s in e.hits}
    assert any("tram" in t.lower() for t in titles) and any("rector" in t.lower() for t in titles)
    assert ("2028" in end.answer or "2029" in end.answer) and "Haddad" in end.answer, end.answer
