"""A `tansuo serve` process for benchmarks that measure what users get, and a streamed turn's
time to first answer text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tansuo.llm.llama_server import free_port


def start_serve(data: Path, env: dict[str, str], log: Path | None = None,
                ready_s: float = 300) -> tuple[subprocess.Popen, str]:
    """`tansuo serve` on a free port with `env` over the defaults (no default corpus, no answer cache,
    no rate limit); returns the process and its base URL once /readyz answers."""
    port = free_port()
    environ = {**os.environ, "TANSUO_DATA_DIR": str(data), "TANSUO_DEFAULT_CORPUS": "false",
               "TANSUO_PORT": str(port), "TANSUO_ANSWER_CACHE": "false", "TANSUO_RATE_LIMIT_BURST": "1000", **env}
    tansuo = shutil.which("tansuo", path=str(Path(sys.executable).parent)) or "tansuo"
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - the process owns it
    proc = subprocess.Popen([tansuo, "serve"], env=environ, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_s
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("tansuo serve did not get ready" + (f"; see {log}" if log else ""))
        time.sleep(0.5)


def stop_serve(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def ttft(base: str, messages: list[dict[str, str]],
         conversation: str | None = None) -> tuple[float, str, dict[str, Any]]:
    """Seconds from sending a streamed turn to its first answer text, the answer, and the turn's extras.
    A turn that did not complete raises: an answer about a failure comes fast and would flatter the number."""
    body: dict[str, Any] = {"model": "tansuo", "stream": True, "messages": messages}
    if conversation:
        body["conversation_id"] = conversation
    started = time.perf_counter()
    first, extras, text = None, {}, []
    with httpx.stream("POST", f"{base}/v1/chat/completions", json=body, timeout=300) as reply:
        reply.raise_for_status()
        for line in reply.iter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            choices = chunk.get("choices") or [{}]
            piece = choices[0].get("delta", {}).get("content")
            if piece:
                first = first if first is not None else time.perf_counter() - started
                text.append(piece)
            if choices[0].get("finish_reason"):
                extras = chunk.get("tansuo") or {}
    if not extras.get("complete"):
        raise RuntimeError(f"the turn did not complete: {extras.get('notice') or extras}")
    return (first if first is not None else time.perf_counter() - started), "".join(text), extras
