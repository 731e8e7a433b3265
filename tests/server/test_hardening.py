"""Regressions from the hardening probes (issue 25), over real sockets: each key owns its
conversations and cached answers; bodies are limited as they stream; text that cannot be encoded is
a 400; unknown methods are a 405 and never a metric label; an unexpected error is JSON."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.server.auth import KeyRing
from tansuo.server.conversations import Conversations
from tansuo.server.store import MemoryStore, StoreUnavailable
from tests.agent.helpers import make_agent
from tests.conftest import make_settings
from tests.server.helpers import EchoBackend, parts_for, serving


def _service(tmp_path: Path, **overrides):
    agent, _ = make_agent([], tmp_path, backend=EchoBackend())
    settings = make_settings(tmp_path / "data", rate_limit_per_min=60_000, rate_limit_burst=1000, **overrides)
    parts = parts_for(settings, agent, HashingEmbedder())
    return serving(settings, parts), parts


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory):
    """A service with keys on, and two keys: A's and B's."""
    ctx, parts = _service(tmp_path_factory.mktemp("keyed"), api_keys="on")
    ring = KeyRing(parts.settings.effective_api_keys_file)
    a, b = ring.add("alice"), ring.add("bob")
    with ctx as url:
        yield url, {"authorization": f"Bearer {a}"}, {"authorization": f"Bearer {b}"}


def _ask(url: str, headers: dict, question: str, **extra) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": question}], **extra}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30)


def test_another_key_can_neither_read_continue_nor_delete_a_conversation(keyed) -> None:
    url, a, b = keyed
    assert _ask(url, a, "alice's secret plan?", conversation_id="chat-1").status_code == 200
    assert httpx.get(f"{url}/v1/conversations/chat-1", headers=b).status_code == 404
    assert httpx.delete(f"{url}/v1/conversations/chat-1", headers=b).status_code == 404
    continued = _ask(url, b, "and then?", conversation_id="chat-1").json()
    assert continued["choices"][0]["message"]["content"].endswith("(0 earlier messages)")  # B saw nothing of A's
    mine = httpx.get(f"{url}/v1/conversations/chat-1", headers=a).json()["messages"]
    assert [m["content"] for m in mine if m["role"] == "user"] == ["alice's secret plan?"]  # B's turn is B's own


def test_a_cached_answer_is_served_only_to_the_key_that_asked(keyed) -> None:
    url, a, b = keyed
    question = "What does the quarterly report say about Project Falcon?"
    _ask(url, a, question)
    assert _ask(url, a, question).json()["tansuo"]["cached"]["question"] == question
    theirs = _ask(url, b, question).json()["tansuo"]
    assert theirs["cached"] is None  # computed for B, not A's answer with A's question text


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(tmp_path: Path) -> None:
    ctx, _ = _service(tmp_path, max_request_bytes=100_000)
    sent = {"bytes": 0}

    def chunks():
        for _ in range(200):  # 200 x 100 KB = 20 MB, with no Content-Length
            sent["bytes"] += 100_000
            yield b" " * 100_000

    with ctx as url:
        try:
            resp = httpx.post(f"{url}/v1/chat/completions", content=chunks(),
                              headers={"content-type": "application/json"}, timeout=30)
        except httpx.HTTPError:  # the server answered and closed while the client still sent: refused too
            resp = None
        if resp is not None:
            assert resp.status_code == 413 and resp.json()["error"]["code"] == "request_too_large"
        assert sent["bytes"] < 20_000_000  # it was never read in full
        assert _ask(url, {}, "still fine?").status_code == 200


@pytest.mark.parametrize("where", ["content", "conversation_id", "extra"])
def test_a_lone_surrogate_anywhere_is_a_400_with_a_json_reason(tmp_path_factory, where: str) -> None:
    ctx, _ = _service(tmp_path_factory.mktemp("surrogate"))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if where == "content":
        body["messages"][0]["content"] = "bad \ud800 text"
    elif where == "conversation_id":
        body["conversation_id"] = "x\udfff"
    else:
        body["user"] = {"name": "\ud83d"}
    raw = json.dumps(body).encode()  # json escapes the lone surrogate as \ud800
    with ctx as url:
        resp = httpx.post(f"{url}/v1/chat/completions", content=raw, headers={"content-type": "application/json"})
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_text", resp.text
        assert "surrogate" in resp.json()["error"]["message"]
        latin = httpx.post(f"{url}/v1/chat/completions", content=b'{"model": "m", "messages": [{"role": "user", '
                           b'"content": "caf\xe9"}]}', headers={"content-type": "application/json"})
        assert latin.status_code == 400 and "UTF-8" in latin.json()["error"]["message"]
        paired = _ask(url, {}, "an emoji \U0001F600 is fine")
        assert paired.status_code == 200


def _raw(url: str, request: bytes) -> bytes:
    where = urlparse(url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(request)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        return out


def test_unknown_methods_get_405_with_allow_and_add_no_metric_series(tmp_path: Path) -> None:
    ctx, _ = _service(tmp_path)
    with ctx as url:
        for method in ("BREW", "XYZZY", "PROPFIND"):
            reply = _raw(url, f"{method} /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 405") and b"allow: get, head, post, delete, options" in head.lower()
            assert json.loads(body)["error"]["code"] == "method_not_allowed"
        metrics = httpx.get(f"{url}/metrics").text
        assert "BREW" not in metrics and "XYZZY" not in metrics and 'method="other"' in metrics
        known = httpx.put(f"{url}/healthz")  # a method the service knows, on a path without it
        assert known.status_code == 405 and known.headers["allow"] == "GET" and known.json()["error"]
        assert httpx.put(f"{url}/v1/conversations/c1").headers["allow"] == "DELETE, GET"


def test_an_unexpected_error_leaves_as_json_with_an_incident_id(tmp_path: Path, monkeypatch) -> None:
    ctx, parts = _service(tmp_path)

    async def broken(*args, **kwargs):
        raise RuntimeError("internal detail /var/secret/path")

    monkeypatch.setattr(parts.chat.conversations, "entries", broken)
    with ctx as url:
        resp = httpx.get(f"{url}/v1/conversations/abc")
        assert resp.status_code == 500 and resp.json()["error"]["code"] == "internal_error"
        assert "incident" in resp.json()["error"]["message"] and "/var/secret" not in resp.text


class _FlakyStore(MemoryStore):
    """A store that is down until `up` is set, and slow to append (a flush takes time)."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False

    async def append(self, conversation, entries, *, cap, ttl_s):
        import asyncio

        if not self.up:
            raise StoreUnavailable("the store does not answer")
        await asyncio.sleep(0.05)
        await super().append(conversation, entries, cap=cap, ttl_s=ttl_s)


