"""Real parts for the service tests: Redis servers of their own (the embedding model is in tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.server.helpers import free_port

SHARED_REDIS = "redis://127.0.0.1:6379/0"  # .ci/ensure-redis makes sure one answers there


@pytest.fixture
def prefix() -> str:
    """A key prefix of its own per test, so tests on the shared Redis never see each other."""
    return f"tansuo-test-{uuid.uuid4().hex[:8]}"


class RedisProcess:
    """A redis-server of this test's own, which it may stop and start again (same port, same data)."""

    def __init__(self, tmp) -> None:
        self.port = free_port()
        self.dir = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.dir), "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        ping = ["redis-cli", "-p", str(self.port), "ping"]
        while subprocess.run(ping, capture_output=True).stdout.strip() != b"PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make redis` (the test suite needs a real Redis)")
    redis = RedisProcess(tmp_path)
    redis.start()
    yield redis
    redis.stop()
