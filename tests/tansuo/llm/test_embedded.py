"""What only the embedded backend does: run, watch and restart its llama-server."""

from __future__ import annotations

import httpx
import pytest

from tansuo.errors import BackendUnavailable, ConfigError
from tansuo.llm import TOOLS_ADAPTER, ChatRequest, TextDelta, Tool
from tansuo.llm.embedded import EmbeddedBackend, with_adapter_scale
from tansuo.llm.factory import make_backend, server_config
from tansuo.llm.llama_server import LlamaServer, server_args
from tests.conftest import make_settings

HI = [{"role": "user", "content": "Say hi."}]


def test_server_runs_the_quantized_defaults(settings):
    cfg, _ = server_config(settings)
    args = server_args(cfg, 1234)
    assert cfg.model_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    def value(flag: str) -> str:
        return args[args.index(flag) + 1]

    assert value("--cache-type-k") == value("--cache-type-v") == "q8_0"
    assert value("--flash-attn") == "on"
    assert value("--threads") == str(settings.effective_threads)
    assert value("--host") == "127.0.0.1"
    assert value("--ctx-size") == str(settings.n_ctx * settings.parallel)  # n_ctx per slot


def test_prompt_lookup_is_off_for_the_small_default_model_unless_asked_for(tmp_path):
    cfg, _ = server_config(make_settings(tmp_path))
    assert not cfg.prompt_lookup and "--spec-type" not in server_args(cfg, 1234)
    cfg, _ = server_config(make_settings(tmp_path, prompt_lookup="on"))
    args = server_args(cfg, 1234)
    assert args[args.index("--spec-type") + 1] == "ngram-simple"


@pytest.mark.model
async def test_prompt_lookup_decoding_gives_the_same_answer(tmp_path):
    text = "The harbour ferry leaves Pier 2 at 06:40, 09:10 and 17:30 every weekday from March."
    request = ChatRequest(messages=[{"role": "user", "content": f"Repeat exactly: {text}"}], max_tokens=40)
    answers = []
    for mode in ("off", "on"):
        backend = make_backend(make_settings(tmp_path, prompt_lookup=mode, parallel=1))
        try:
            answers.append((await backend.chat(request)).content)
        finally:
            await backend.aclose()
    assert answers[0] == answers[1] and answers[0]


def test_a_missing_model_or_binary_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="TANSUO_MODEL_PATH"):
        make_backend(make_settings(tmp_path, model_path=tmp_path / "none.gguf"))
    with pytest.raises(ConfigError, match="TANSUO_LLAMA_SERVER_BIN"):
        make_backend(make_settings(tmp_path, llama_server_bin=tmp_path / "llama-server"))


@pytest.mark.model
async def test_a_server_dying_mid_stream_is_reported_then_restarted(settings):
    cfg, env = server_config(settings)
    backend = EmbeddedBackend(LlamaServer(cfg, env=env, log_path=settings.data_dir / "restart.log"))
    story = [{"role": "user", "content": "Tell a long story about a lighthouse keeper."}]
    try:
        with pytest.raises(BackendUnavailable, match="died"):
            async for event in backend.stream(ChatRequest(messages=story, max_tokens=400)):
                if isinstance(event, TextDelta) and backend.server.alive:
                    backend.server.proc.kill()
                    backend.server.proc.wait()
        result = await backend.chat(ChatRequest(messages=HI, max_tokens=4))
        assert result.usage.completion_tokens > 0 and backend.server.alive
    finally:
        await backend.aclose()
    assert backend.server.proc is None


def test_the_tool_adapter_is_asked_for_per_request(tmp_path):
    cfg, _ = server_config(make_settings(tmp_path, tool_adapter="auto"))
    assert cfg.lora is not None and "--lora-init-without-apply" in server_args(cfg, 1234)
    units = Tool("units", "Convert a quantity.", {"type": "object", "properties": {"value": {"type": "number"}}})
    scales = {name: with_adapter_scale(request).extra_body["lora"] for name, request in {
        "plain": ChatRequest(messages=HI, extra_body={"ignore_eos": False}),
        "planner": ChatRequest(messages=HI, adapter=TOOLS_ADAPTER),
        "planner, scaled": ChatRequest(messages=HI, adapter=TOOLS_ADAPTER, adapter_scale=0.4),
        "plain, scaled": ChatRequest(messages=HI, adapter_scale=0.4),
        "tools": ChatRequest(messages=HI, tools=[units]),
        "tools off": ChatRequest(messages=HI, tools=[units], tool_choice="none")}.items()}
    assert scales == {"plain": [{"id": 0, "scale": 0.0}], "planner": [{"id": 0, "scale": 1.0}],
                      "planner, scaled": [{"id": 0, "scale": 0.4}], "plain, scaled": [{"id": 0, "scale": 0.0}],
                      "tools": [{"id": 0, "scale": 1.0}], "tools off": [{"id": 0, "scale": 0.0}]}
    assert with_adapter_scale(ChatRequest(messages=HI, extra_body={"ignore_eos": False})).extra_body["ignore_eos"] is False


@pytest.mark.model
async def test_answers_come_from_the_base_model_when_the_tool_adapter_is_loaded(tmp_path):
    """Answers, queries and judgements are written by the base model; only planning and tool requests
    get the adapter (it was trained on nothing else). One slot, so a planning request's cached
    prompt sits right before the next answer's."""
    questions = ["In one sentence, what is a library?", "Name three colours.", "Why is the sky blue?"]
    plan = ChatRequest(messages=[{"role": "system", "content": "Choose a tool. Reply with JSON only."},
                                 {"role": "user", "content": "What is 17 times 23?"}], max_tokens=64,
                       adapter=TOOLS_ADAPTER, response_schema={"type": "object", "properties": {"use": {
                           "enum": ["math", "answer"]}}, "required": ["use"]})
    answers: dict[str, list[str]] = {}
    for mode in ("off", "auto"):
        backend = make_backend(make_settings(tmp_path, tool_adapter=mode, parallel=1))
        try:
            for question in questions:
                await backend.chat(plan)
                ask = ChatRequest(messages=[{"role": "user", "content": question}], max_tokens=32)
                answers.setdefault(mode, []).append((await backend.chat(ask)).content)
            if mode == "auto":  # llama-server reports the adapter scale each slot last ran with
                async with httpx.AsyncClient() as client:
                    slots = (await client.get(backend.server.base_url.removesuffix("/v1") + "/slots")).json()
                await backend.chat(plan)
                async with httpx.AsyncClient() as client:
                    planned = (await client.get(backend.server.base_url.removesuffix("/v1") + "/slots")).json()
        finally:
            await backend.aclose()
    assert answers["auto"] == answers["off"] and all(answers["off"])
    assert [a["scale"] for a in slots[0]["params"]["lora"]] == [0.0]
    assert [a["scale"] for a in planned[0]["params"]["lora"]] == [1.0]
