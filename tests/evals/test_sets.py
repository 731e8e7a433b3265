"""The eval sets' own logic: decomposition coverage by meaning that an entity swap cannot fool, the
QA set's facts stated by its gold documents, and the sets' items as the runner reads them."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tansuo.evals.context import EVAL_SETS
from tansuo.evals.decompose_sets import DecomposeSet, FanoutDevSet, coverage
from tansuo.evals.sets import get_set


def test_a_plan_step_about_another_entity_does_not_count(embedder):
    task = "Which city has more inhabitants, Oslo or Copenhagen?"
    gold = ["What is the population of Oslo?", "What is the population of Copenhagen?"]
    half, best = coverage(embedder, task, ["What is the population of Oslo?", "Compare the two numbers"], gold)
    assert half == 0.5 and best[1] == 0.0  # "Copenhagen" is not asked, however similar the wording
    both, _ = coverage(embedder, task, ["How many people live in Oslo?", "How many people live in Copenhagen?"], gold)
    assert both == 1.0


def test_names_a_sub_question_learns_from_an_earlier_answer_are_not_required(embedder):
    task = "How old was the first person to walk on the Moon when he did it?"
    gold = ["Who was the first person to walk on the Moon?", "When was Neil Armstrong born?"]
    score, _ = coverage(embedder, task, ["Who first walked on the Moon?", "When was that astronaut born?"], gold)
    assert score == 1.0
    assert coverage(embedder, task, [], gold)[0] == 0.0


def test_no_more_sub_questions_are_asked_for_than_a_plan_has_steps(embedder):
    task = "What is the batting hand of each of the first five picks in the 1998 MLB draft?"
    gold = ["Who were the first 5 picks in the 1998 MLB Draft?"] + [
        f"What is the batting hand of {n}?" for n in ("Pat Burrell", "Mark Mulder", "Corey Patterson", "JD Drew")]
    steps = ["Who were the first five picks of the 1998 MLB draft?", "What is the batting hand of Pat Burrell?",
             "What is the batting hand of Mark Mulder?", "What is the batting hand of Corey Patterson?"]
    score, best = coverage(embedder, task, steps, gold)
    assert score == 1.0 and sum(b >= 0.65 for b in best) >= 4  # 4 of 5 asked: all a 4-step plan can hold
    fan_out = ["Who were the first five picks of the 1998 MLB draft?", "What is the batting hand of each pick?"]
    assert coverage(embedder, task, fan_out, gold)[0] == 1.0  # one step asks for every pick
    assert coverage(embedder, task, fan_out[:1], gold)[0] == 0.25


def _qa_build():
    spec = importlib.util.spec_from_file_location("qa_build", EVAL_SETS / "qa" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_qa_file_is_what_its_build_script_writes_and_its_facts_are_in_the_gold_documents():
    build = _qa_build()
    items = list(build.rows())
    shipped = [json.loads(line) for line in (EVAL_SETS / "qa" / "questions.jsonl").read_text().splitlines()]
    assert items == shipped and len(items) >= 150
    build.check(items)  # raises on a fact its gold documents do not state
    bad = [dict(items[0], facts=[["a fact no document states"]])]
    with pytest.raises(SystemExit, match="qa-f01"):
        build.check(bad)
    kinds = {i["category"] for i in items}
    assert kinds == {"one document", "newest of conflicting", "several documents"}
    assert all(len(i["documents"]) >= 2 for i in items if i["category"] == "several documents")
    assert all(i["superseded"] for i in items if i["category"] == "newest of conflicting")


def test_decomposition_sets_carry_their_gold_sub_questions():
    ours = DecomposeSet().items()
    assert len(ours) == 40 and all(len(i.data["sub_questions"]) >= 2 for i in ours)
    fanout = FanoutDevSet().items()  # installed with --no-deps by `make install`
    assert len(fanout) == 310 and all(i.data["sub_questions"] for i in fanout)


def test_tool_retrieval_items_name_their_gold_function():
    items = get_set("tool-retrieval-bfcl").items()
    assert len(items) > 1000 and {i.category for i in items} == {"multiple", "live_multiple"}
    assert all(i.data["gold"] and i.data["question"] for i in items)
