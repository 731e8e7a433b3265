"""End to end: two `tansuo serve` processes on one Redis and one document index behave as one
service. A client alternates between them: a conversation continues on the other replica, an answer
cached by one is served by the other, the rate limit and the queue's 429s count both replicas'
requests, and a replica stopped mid-turn loses no stored history."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tansuo.retrieval.build import open_index
from tansuo.retrieval.loaders import load_path
from tansuo.server.auth import KeyRing
from tests.conftest import make_settings
from tests.server.conftest import SHARED_REDIS
from tests.server.helpers import free_port

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[2]
BURST = 40  # requests a key may make at once, on the two replicas together
START_S = 300


class Replica:
    """One `tansuo serve` process, its URL and its log."""

    def __init__(self, environ: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        tansuo = shutil.which("tansuo", path=str(Path(sys.executable).parent)) or "tansuo"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([tansuo, "serve"], env={**environ, "TANSUO_PORT": str(self.port)},
                                         stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = START_S
        while deadline > 0:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            threading.Event().wait(0.5)
            deadline -= 0.5
        raise AssertionError(f"the replica did not get ready: {self.log.read_text()[-2000:]}")

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=0, timeout=300)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(60)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[list[Replica], dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("replicas")
    fields = {"n_ctx": 4096, "parallel": 1, "default_corpus": False, "redis_url": SHARED_REDIS,
              "redis_prefix": f"tansuo-replicas-{uuid.uuid4().hex[:8]}", "api_keys": "on",
              "rate_limit_burst": BURST, "rate_limit_per_min": 0.1,  # a refill every ten minutes
              "queue_scope": "service", "queue_slots": 1, "queue_depth": 0}
    settings = make_settings(tmp / "data", **fields)
    open_index(settings, embedder=embedder).add(load_path(ROOT / "eval_sets" / "news").documents)
    ring = KeyRing(settings.effective_api_keys_file)
    keys = {name: ring.add(name) for name in ("alice", "bob")}
    environ = {**os.environ, **{f"TANSUO_{k.upper()}": str(v) for k, v in fields.items()},
               "TANSUO_DATA_DIR": str(settings.data_dir), "TANSUO_HOST": "127.0.0.1"}
    started = [Replica(environ, tmp / f"replica-{i}.log") for i in range(2)]
    try:
        for replica in started:
            replica.wait_ready()
        yield started, keys
    finally:
        for replica in started:
            replica.stop()


def _history(replica: Replica, key: str, conversation: str) -> list[str]:
    reply = httpx.get(f"{replica.url}/v1/conversations/{conversation}", headers={"Authorization": f"Bearer {key}"},
                      timeout=30)
    reply.raise_for_status()
    return [m["content"] for m in reply.json()["messages"]]


def test_a_conversation_alternates_between_replicas(replicas) -> None:
    (one, two), keys = replicas
    conv = {"conversation_id": f"alt-{uuid.uuid4().hex[:8]}", "cache": False}
    questions = ["What is 37 times 91?", "Convert 5 liters to gallons"]
    for i, question in enumerate(questions):
        replica = (one, two)[i % 2]
        replica.client(keys["alice"]).chat.completions.create(
            model="tansuo", extra_body=conv, messages=[{"role": "user", "content": question}])
    for replica in (one, two):  # each replica sees the whole conversation, in order
        assert _history(replica, keys["alice"], conv["conversation_id"])[::2] == questions
    with pytest.raises(httpx.HTTPStatusError) as other:  # and only its owner does
        _history(two, keys["bob"], conv["conversation_id"])
    assert other.value.response.status_code == 404


def test_an_answer_cached_by_one_replica_is_served_by_the_other(replicas) -> None:
    (one, two), keys = replicas
    question = [{"role": "user", "content": f"What is {uuid.uuid4().int % 900 + 100} times 7?"}]
    first = one.client(keys["alice"]).chat.completions.create(model="tansuo", messages=question)
    assert first.model_extra["tansuo"]["cached"] is None
    again = two.client(keys["alice"]).chat.completions.create(model="tansuo", messages=question)
    assert again.model_extra["tansuo"]["cached"] is not None
    assert again.choices[0].message.content == first.choices[0].message.content
    theirs = two.client(keys["bob"]).chat.completions.create(model="tansuo", messages=question)
    assert theirs.model_extra["tansuo"]["cached"] is None  # another owner's cached answer is not served


def test_the_queue_is_full_for_the_service_not_for_one_replica(replicas) -> None:
    (one, two), keys = replicas
    stream = one.client(keys["alice"]).chat.completions.create(
        model="tansuo", stream=True, extra_body={"cache": False},
        messages=[{"role": "user", "content": "What did the news say most recently? Summarize it."}])
    try:
        next(iter(stream))  # the turn holds the service's one place (slots 1, depth 0)
        refused = httpx.post(f"{two.url}/v1/chat/completions", headers={"Authorization": f"Bearer {keys['alice']}"},
                             json={"model": "tansuo", "cache": False,
                                   "messages": [{"role": "user", "content": "What is 3 plus 4?"}]}, timeout=60)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "queue_full"
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        for _ in stream:  # the first turn finishes; its place is given back
            pass
    served = two.client(keys["alice"]).chat.completions.create(
        model="tansuo", extra_body={"cache": False}, messages=[{"role": "user", "content": "What is 37 times 91?"}])
    assert "3,367" in served.choices[0].message.content


def test_the_rate_limit_counts_both_replicas_requests(replicas) -> None:
    (one, two), keys = replicas
    answered = 0
    for i in range(2 * BURST):  # bob alternates between the replicas until refused
        replica = (one, two)[i % 2]
        reply = httpx.get(f"{replica.url}/v1/conversations/none", headers={"Authorization": f"Bearer {keys['bob']}"},
                          timeout=30)
        if reply.status_code == 429:
            assert reply.json()["error"]["code"] == "rate_limited"
            break
        answered += 1
    # one bucket for both: bob's earlier requests came out of it too (two replicas of their own would
    # have let him make about 2 × BURST)
    assert BURST - 4 <= answered <= BURST


def test_a_replica_stopped_mid_turn_loses_no_stored_history(replicas) -> None:
    (one, two), keys = replicas
    conv = {"conversation_id": f"stop-{uuid.uuid4().hex[:8]}", "cache": False}
    two.client(keys["alice"]).chat.completions.create(
        model="tansuo", extra_body=conv, messages=[{"role": "user", "content": "What is 6 times 7?"}])
    stream = one.client(keys["alice"]).chat.completions.create(
        model="tansuo", extra_body=conv, stream=True, messages=[{"role": "user", "content": "What is 8 times 9?"}])
    chunks = iter(stream)
    next(chunks)
    one.proc.send_signal(signal.SIGTERM)  # mid-turn: the replica drains its turn, then exits
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)  # the whole answer comes
    assert one.proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn exits by the signal once drained
    history = _history(two, keys["alice"], conv["conversation_id"])
    assert history[0] == "What is 6 times 7?" and "42" in history[1]
    assert history[2] == "What is 8 times 9?" and "72" in history[3] and "72" in text and len(history) == 4
