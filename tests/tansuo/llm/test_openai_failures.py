"""The openai backend against servers that misbehave, over real sockets on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tansuo.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadRequest,
    ContextOverflow,
    InvalidOutput,
)
from tansuo.llm import ChatRequest, TextDelta
from tansuo.llm.llama_server import free_port
from tansuo.llm.openai_compat import OpenAIBackend
from tests.http_helpers import JsonHandler

HELLO = [{"role": "user", "content": "hello"}]


class ScriptedServer(ThreadingHTTPServer):
    """A vLLM-shaped server whose answers the test sets: a queue of (status, body)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: list[tuple[int, object]] = []
        self.bodies: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(JsonHandler):
    server: ScriptedServer

    def do_GET(self) -> None:  # /v1/models
        self.send_json(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "vllm"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        status, payload = self.server.answers.pop(0)
        if status == 200 and body.get("stream"):
            self._send_sse(payload)
        else:
            self.send_json(status, payload)

    def _send_sse(self, chunks: object) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for chunk in [*chunks, "[DONE]"]:  # type: ignore[misc]
            text = chunk if isinstance(chunk, str) else json.dumps(chunk)
            self.wfile.write(f"data: {text}\n\n".encode())
            self.wfile.flush()


def completion(content: str) -> dict:
    return {
        "id": "x", "object": "chat.completion", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


async def test_server_down_is_unavailable_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend(url, model="m", max_retries=1)
    with pytest.raises(BackendUnavailable, match=r"127\.0\.0\.1"):
        await backend.chat(ChatRequest(messages=HELLO))
    await backend.aclose()


async def test_server_that_never_answers_times_out(silent_port):
    backend = OpenAIBackend(f"http://127.0.0.1:{silent_port}/v1", model="m", timeout_s=0.5, max_retries=3)
    with pytest.raises(BackendTimeout, match="did not answer in time"):
        await backend.chat(ChatRequest(messages=HELLO))
    await backend.aclose()


async def test_5xx_is_retried_then_succeeds(scripted):
    scripted.answers = [(503, {"error": {"message": "busy"}}), (502, {}), (200, completion("hi there"))]
    backend = OpenAIBackend(scripted.url, model="m", max_retries=2)
    result = await backend.chat(ChatRequest(messages=HELLO))
    assert result.content == "hi there" and result.usage.total_tokens == 5
    assert len(scripted.bodies) == 3
    await backend.aclose()


async def test_5xx_after_retries_is_a_backend_error(scripted):
    scripted.answers = [(500, {"error": {"message": "boom"}})] * 2
    backend = OpenAIBackend(scripted.url, model="m", max_retries=1)
    with pytest.raises(BackendError, match="boom"):
        await backend.chat(ChatRequest(messages=HELLO))
    await backend.aclose()


async def test_vllm_context_message_and_plain_4xx_are_typed(scripted):
    scripted.answers = [
        (400, {"object": "error", "message": "This model's maximum context length is 2048 tokens.", "type": "BadRequestError"}),
        (422, {"object": "error", "message": "temperature must be non-negative", "type": "BadRequestError"}),
    ]
    backend = OpenAIBackend(scripted.url, model="m", max_retries=0)
    with pytest.raises(ContextOverflow, match="2048"):
        await backend.chat(ChatRequest(messages=HELLO))
    with pytest.raises(BadRequest, match="HTTP 422.*temperature"):
        await backend.chat(ChatRequest(messages=HELLO))
    await backend.aclose()


async def test_vllm_dialect_gets_json_schema_response_format(scripted):
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    scripted.answers = [(200, completion('{"a": 7}'))]
    backend = OpenAIBackend(scripted.url, model="m")
    result = await backend.chat(ChatRequest(messages=HELLO, response_schema=schema))
    assert result.parsed == {"a": 7}
    fmt = scripted.bodies[0]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == schema
    await backend.aclose()


async def test_stream_error_event_is_typed(scripted):
    chunk = {"choices": [{"index": 0, "delta": {"content": "par"}, "finish_reason": None}]}
    scripted.answers = [(200, [chunk, {"error": {"message": "context size exceeded", "type": "exceed_context_size_error"}}])]
    backend = OpenAIBackend(scripted.url, model="m")
    seen = []
    with pytest.raises(ContextOverflow):
        async for event in backend.stream(ChatRequest(messages=HELLO)):
            seen.append(event)
    assert seen == [TextDelta("par")]
    await backend.aclose()


async def test_greedy_requests_to_llama_cpp_skip_the_sampler_chain(scripted):
    scripted.answers = [(200, completion("a")), (200, completion("b"))]
    backend = OpenAIBackend(scripted.url, model="m", dialect="llama.cpp")
    await backend.chat(ChatRequest(messages=HELLO, temperature=0))
    await backend.chat(ChatRequest(messages=HELLO, temperature=0.7))
    assert scripted.bodies[0]["samplers"] == ["top_k"] and scripted.bodies[0]["top_k"] == 1
    assert "samplers" not in scripted.bodies[1]
    await backend.aclose()


async def test_a_reply_that_is_not_the_openai_shape_is_a_backend_error(scripted):
    scripted.answers = [(200, {"unexpected": True}), (200, ["not", "an", "object"])]
    backend = OpenAIBackend(scripted.url, model="m")
    with pytest.raises(BackendError, match="malformed"):
        await backend.chat(ChatRequest(messages=HELLO))
    with pytest.raises(BackendError, match="malformed"):
        await backend.chat(ChatRequest(messages=HELLO))
    await backend.aclose()


STOPS = ["<a>", "<b>", "<c>", "<d>", "END"]


def _delta(text: str) -> dict:
    return {"id": "x", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


async def test_a_vllm_server_gets_four_stops_and_the_fifth_is_applied_here(scripted):
    scripted.answers = [(200, completion("one two END three")),
                        (200, [_delta("one tw"), _delta("o EN"), _delta("D three"), _delta(" four")])]
    backend = OpenAIBackend(scripted.url, model="m", dialect="vllm")
    result = await backend.chat(ChatRequest(messages=HELLO, stop=STOPS))
    assert result.content == "one two " and result.finish_reason == "stop"
    events = [e async for e in backend.stream(ChatRequest(messages=HELLO, stop=STOPS))]
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert streamed == "one two " == events[-1].result.content  # a stop split across pieces is still found
    assert events[-1].result.usage.completion_tokens == 3  # closed before the usage chunk: pieces counted
    assert [b["stop"] for b in scripted.bodies] == [STOPS[:4], STOPS[:4]]  # OpenAI's and vLLM's limit
    await backend.aclose()


async def test_a_vllm_server_is_not_sent_schema_keywords_its_decoder_refuses_and_the_reply_is_checked(scripted):
    schema = {"type": "object", "properties": {"picks": {"type": "array", "items": {"type": "integer"},
                                                         "uniqueItems": True}}, "required": ["picks"]}
    scripted.answers = [(200, completion('{"picks": [1, 2]}')), (200, completion('{"picks": [1, 1]}'))]
    backend = OpenAIBackend(scripted.url, model="m", dialect="vllm")
    result = await backend.chat(ChatRequest(messages=HELLO, response_schema=schema))
    assert result.parsed == {"picks": [1, 2]}
    assert "uniqueItems" not in json.dumps(scripted.bodies[0]["response_format"])
    with pytest.raises(InvalidOutput, match="non-unique|unique"):
        await backend.chat(ChatRequest(messages=HELLO, response_schema=schema))
    await backend.aclose()
