"""Finding a running `tansuo serve` on the same data dir (what `tansuo ask` sends its question to)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tansuo.cli.running import announce, note_path, running_service, withdraw
from tests.conftest import make_settings


class Ready(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - the handler's API
        self.send_response(self.status if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def listening() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def test_a_ready_service_on_the_same_data_dir_is_found_and_its_note_taken_back(tmp_path, listening) -> None:
    settings = make_settings(tmp_path / "data", host="0.0.0.0", port=listening.server_address[1])
    assert running_service(settings) is None  # no note
    announce(settings, keys=False)
    assert running_service(settings) == f"http://127.0.0.1:{settings.port}/"
    other = make_settings(tmp_path / "other", port=settings.port)
    assert running_service(other) is None  # another data dir, another service
    withdraw(settings)
    assert not note_path(settings).exists() and running_service(settings) is None


def test_a_note_from_a_dead_process_a_keyed_service_or_one_not_ready_is_passed_over(tmp_path, listening) -> None:
    settings = make_settings(tmp_path / "data", port=listening.server_address[1])
    announce(settings, keys=True)
    assert running_service(settings) is None  # its API wants a key `ask` does not have
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    note = {"pid": int(dead.stdout), "url": f"http://127.0.0.1:{settings.port}/", "keys": False}
    note_path(settings).write_text(json.dumps(note))
    assert running_service(settings) is None  # killed without taking its note back
    note_path(settings).write_text(json.dumps({**note, "pid": os.getpid()}))
    Ready.status = 503
    try:
        assert running_service(settings) is None  # still starting
    finally:
        Ready.status = 200
    note_path(settings).write_text("{cut short")
    assert running_service(settings) is None
    note_path(settings).write_text(json.dumps(note))
    withdraw(settings)  # another process's note (a newer serve's): left alone
    assert note_path(settings).exists()