async def test_held_back_turns_are_stored_once_when_two_requests_flush_together(tmp_path: Path) -> None:
    import asyncio

    store = _FlakyStore()
    conversations = Conversations(store, held_file=tmp_path / "held.jsonl")
    assert await conversations.save("alice", "c", "held one?", {"content": "answer one"}) is False
    store.up = True
    first, second = await asyncio.gather(conversations.load("alice", "c"), conversations.load("alice", "c"))
    assert first.degraded is None and second.degraded is None
    stored = await conversations.entries("alice", "c")
    assert [e["content"] for e in stored] == ["held one?", "answer one"]  # once, not twice
    assert not (tmp_path / "held.jsonl").exists()


async def test_held_back_turns_survive_a_restart(tmp_path: Path) -> None:
    store = _FlakyStore()
    held = tmp_path / "held.jsonl"
    assert await Conversations(store, held_file=held).save("alice", "c", "during the outage?", {"content": "a"}) \
        is False
    restarted = Conversations(store, held_file=held)  # a new process over the same data dir
    store.up = True
    loaded = await restarted.load("alice", "c")
    assert [m["content"] for m in loaded.messages] == ["during the outage?", "a"]
    assert (await restarted.load("bob", "c")).messages == []  # and still only its owner's


class _DeadBackend(EchoBackend):
    async def chat(self, request):
        from tansuo.errors import BackendUnavailable

        raise BackendUnavailable("llama-server exited; log /srv/tansuo/llama-server.log ends: at http://10.0.0.7:9000")


def test_a_503_tells_the_client_what_and_when_but_no_internals(tmp_path: Path) -> None:
    agent, _ = make_agent([], tmp_path, backend=_DeadBackend())
    settings = make_settings(tmp_path / "data")
    with serving(settings, parts_for(settings, agent, HashingEmbedder())) as url:
        resp = _ask(url, {}, "anyone there?", cache=False)
        assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
        error = resp.json()["error"]
        assert error["code"] == "backend_unavailable" and "incident" in error["message"]
        assert "/srv/tansuo" not in resp.text and "10.0.0.7" not in resp.text


def test_a_document_index_that_does_not_answer_is_a_503_not_a_400(tmp_path: Path) -> None:
    from tansuo.retrieval.milvus import IndexUnavailable

    agent, _ = make_agent([], tmp_path)

    def down(*args, **kwargs):
        raise IndexUnavailable("the Milvus index at http://10.0.0.8:19530: connection refused")

    agent.deps.index.search = down
    settings = make_settings(tmp_path / "data")
    with serving(settings, parts_for(settings, agent, HashingEmbedder())) as url:
        resp = _ask(url, {}, "When does the ferry leave?", cache=False)
        assert resp.status_code == 503 and resp.headers["retry-after"] == "5"
        assert resp.json()["error"]["code"] == "index_unavailable" and "10.0.0.8" not in resp.text


