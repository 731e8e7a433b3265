"""Real parts for the service tests: Redis servers of their own (the embedding model is in tests/conftest.py)."""

from __future__ import annotations

import shutil
import socket
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


class RedisCluster:
    """A 3-node Redis Cluster of the test session's own on 127.0.0.1 (masters only, the 16,384 slots
    split three ways), started with `redis-cli --cluster create` and stopped at the end."""

    def __init__(self, tmp) -> None:
        self.dir = tmp
        self.ports = _cluster_ports(3)
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> None:
        for port in self.ports:
            self.procs.append(subprocess.Popen(
                [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                 "--dir", str(self.dir), "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                 "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.ports:
            _wait_for(["redis-cli", "-p", str(port), "ping"], b"PONG")
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=30)
        for port in self.ports:
            _wait_for(["redis-cli", "-p", str(port), "cluster", "info"], b"cluster_state:ok")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []


def _cluster_ports(n: int) -> list[int]:
    """Free ports whose cluster-bus port (+10000) is free too."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port + 10000 <= 65535 and port not in ports:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            ports.append(port)
    return ports


def _wait_for(command: list[str], expected: bytes, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while expected not in subprocess.run(command, capture_output=True).stdout:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{' '.join(command)} did not say {expected.decode()!r}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory) -> Iterator[RedisCluster]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make redis` (the test suite needs a real Redis)")
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
