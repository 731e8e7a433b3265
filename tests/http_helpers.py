"""Small pieces shared by the tests' own HTTP servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet handler that can answer JSON."""

    def log_message(self, *args: object) -> None:
        pass

    def send_json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 (a free port) for the block; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def weather_manifest(url: str, **extra: object) -> dict:
    """An http plugin manifest for a city-weather endpoint at `url` (GET ?city=...), as the
    end-to-end tests serve it; `extra` adds or replaces top-level fields."""
    manifest = {
        "name": "city_weather", "kind": "http",
        "description": "Current weather for a city: temperature, conditions and wind.",
        "examples": ["weather in Paris right now", "is it raining in Tokyo?", "how cold is it in Helsinki today?"],
        "example_calls": [{"request": "weather in Paris right now", "arguments": {"city": "Paris"}}],
        "input_schema": {"type": "object", "properties": {"city": {"type": "string", "minLength": 1}},
                         "required": ["city"], "additionalProperties": False},
        "annotations": {"hosts": ["127.0.0.1"]},
        "http": {"method": "GET", "url": f"{url}/weather?city={{city}}", "body": "none"},
    }
    return {**manifest, **extra}