def test_n_and_token_limits_are_checked_and_the_bearer_scheme_is_case_insensitive(keyed) -> None:
    url, a, _ = keyed
    for extra, field in (({"n": 2}, "n"), ({"max_tokens": -5}, "max_tokens"), ({"max_completion_tokens": 0},
                                                                                "max_completion_tokens")):
        resp = _ask(url, a, "hi", **extra)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == field, resp.text
    assert _ask(url, a, "one is fine", n=1, max_tokens=64).status_code == 200
    lower = {"authorization": a["authorization"].replace("Bearer", "bearer")}
    assert _ask(url, lower, "a lower-case scheme").status_code == 200


def test_with_keys_on_metrics_and_the_api_docs_need_a_key_and_the_probes_do_not(keyed) -> None:
    url, a, _ = keyed
    for path in ("/metrics", "/openapi.json", "/docs", "/redoc"):
        refused = httpx.get(url + path)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key", path
        assert httpx.get(url + path, headers=a).status_code == 200, path
    assert httpx.get(f"{url}/v1/nowhere").status_code == 401  # unknown API paths: no key, no hint
    assert httpx.get(f"{url}/healthz").status_code == 200
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code in (200, 503) and set(ready.json()) == {"status", "problems", "store"}
    assert httpx.get(f"{url}/").status_code == 200  # the page itself asks for the key


def test_a_metrics_token_replaces_keys_for_metrics_only(tmp_path: Path) -> None:
    ctx, parts = _service(tmp_path, api_keys="on", metrics_token="scrape-me", public_docs=True)
    key = KeyRing(parts.settings.effective_api_keys_file).add("ops")
    with ctx as url:
        assert httpx.get(f"{url}/metrics", headers={"authorization": "Bearer scrape-me"}).status_code == 200
        wrong = httpx.get(f"{url}/metrics", headers={"authorization": f"Bearer {key}"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_metrics_token"
        assert httpx.get(f"{url}/openapi.json").status_code == 200  # public docs: the schema, no data
        assert _ask(url, {"authorization": "Bearer scrape-me"}, "hi").status_code == 401  # not an API key


def test_each_key_may_use_only_its_profiles(tmp_path: Path) -> None:
    ctx, parts = _service(tmp_path, api_keys="on")
    ring = KeyRing(parts.settings.effective_api_keys_file)
    plain = {"authorization": f"Bearer {ring.add('plain')}"}
    lab = {"authorization": f"Bearer {ring.add('lab', ('agent',))}"}
    with ctx as url:
        refused = _ask(url, plain, "plan a trip", profile="agent")
        assert refused.status_code == 403 and refused.json()["error"]["param"] == "profile"
        assert "tools, plugins" in refused.json()["error"]["message"]
        assert _ask(url, plain, "plan a trip", profile="plugins").status_code == 200
        assert _ask(url, lab, "plan a trip", profile="agent").status_code == 200
        assert _ask(url, lab, "plan a trip").status_code == 200  # the default profile is not its own: agent
        assert _ask(url, lab, "plan a trip", profile="tools").status_code == 403


def test_a_removed_key_is_refused_at_once(tmp_path: Path) -> None:
    ctx, parts = _service(tmp_path, api_keys="on")
    ring = KeyRing(parts.settings.effective_api_keys_file)
    headers = {"authorization": f"Bearer {ring.add('leaver')}"}
    with ctx as url:
        assert _ask(url, headers, "hi").status_code == 200
        ring.remove("leaver")
        assert _ask(url, headers, "hi").status_code == 401


def test_a_deeply_nested_body_is_a_400_before_any_key_check(keyed) -> None:
    url, _, _ = keyed
    body = b'{"q": "\\u0041", "m": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = httpx.post(f"{url}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_json"


def test_a_removed_keys_name_is_not_given_to_a_new_key(tmp_path: Path) -> None:
    from tansuo.errors import ConfigError

    ring = KeyRing(tmp_path / "keys.json")
    ring.add("ci")
    ring.remove("ci")
    with pytest.raises(ConfigError, match="choose another name"):
        KeyRing(tmp_path / "keys.json").add("ci")
    with pytest.raises(ConfigError, match="one or more"):
        ring.add("empty", ())


def test_an_empty_metrics_token_is_no_token(tmp_path: Path) -> None:
    assert make_settings(tmp_path, metrics_token="").metrics_token is None
