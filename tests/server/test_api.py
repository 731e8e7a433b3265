"""The API over real sockets (uvicorn on 127.0.0.1), driven by the official `openai` client and
httpx, on the shipped scripted backend: compatibility, extras, errors, limits, operations."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.server.auth import KeyRing
from tansuo.server.protocol import ChatCompletion, ErrorResponse
from tansuo.server.store import RedisStore
from tests.agent.helpers import make_agent
from tests.conftest import make_settings
from tests.server.helpers import EchoBackend, parts_for, serving


def service(tmp_path: Path, *, backend=None, slots: int = 2, depth: int = 4, **overrides):
    agent, _ = make_agent([], tmp_path, backend=backend or EchoBackend())
    settings = make_settings(tmp_path / "data", **overrides)
    parts = parts_for(settings, agent, HashingEmbedder(), slots=slots, depth=depth)
    return serving(settings, parts), parts


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    ctx, parts = service(tmp_path_factory.mktemp("api"), rate_limit_per_min=60_000, rate_limit_burst=1000)
    with ctx as url:
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key="unused-on-loopback", max_retries=0)


def test_a_chat_completion_has_openais_shape_and_tansuos_extras(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="tansuo", messages=[{"role": "user", "content": "Hi there?"}])
    assert reply.object == "chat.completion" and reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content == "You asked: Hi there? (0 earlier messages)"
    extras = reply.model_extra["tansuo"]
    assert extras["conversation_id"] and extras["complete"] is True
    assert {v["verifier"] for v in extras["verdicts"]} <= {"factuality", "recency", "harmlessness"}
    assert [e["type"] for e in extras["trace"]][:2] == ["turn_started", "plan"]


def test_streaming_sends_the_answer_in_chunks_then_done(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="tansuo", stream=True, stream_options={"include_usage": True},
                                            messages=[{"role": "user", "content": "stream me a reply"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You asked: stream me a reply (0 earlier messages)"
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].model_extra["tansuo"]["answer"] == text
    assert chunks[-1].usage is not None and not chunks[-1].choices  # the usage chunk comes last


def test_tansuo_events_are_extra_sse_events_a_plain_client_passes_over(base: str, client: openai.OpenAI) -> None:
    body = {"model": "tansuo", "stream": True, "tansuo_events": True,
            "messages": [{"role": "user", "content": "trace this"}]}
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=30) as resp:
        raw = "".join(resp.iter_text())
    assert "event: tansuo\n" in raw and raw.rstrip().endswith("data: [DONE]")
    events = [json.loads(block.split("data: ", 1)[1]) for block in raw.split("\n\n")
              if block.startswith("event: tansuo")]
    assert {e["tansuo"]["event"]["type"] for e in events} >= {"turn_started", "plan"}
    assert all(e["choices"] == [] for e in events)
    stream = client.chat.completions.create(model="tansuo", stream=True, extra_body={"tansuo_events": True},
                                            messages=[{"role": "user", "content": "trace this too"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "You asked: trace this too (0 earlier messages)"


def test_a_conversation_keeps_its_history_until_deleted(base: str, client: openai.OpenAI) -> None:
    conv = {"conversation_id": "conv-history-1"}
    client.chat.completions.create(model="tansuo", messages=[{"role": "user", "content": "first question"}],
                                   extra_body=conv)
    second = client.chat.completions.create(model="tansuo", extra_body=conv,
                                            messages=[{"role": "user", "content": "second question"}])
    assert second.choices[0].message.content.endswith("(2 earlier messages)")  # the model saw turn one
    stored = httpx.get(f"{base}/v1/conversations/conv-history-1").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2
    assert stored["messages"][2]["content"] == "second question"
    assert httpx.delete(f"{base}/v1/conversations/conv-history-1").json() == {"id": "conv-history-1",
                                                                             "deleted": True}
    missing = httpx.get(f"{base}/v1/conversations/conv-history-1")
    assert missing.status_code == 404 and "no conversation" in missing.json()["error"]["message"]


def test_bad_requests_get_400_with_a_json_reason(base: str, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="tansuo", messages=[{"role": "assistant", "content": "hi"}])
    assert "last message must have role 'user'" in err.value.message
    cases = [({"model": "m", "messages": []}, "messages"),
             ({"messages": [{"role": "user", "content": "x"}]}, "model"),
             ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
             ({"model": "m", "messages": [{"role": "user", "content": "x" * 9000}]}, "limit is 8000"),
             ({"model": "m", "messages": [{"role": "user", "content": "x"}], "conversation_id": "a b"}, "pattern")]
    for body, expected in cases:
        resp = httpx.post(f"{base}/v1/chat/completions", json=body)
        assert resp.status_code == 400 and expected in json.dumps(resp.json()), (body, resp.text)
    resp = httpx.post(f"{base}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["type"] == "invalid_request_error"
    big = httpx.post(f"{base}/v1/chat/completions", content=b" " * 1_100_000,
                     headers={"content-type": "application/json"})
    assert big.status_code == 413 and "limit" in big.json()["error"]["message"]


def test_a_repeated_question_comes_from_the_answer_cache(client: openai.OpenAI) -> None:
    ask = {"model": "tansuo", "messages": [{"role": "user", "content": "What does the cache keep?"}]}
    first = client.chat.completions.create(**ask).model_extra["tansuo"]
    second = client.chat.completions.create(**ask).model_extra["tansuo"]
    assert first["cached"] is None and second["cached"]["question"] == "What does the cache keep?"
    assert client.chat.completions.create(**ask, extra_body={"cache": False}).model_extra["tansuo"]["cached"] is None


def test_operations_endpoints(base: str, client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["smollm2-135m-instruct-q4_1"]
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "memory"
    metrics = httpx.get(f"{base}/metrics").text
    assert 'tansuo_http_requests_total{method="POST",route="/v1/chat/completions",status="200"}' in metrics
    assert "tansuo_http_request_seconds_bucket" in metrics and "tansuo_queue_waiting 0" in metrics
    tools = httpx.get(f"{base}/v1/plugins").json()["data"]
    assert {t["name"] for t in tools} == {"add", "slow", "broken"}
    assert httpx.get(f"{base}/v1/plugins/search", params={"q": "weather"}).status_code == 200
    source = httpx.get(f"{base}/v1/sources/d1%230").json()
    assert source["document"]["title"] == "Halden tram line" and "12 km" in source["text"]
    assert httpx.get(f"{base}/v1/sources/nope%230").status_code == 404
    body = {"model": "tansuo", "messages": [{"role": "user", "content": "schema check"}]}
    ChatCompletion.model_validate(httpx.post(f"{base}/v1/chat/completions", json=body, timeout=30).json())
    ErrorResponse.model_validate(httpx.post(f"{base}/v1/chat/completions", json={}).json())  # what /docs says
    schema = httpx.get(f"{base}/openapi.json").json()
    assert "ChatCompletion" in schema["components"]["schemas"]
    assert {"/v1/chat/completions", "/v1/models", "/v1/conversations/{conversation_id}", "/readyz",
            "/metrics"} <= set(schema["paths"])
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and "/static/chat.js" in page.text


def test_a_full_queue_answers_429_with_retry_after(tmp_path: Path) -> None:
    ctx, parts = service(tmp_path, backend=EchoBackend(delay_s=1.5), slots=1, depth=0)
    with ctx as url:
        async def two() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                body = {"model": "m", "messages": [{"role": "user", "content": "busy?"}], "cache": False}
                first = asyncio.create_task(http.post("/v1/chat/completions", json=body))
                await asyncio.sleep(0.5)
                second = await http.post("/v1/chat/completions", json=body)
                return [await first, second]
        first, second = asyncio.run(two())
    assert first.status_code == 200
    assert second.status_code == 429 and int(second.headers["retry-after"]) >= 1
    assert second.json()["error"]["code"] == "queue_full"


def test_a_client_that_goes_away_cancels_its_turn(tmp_path: Path) -> None:
    ctx, parts = service(tmp_path, backend=EchoBackend(delay_s=3.0), slots=1)
    with ctx as url:
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "long one"}], "cache": False}
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=30) as resp:
            next(resp.iter_lines())  # the role chunk: the turn is running
            assert parts.chat.gate.running == 1
        deadline = time.monotonic() + 2.0  # well before the 3 s answer would have come
        while parts.chat.gate.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert parts.chat.gate.running == 0


def test_a_non_streaming_client_that_goes_away_cancels_its_turn_too(tmp_path: Path) -> None:
    ctx, parts = service(tmp_path, backend=EchoBackend(delay_s=3.0), slots=1)
    with ctx as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "long one"}], "cache": False}
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{url}/v1/chat/completions", json=body, timeout=0.8)
        deadline = time.monotonic() + 1.8  # the answer would come at 3 s
        while parts.chat.gate.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert parts.chat.gate.running == 0


def test_keys_are_required_off_loopback_and_rate_limited(tmp_path: Path) -> None:
    ctx, parts = service(tmp_path, api_keys="on", rate_limit_per_min=6, rate_limit_burst=2)
    key = KeyRing(parts.settings.effective_api_keys_file).add("tester")
    assert key not in parts.settings.effective_api_keys_file.read_text()  # hashed at rest
    with ctx as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "who am i"}]}
        anonymous = httpx.post(f"{url}/v1/chat/completions", json=body)
        assert anonymous.status_code == 401 and "API key is required" in anonymous.json()["error"]["message"]
        wrong = httpx.post(f"{url}/v1/chat/completions", json=body, headers={"authorization": "Bearer tsk-nope"})
        assert wrong.status_code == 401
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
        client.chat.completions.create(**body)
        client.chat.completions.create(**body)
        with pytest.raises(openai.RateLimitError) as err:
            client.chat.completions.create(**body)
        assert int(err.value.response.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/healthz").status_code == 200  # operations stay open


def test_redis_stopping_mid_conversation_is_a_notice_not_an_error_and_nothing_is_lost(tmp_path: Path,
                                                                                     own_redis) -> None:
    agent, _ = make_agent([], tmp_path, backend=EchoBackend())
    settings = make_settings(tmp_path / "data", redis_url=own_redis.url)
    store = RedisStore(own_redis.url, timeout_s=0.5)
    with serving(settings, parts_for(settings, agent, HashingEmbedder(), store=store)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0)
        conv = {"conversation_id": "degraded-1"}
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "turn one"}], extra_body=conv)
        own_redis.stop()
        reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "turn two"}],
                                               extra_body=conv)
        extras = reply.model_extra["tansuo"]
        assert "conversation store is unavailable" in extras["notice"]
        assert reply.choices[0].message.content.endswith("You asked: turn two (0 earlier messages)")
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503 and "does not answer" in ready.json()["problems"]["store"]
        gone = httpx.get(f"{url}/v1/conversations/degraded-1")
        assert gone.status_code == 503 and gone.json()["error"]["code"] == "store_unavailable"
        own_redis.start()  # same data: what was stored is still there
        after = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "turn three"}],
                                               extra_body=conv)
        assert after.model_extra["tansuo"]["notice"] is None
        assert after.choices[0].message.content.endswith("(4 earlier messages)")  # turn two was kept
        stored = httpx.get(f"{url}/v1/conversations/degraded-1").json()["messages"]
        assert [m["content"] for m in stored if m["role"] == "user"] == ["turn one", "turn two", "turn three"]
        assert httpx.get(f"{url}/readyz").status_code == 200


def test_shutdown_lets_an_in_flight_turn_finish(tmp_path: Path) -> None:
    ctx, parts = service(tmp_path, backend=EchoBackend(delay_s=1.0), slots=1)
    results: list[httpx.Response] = []
    with ctx as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "finish me"}], "cache": False}
        worker = threading.Thread(target=lambda: results.append(
            httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)))
        worker.start()
        time.sleep(0.3)  # the turn is running when the service is told to stop (leaving this block)
    worker.join(30)
    assert results and results[0].status_code == 200
    assert results[0].json()["choices"][0]["message"]["content"] == "You asked: finish me (0 earlier messages)"


def test_langchains_chat_openai_works_unchanged(base: str) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{base}/v1", api_key="local", model="tansuo", max_retries=0)
    assert llm.invoke("What does LangChain see?").content == "You asked: What does LangChain see? (0 earlier messages)"
    streamed = "".join(chunk.content for chunk in llm.stream("Does it stream?"))
    assert streamed == "You asked: Does it stream? (0 earlier messages)"


def test_while_the_default_corpus_is_built_a_search_says_so_and_is_not_cached(tmp_path: Path) -> None:
    from tansuo.retrieval.background import CorpusBuild
    from tansuo.server.parts import assemble_parts
    from tansuo.server.store import MemoryStore
    from tests.agent.helpers import ANSWER, call, search
    from tests.retrieval.test_background import Gated, until

    tram = [*search("Halden tram line opening"), "The tram line opened on 3 March 2025 [1]."]
    broken = call(("broken", {"x": 1}))  # a tool that fails: the answer is the model's own, for want of documents
    agent, _ = make_agent([*tram, *call(("add", {"a": 2, "b": 3})), *broken, "I cannot tell.", ANSWER, "Hello!",
                           *tram], tmp_path)
    settings = make_settings(tmp_path / "data", default_corpus=True, corpus_packages=[])
    gated = Gated()
    corpus = CorpusBuild(settings, gated).start()  # held at its first batch until the test lets it go
    parts = assemble_parts(settings, agent, HashingEmbedder(), MemoryStore(), queue=(2, 4), corpus=corpus)
    with serving(settings, parts) as url:
        until(lambda: corpus.state.total > 0)
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["default_corpus"]["building"]  # answering meanwhile
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", max_retries=0)

        def ask(text: str):
            return client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])

        first = ask("When did the tram line open?")
        notice = first.model_extra["tansuo"]["notice"]
        assert notice.startswith("The default documents are still being indexed (0 of ")
        said = first.choices[0].message.content
        assert said.startswith(notice) and "3 March 2025 [1]" in said
        assert ask("What is 2 plus 3?").model_extra["tansuo"]["notice"] is None  # a tool answered it
        assert ask("What does x do?").model_extra["tansuo"]["notice"] == notice  # the tool failed
        assert ask("Hello").model_extra["tansuo"]["notice"] == notice  # perhaps answered for want of documents
        for _ in range(50):
            gated.batches.release()
        assert corpus.wait(60) and corpus.state.finished
        again = ask("When did the tram line open?")  # answered afresh: the partial answer was not cached
        assert again.model_extra["tansuo"]["notice"] is None and again.model_extra["tansuo"]["cached"] is None
        assert "default_corpus" not in httpx.get(f"{url}/readyz").json()
