"""The tool-calling fine-tune: generated data covers every tool and every negative kind with calls
that validate and run; hidden wordings stay out of training, and so do the eval sets' requests;
training targets are what the constrained decoder accepts; a tiny training run exports an adapter
that llama-server loads; an adapter made for another model is refused with a notice."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import jsonschema
import pytest

from tansuo.agent import planner
from tansuo.agent.router import ToolRouter
from tansuo.errors import ConfigError
from tansuo.llm.adapter import SHIPPED, choose_adapter, demos_path, model_fingerprint, read_meta
from tansuo.llm.embedded import EmbeddedBackend
from tansuo.llm.factory import resolve_model_path, server_config
from tansuo.llm.llama_server import LlamaServer
from tansuo.llm.types import ChatRequest
from tansuo.plugins.builtin import build_toolbox
from tansuo.plugins.catalog import load_report
from tansuo.plugins.tool import toolset_hash
from tansuo.training.tools.data import KINDS, Sample, coverage, generate
from tansuo.training.tools.formats import conversations
from tansuo.training.tools.pipeline import eval_requests
from tansuo.training.tools.templates import ALL
from tansuo.training.tools.train import TrainOptions, export_gguf, train
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sft")
    box = build_toolbox(plots_dir=folder)
    report = asyncio.run(load_report(make_settings(folder)))
    return box, report.plugins, list(box.specs) + [p.spec for p in report.plugins.values()]


def test_every_tool_and_every_negative_kind_is_generated_with_calls_that_run(tools):
    box, plugins, specs = tools
    samples = generate(specs, per_template=6, seed=3)
    counts = coverage(samples)
    assert {s.name for s in specs} <= set(counts)  # built-in tools and every plugin with example calls
    assert {"answer", "search", "decline"} <= set(counts) and {s.kind for s in samples} == set(KINDS)
    assert any(len(s.calls) == 2 for s in samples)  # several calls in one request

    async def run_some():
        for tool in box.specs:
            for sample in [s for s in samples if s.tool == tool.name][:4]:
                for name, arguments in sample.calls:
                    result = await box.call(name, arguments)
                    assert result.ok, (sample.request, result.error)

    asyncio.run(run_some())


def test_hidden_and_dev_wordings_never_reach_training_and_eval_requests_are_excluded(tools):
    _, _, specs = tools
    train_wordings = {w for t in ALL for w in t.train if w != "{text}"}  # "{text}": whole requests from a pool
    hidden_wordings = {w for t in ALL for w in t.hidden if w != "{text}"}
    dev_wordings = {w for t in ALL for w in t.dev if w != "{text}"}
    assert not train_wordings & hidden_wordings and not train_wordings & dev_wordings
    assert not hidden_wordings & dev_wordings  # settings chosen on dev say nothing about the hidden test
    seen = {s.request for s in generate(specs, per_template=40, seed=0)}
    for split in ("hidden", "dev"):
        assert not seen & {s.request for s in generate(specs, per_template=40, seed=0, split=split)}
    banned = eval_requests()
    assert len(banned) > 600  # the built-in tool questions and the three tool-call sets
    samples = generate(specs, per_template=40, seed=0, exclude=banned)
    assert not {s.request.lower() for s in samples} & {b.lower() for b in banned}
    # The shipped adapter's demonstrations are exactly the requests it was trained on (`train tools
    # --seed 0`), so no eval request reaches the prompt as a demonstration either.
    shipped = [json.loads(line) for line in demos_path(SHIPPED).read_text(encoding="utf-8").splitlines()]
    assert shipped == [s.to_dict() for s in samples]
    for split in ("hidden", "dev"):
        made = generate(specs, per_template=3, seed=0, split=split)
        assert made and all(s.split == split for s in made)
        # every tool and every negative kind is in each split (plugins: through their manifests' examples)
        assert {s.tool for s in made if s.tool} == {s.name for s in specs if s.example_calls}
        assert {s.kind for s in made} == {"call", "multi", "answer", "search", "decline"}


def test_training_targets_are_replies_the_constrained_decoder_accepts(tools, embedder):
    box, plugins, specs = tools
    router = ToolRouter(box, embedder, plugins=plugins)
    samples = [s for s in generate(specs, per_template=2, seed=5) if not s.template.startswith("plugin.")]
    convs = conversations(samples, router, seed=5)
    formats = {c.format for c in convs}
    assert formats == {"route", "fill", "tools"}
    for conv in convs:
        reply = json.loads(conv.target)
        if conv.format == "route":
            assert reply["use"] in [planner.SEARCH, planner.ANSWER, *(s.name for s in box.specs)]
        elif conv.format == "fill":
            jsonschema.validate(reply, planner.calls_schema([router.find(reply["calls"][0]["name"])]))
        else:
            for call in reply.get("calls", [reply] if "name" in reply else []):
                assert f"- {call['name']}: " in conv.messages[0]["content"]  # a tool the prompt offered
                jsonschema.validate(call["arguments"], router.find(call["name"]).spec.input_schema)


def test_the_generic_tool_prompt_also_teaches_declining_and_several_calls(tools, embedder):
    """A tool request shown with only tools that cannot serve it gets a reply, not a call (a model
    that only ever saw a fitting tool calls whatever it is given); with parallel_tool_calls, every
    call of a two-call request goes in one list."""
    box, plugins, specs = tools
    router = ToolRouter(box, embedder, plugins=plugins)
    samples = [s for s in generate(specs, per_template=8, seed=11) if s.kind in ("call", "multi")]
    by_template = {s.template: s for s in samples}
    generic = [c for c in conversations(samples, router, seed=11) if c.format == "tools"]
    declined = [c for c in generic if "content" in json.loads(c.target)]
    assert declined and len(declined) < len(generic) / 4  # most tool requests there are calls
    for conv in declined:
        gold = by_template[conv.template].tool
        assert f"- {gold}: " not in conv.messages[0]["content"]
    listed = [json.loads(c.target)["calls"] for c in generic if "calls" in json.loads(c.target)]
    assert any(len(calls) == 2 for calls in listed) and any(len(calls) == 1 for calls in listed)


def test_small_talk_and_out_of_reach_requests_see_tools_and_get_a_reply(tools, embedder):
    """With tools in the prompt, "Thanks!" or "Book a taxi" is answered, not turned into a call."""
    box, plugins, specs = tools
    router = ToolRouter(box, embedder, plugins=plugins)
    samples = [s for s in generate(specs, per_template=6, seed=13) if s.kind in ("answer", "decline")]
    generic = [c for c in conversations(samples, router, seed=13) if c.format == "tools"]
    assert {c.template for c in generic} >= {"answer.small_talk", "answer.thanks", "decline.action"}
    for conv in generic:
        assert any(f"- {spec.name}: " in conv.messages[0]["content"] for spec in specs)  # a tool listed
        assert set(json.loads(conv.target)) == {"content"}


def test_the_toolset_fingerprint_changes_with_a_tool(tools):
    _, _, specs = tools
    changed = [specs[0].model_copy(update={"model_description": "something else"}), *specs[1:]]
    assert toolset_hash(specs) == toolset_hash(list(reversed(specs)))
    assert toolset_hash(changed) != toolset_hash(specs)


@pytest.mark.model
async def test_a_tiny_training_run_exports_an_adapter_llama_server_loads(tools, embedder, tmp_path):
    box, plugins, specs = tools
    settings = make_settings(tmp_path, tool_adapter="off", parallel=1)
    model = resolve_model_path(settings)
    router = ToolRouter(box, embedder, plugins=plugins)
    convs = [c for c in conversations(generate(specs, per_template=1, seed=7), router, seed=7) if c.format == "route"]
    trained = train(convs[:8], model, TrainOptions(steps=2, batch_size=2, learning_rate=5e-3))
    assert trained.steps == 2 and len(trained.losses) == 2
    adapter = export_gguf(trained, tmp_path / "adapters" / "tools-lora.gguf", 32.0,
                          {"base_model": model.name, "base_model_sha256": model_fingerprint(model),
                           "toolset": toolset_hash(specs)})
    assert read_meta(adapter)["base_model_sha256"] == model_fingerprint(model)
    chosen = choose_adapter(make_settings(tmp_path, tool_adapter="auto"), model)  # the data dir's adapter
    assert chosen.path == adapter and chosen.notice is None
    cfg, env = server_config(make_settings(tmp_path, tool_adapter=str(adapter), parallel=1))
    assert cfg.lora == adapter
    server = LlamaServer(cfg, env=env, log_path=tmp_path / "server.log")
    backend = EmbeddedBackend(server)
    try:
        result = await backend.chat(ChatRequest(messages=[{"role": "user", "content": "What is 12 times 7?"}],
                                                max_tokens=16, temperature=0.0))
        async with httpx.AsyncClient() as client:  # llama-server lists the adapters it applies
            loaded = (await client.get(server.base_url.removesuffix("/v1") + "/lora-adapters")).json()
    finally:
        await backend.aclose()
    assert result.content.strip()
    assert [Path(a["path"]).name for a in loaded] == ["tools-lora.gguf"] and loaded[0]["scale"] == 1.0


def test_an_adapter_for_another_model_is_refused_with_a_notice(tmp_path, caplog):
    settings = make_settings(tmp_path)
    model = resolve_model_path(settings)
    foreign = tmp_path / "adapters" / "tools-lora.gguf"
    _write_adapter(foreign, base_sha="0123456789abcdef")
    choice = choose_adapter(settings, model)
    assert choice.path is None and "trained for" in choice.notice and "tansuo train tools" in choice.notice
    assert any("not loaded" in r.message for r in caplog.records)
    cfg, _ = server_config(settings)
    assert cfg.lora is None  # the base model runs alone
    with pytest.raises(ConfigError, match="TANSUO_TOOL_ADAPTER"):
        choose_adapter(make_settings(tmp_path, tool_adapter=str(tmp_path / "missing.gguf")), model)
    assert choose_adapter(make_settings(tmp_path, tool_adapter="off"), model).path is None


def _write_adapter(path: Path, base_sha: str) -> None:
    import gguf
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, 32.0)
    writer.add_string("tansuo.adapter.base_model_sha256", base_sha)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", np.zeros((16, 576), dtype=np.float16))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", np.zeros((576, 16), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_samples_round_trip_through_their_json_form(tools):
    _, _, specs = tools
    for sample in generate(specs, per_template=1, seed=9)[:20]:
        assert Sample.from_dict(json.loads(json.dumps(sample.to_dict()))) == sample


def test_a_plugin_is_offered_for_a_request_like_one_of_its_examples(tools, embedder):
    box, plugins, _ = tools
    from tansuo.plugins.index import PluginIndex

    index = PluginIndex(embedder)
    index.build(p.spec for p in plugins.values())
    router = ToolRouter(box, embedder, plugins=plugins, plugin_index=index)
    request = "who was Grace Hopper?"  # like the manifest's "who was Ada Lovelace?", far from its whole text
    by_text = {h.name: h.score for h in index.search(request, 3).hits}["wikipedia_search"]
    offered = {o.spec.name: o.score for o in router.offers(request, ("tools", "plugins"))}
    assert by_text < router.options.plugin_threshold <= offered["wikipedia_search"]
    assert "wikipedia_search" not in {o.spec.name for o in router.offers("What is 37 times 91?", ("tools", "plugins"))}


def test_a_built_in_tool_is_offered_for_a_request_like_one_of_its_examples(tools, embedder):
    """A pasted table whose column is called "units" reads like the units tool's description, but
    like the table tool's example requests."""
    box, plugins, _ = tools
    router = ToolRouter(box, embedder, plugins=plugins)
    for request in ("What is the total of the units column?\ncity,units\nBergen,254\nLyon,71\nParis,285",
                    "Which city has the highest units?\ncity,units\nMoss,158\nLyon,70\nNice,301"):
        assert "table" in [o.spec.name for o in router.offers(request, ("tools",))]
    assert [o.spec.name for o in router.offers("Convert 26 miles to km", ("tools",))][0] == "units"
