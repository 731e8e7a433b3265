"""`tansuo plugins new NAME --kind python|http|mcp`: a working plugin to start from. Each kind gets
a manifest that validates and a runnable file beside it: the python function, a small HTTP server
(standard library only) the manifest calls, or an MCP server (the official SDK) the manifest starts.
The example counts words, so `tansuo plugins test` has something real to run."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from tansuo.errors import TansuoError
from tansuo.plugins import manifest as manifest_module

SCHEMA = Path(manifest_module.__file__).with_name("manifest.schema.json")  # `tansuo plugins schema` prints it

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
DESCRIPTION = "Count the words in a text."
MODEL_DESCRIPTION = "Counts the words (runs of letters or digits) in a text the user gives."
EXAMPLES = ["how many words are in 'the quick brown fox'?", "count the words in: to be or not to be"]
CALLS = [{"request": EXAMPLES[0], "arguments": {"text": "the quick brown fox"}},
         {"request": EXAMPLES[1], "arguments": {"text": "to be or not to be"}}]
INPUT = {"type": "object", "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 20000,
                                                   "description": "the text whose words are counted"}},
         "required": ["text"], "additionalProperties": False}

PYTHON = '''"""The {name} plugin's function: Tansuo validates the arguments against the manifest's
input_schema, then calls it in a child process with a time and memory limit."""

import re


def run(text: str) -> dict:
    """The number of words in `text`; the manifest's `reads` turns it into a sentence."""
    return {{"words": len(re.findall(r"\\w+", text))}}
'''

HTTP_SERVER = '''"""A stand-in for the {name} plugin's web service (standard library only):
GET /{name}?text=... answers {{"words": N}}. Run it, then:
TANSUO_PLUGIN_ALLOW_PRIVATE_HOSTS=127.0.0.1 tansuo plugins test {manifest}"""

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else {port}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        text = parse_qs(url.query).get("text", [""])[0]
        status, body = (200, {{"words": len(re.findall(r"\\w+", text))}}) if url.path == "/{name}" \\
            else (404, {{"error": "not found"}})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    print(f"{name}: http://127.0.0.1:{{PORT}}/{name}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
'''

MCP_SERVER = '''"""The {name} plugin's MCP server (the official `mcp` SDK, stdio): Tansuo starts it for each
call, lists its tools, and offers each as the plugin `{name}_<tool>`."""

import re

from mcp.server.mcpserver import MCPServer

server = MCPServer("{name}")


@server.tool(description="{model_description}")
def count_words(text: str) -> dict:
    return {{"words": len(re.findall(r"\\w+", text))}}


if __name__ == "__main__":
    server.run()
'''


def new_plugin(name: str, kind: str, folder: Path, *, port: int = 8765) -> list[Path]:
    """Write the plugin's manifest and file into `folder`; returns them. Refuses a bad name or a
    file that is already there (nothing is overwritten)."""
    if not NAME.match(name):
        raise TansuoError(f"plugin name {name!r}: lower-case letters, digits and _, starting with a letter")
    manifest, code = folder / f"{name}.yaml", folder / (f"{name}.py" if kind == "python" else f"{name}_server.py")
    taken = [str(p) for p in (manifest, code) if p.exists()]
    if taken:
        raise TansuoError(f"already there, not overwritten: {', '.join(taken)}")
    folder.mkdir(parents=True, exist_ok=True)
    body = {"python": _python, "http": _http, "mcp": _mcp}[kind](name, code, port)
    code.write_text(body["code"])
    manifest.write_text(_yaml(body["manifest"]))
    return [manifest, code]


def _common(name: str) -> dict:
    return {"name": name, "description": DESCRIPTION, "model_description": MODEL_DESCRIPTION, "examples": EXAMPLES}


def _python(name: str, code: Path, port: int) -> dict:
    manifest = {**_common(name), "kind": "python", "input_schema": INPUT, "example_calls": CALLS,
                "returns": "the number of words", "reads": "The text has {words} words.", "timeout_s": 5,
                "python": {"entry": f"{name}:run"}}
    return {"manifest": manifest, "code": PYTHON.format(name=name)}


def _http(name: str, code: Path, port: int) -> dict:
    manifest = {**_common(name), "kind": "http", "input_schema": INPUT, "example_calls": CALLS,
                "returns": "the number of words", "reads": "The text has {words} words.", "timeout_s": 5,
                "annotations": {"read_only": True, "hosts": ["127.0.0.1"]},
                "http": {"method": "GET", "url": f"http://127.0.0.1:{port}/{name}?text={{text}}", "body": "none"}}
    return {"manifest": manifest, "code": HTTP_SERVER.format(name=name, port=port, manifest=f"{name}.yaml")}


def _mcp(name: str, code: Path, port: int) -> dict:
    manifest = {**_common(name), "kind": "mcp", "timeout_s": 20, "input_schema": INPUT, "example_calls": CALLS,
                "mcp": {"command": [sys.executable, str(code.resolve())], "tools": ["count_words"]}}
    return {"manifest": manifest, "code": MCP_SERVER.format(name=name, model_description=MODEL_DESCRIPTION)}


def _yaml(manifest: dict) -> str:
    """The manifest as YAML an editor validates (the schema comment), in the fields' natural order."""
    import yaml

    head = f"# yaml-language-server: $schema={SCHEMA.resolve()}\n" if SCHEMA.is_file() else ""
    return head + yaml.safe_dump(json.loads(json.dumps(manifest)), sort_keys=False, allow_unicode=True, width=100)
