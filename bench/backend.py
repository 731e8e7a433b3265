"""Backend benchmark: every ratio is measured side by side in one run.

    .venv/bin/python bench/backend.py [--reps 5] [--llama-cpp-python PYTHON] [--check]

(a) prompt and generation tokens/s of the embedded backend (through Tansuo's
    client, end to end) against raw llama.cpp (`llama-bench`, same GGUF,
    threads, flash attention and q8_0 KV cache); target >= 0.95.
(b) KV-cache memory at an 8,192-token context, q8_0 against f16, as llama.cpp
    allocates it; target <= 0.55.
(c) aggregate generation tokens/s with 4 concurrent requests against 1;
    target >= 1.5, or 95% of (c') where the machine's own ceiling is lower.
(c') the ceiling: llama.cpp's own generation tokens/s for 4 sequences decoded together against 1
    (`llama-batched-bench`: no server, no HTTP, the same GGUF, threads, flash attention, KV type).
(d) time to first token p50/p95 under 4 concurrent streams.
(e) prompt processing at ~1,500 tokens, q8_0 against f16 KV cache (the cost of (b)).
(f) with --llama-cpp-python: (c) for `llama_cpp.server`, the alternative we did not pick.
Results go to stdout as a Markdown table and to bench/results/backend.json; `--check` exits 1
when a target of (a), (a'), (b) or (c) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import add_check, at_least, at_most, finish, run_info, targets_json  # noqa: E402
from tansuo.llm import ChatRequest, StreamEnd, TextDelta  # noqa: E402
from tansuo.llm.embedded import EmbeddedBackend  # noqa: E402
from tansuo.llm.factory import server_config  # noqa: E402
from tansuo.llm.llama_server import LlamaServer, ServerConfig, free_port  # noqa: E402
from tansuo.llm.openai_compat import OpenAIBackend  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

PROMPT_TOKENS, GEN_TOKENS, LONG_PROMPT = 512, 128, 1536
WORDS = ("river stone market lantern harbor winter garden signal copper meadow orbit thunder "
         "ledger canvas pepper violet engine falcon summit quarry ribbon saddle timber velvet").split()
RESULTS = Path(__file__).parent / "results" / "backend.json"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def filler(n_words: int, rng: random.Random) -> str:
    """Text no earlier request shares a prefix with, so the prompt cache can't help."""
    return f"[{rng.random():.12f}] " + " ".join(rng.choice(WORDS) for _ in range(n_words))


# --- raw llama.cpp -------------------------------------------------------------------

def llama_bench(cfg: ServerConfig, env: dict[str, str], *, kv: str, prompt: int, gen: int, reps: int) -> dict:
    binary = cfg.binary.with_name("llama-bench")
    cmd = [str(binary), "-m", str(cfg.model_path), "-t", str(cfg.threads), "-fa", "1" if cfg.flash_attn else "0",
           "-ctk", kv, "-ctv", kv, "--poll", str(cfg.poll), "-p", str(prompt), "-n", str(gen), "-r", str(reps), "-o", "json"]
    out = subprocess.run(cmd, env={**subprocess.os.environ, **env}, capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)
    speed = {("pp" if r["n_prompt"] else "tg"): r["avg_ts"] for r in rows}
    return {"prompt_tps": speed.get("pp"), "gen_tps": speed.get("tg")}


def batched_ceiling(cfg: ServerConfig, env: dict[str, str], *, streams: int = 4, gen: int = 128) -> dict:
    """Generation tokens/s of llama.cpp itself for 1 and `streams` sequences in one batch: how much
    batching can give on this machine before any server or client is involved."""
    binary = cfg.binary.with_name("llama-batched-bench")
    cmd = [str(binary), "-m", str(cfg.model_path), "-c", str(streams * (128 + gen) + 64), "-npp", "128",
           "-ntg", str(gen), "-npl", f"1,{streams}", "-t", str(cfg.threads), "-fa", "on" if cfg.flash_attn else "off",
           "-ctk", cfg.kv_cache_type, "-ctv", cfg.kv_cache_type, "--poll", str(cfg.poll), "--output-format", "jsonl"]
    out = subprocess.run(cmd, env={**subprocess.os.environ, **env}, capture_output=True, text=True, check=True)
    rows = {r["pl"]: r["speed_tg"] for r in map(json.loads, (x for x in out.stdout.splitlines() if x.startswith("{")))}
    return {"gen_tps_1": rows[1], f"gen_tps_{streams}": rows[streams], "ratio": rows[streams] / rows[1]}


def kv_cache_mib(cfg: ServerConfig, env: dict[str, str], kv: str, n_ctx: int, workdir: Path) -> float:
    """KV buffer size llama.cpp reports when it allocates the cache."""
    log_path = workdir / f"kv-{kv}.log"
    server = LlamaServer(replace(cfg, kv_cache_type=kv, n_ctx=n_ctx, parallel=1, extra_args=("-lv", "4")),
                         env=env, log_path=log_path)
    server.start()
    server.stop()
    match = re.search(r"llama_kv_cache: size =\s*([\d.]+) MiB", log_path.read_text())
    if not match:
        raise RuntimeError(f"no KV size line in {log_path}")
    return float(match.group(1))


# --- through Tansuo's backend ---------------------------------------------------------

async def prompt_speed(backend, rng: random.Random, n_words: int) -> tuple[float, float]:
    """Prompt tokens/s as Tansuo's client sees it (whole request) and as llama-server reports it."""
    request = ChatRequest(messages=[{"role": "user", "content": filler(n_words, rng)}], max_tokens=1)
    result = await backend.chat(request)
    tokens = result.usage.prompt_tokens
    return tokens / (result.timings.total_ms / 1000), tokens / (result.timings.prompt_ms / 1000)


async def one_stream(backend, rng: random.Random, gen: int) -> tuple[float, int, float, float | None]:
    """(time to first token s, completion tokens, wall s, server's generation ms) of one stream."""
    request = ChatRequest(messages=[{"role": "user", "content": "Write a story. " + filler(20, rng)}],
                          max_tokens=gen, extra_body={"ignore_eos": True})  # greedy, as by default
    started = time.perf_counter()
    ttft, deltas = None, 0
    async for event in backend.stream(request):
        if isinstance(event, TextDelta):
            deltas += 1
            ttft = ttft or time.perf_counter() - started
        elif isinstance(event, StreamEnd):  # servers without streamed usage: one delta per token
            tokens = event.result.usage.completion_tokens or deltas
            return ttft or 0.0, tokens, time.perf_counter() - started, event.result.timings.generation_ms
    raise RuntimeError("stream without end")


async def gen_speed(backend, rng: random.Random, gen: int) -> tuple[float, float]:
    """Generation tokens/s after the first token, client-side and as llama-server reports it."""
    ttft, tokens, wall, server_ms = await one_stream(backend, rng, gen)
    return (tokens - 1) / (wall - ttft), tokens / (server_ms / 1000)


async def aggregate(backend, rng: random.Random, n: int, gen: int) -> tuple[float, list[float]]:
    """Aggregate generation tokens/s of n streams at once, and their TTFTs."""
    started = time.perf_counter()
    runs = await asyncio.gather(*(one_stream(backend, rng, gen) for _ in range(n)))
    return sum(run[1] for run in runs) / (time.perf_counter() - started), [run[0] for run in runs]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def concurrency_ratio(backend, rng: random.Random, rounds: int) -> dict:
    """1 and 4 streams in alternating rounds, so drift on a noisy machine hits both alike."""
    await one_stream(backend, rng, 8)  # warm up
    ones, fours, ttfts = [], [], []
    for _ in range(rounds):
        ones.append((await aggregate(backend, rng, 1, GEN_TOKENS))[0])
        rate, seen = await aggregate(backend, rng, 4, GEN_TOKENS)
        fours.append(rate)
        ttfts += seen
    one, four = statistics.median(ones), statistics.median(fours)
    return {"gen_tps_1": one, "gen_tps_4": four, "ratio": four / one,
            "ttft_p50_ms": pct(ttfts, 0.5) * 1000, "ttft_p95_ms": pct(ttfts, 0.95) * 1000}


async def speed_against_llama_bench(backend, cfg: ServerConfig, env: dict[str, str], rng: random.Random,
                                    reps: int) -> dict:
    """Alternate llama-bench and the embedded backend, rep by rep; medians of each."""
    words = int(PROMPT_TOKENS * 0.62)  # about 512 tokens of filler, chat template included
    await prompt_speed(backend, rng, 50)  # warm up
    runs: dict[str, list[float]] = {k: [] for k in ("pp_ours", "pp_server", "tg_ours", "tg_server", "pp_raw", "tg_raw")}
    for _ in range(reps):
        raw = llama_bench(cfg, env, kv=cfg.kv_cache_type, prompt=PROMPT_TOKENS, gen=GEN_TOKENS, reps=1)
        runs["pp_raw"].append(raw["prompt_tps"])
        runs["tg_raw"].append(raw["gen_tps"])
        for key, value in zip(("pp_ours", "pp_server"), await prompt_speed(backend, rng, words)):
            runs[key].append(value)
        for key, value in zip(("tg_ours", "tg_server"), await gen_speed(backend, rng, GEN_TOKENS)):
            runs[key].append(value)
    m = {k: statistics.median(v) for k, v in runs.items()}
    out = {"embedded": {"prompt_tps": m["pp_ours"], "gen_tps": m["tg_ours"]},
           "llama_server": {"prompt_tps": m["pp_server"], "gen_tps": m["tg_server"]},
           "llama_bench": {"prompt_tps": m["pp_raw"], "gen_tps": m["tg_raw"]}}
    for kind, short in (("prompt", "pp"), ("gen", "tg")):
        out[f"{kind}_ratio"] = m[f"{short}_ours"] / m[f"{short}_raw"]
        out[f"{kind}_ratio_server"] = m[f"{short}_ours"] / m[f"{short}_server"]
    return out


async def llama_cpp_python_ratio(python: str, cfg: ServerConfig, rng: random.Random, reps: int, workdir: Path) -> dict:
    port = free_port()
    kv_type = {"q8_0": 8, "f16": 1, "q4_0": 2}[cfg.kv_cache_type]
    cmd = [python, "-m", "llama_cpp.server", "--model", str(cfg.model_path), "--model_alias", cfg.alias,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(cfg.n_ctx), "--n_threads", str(cfg.threads),
           "--flash_attn", "true", "--type_k", str(kv_type), "--type_v", str(kv_type),
           "--interrupt_requests", "false"]  # queue requests instead of cutting streams off
    with open(workdir / "llama_cpp_server.log", "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", model=cfg.alias, max_retries=0)
    try:
        for _ in range(300):
            try:
                await backend.served_models()
                break
            except Exception:
                await asyncio.sleep(0.1)
        return await concurrency_ratio(backend, rng, reps)
    finally:
        await backend.aclose()
        proc.terminate()
        proc.wait()


# --- report ---------------------------------------------------------------------------

async def run(args: argparse.Namespace) -> dict:
    settings = load_settings()
    cfg, env = server_config(settings)
    rng = random.Random(7)
    workdir = Path(tempfile.mkdtemp(prefix="tansuo-bench-"))
    out: dict = {"model": cfg.model_path.name, "threads": cfg.threads, "kv_cache_type": cfg.kv_cache_type,
                 "flash_attn": cfg.flash_attn, "parallel": cfg.parallel, "n_ctx": cfg.n_ctx}

    log("(b) KV cache memory at 8192 tokens ...")
    kv = {t: kv_cache_mib(cfg, env, t, 8192, workdir) for t in ("f16", "q8_0")}
    out["kv_mib"] = {**kv, "ratio": kv["q8_0"] / kv["f16"]}

    backend = EmbeddedBackend(LlamaServer(cfg, env=env, log_path=workdir / "embedded.log"))
    try:
        await backend.start()
        log("(a) embedded backend vs llama-bench ...")
        out["speed"] = await speed_against_llama_bench(backend, cfg, env, rng, args.reps)
        log("(c, d) concurrency through the embedded backend ...")
        out["concurrency"] = await concurrency_ratio(backend, rng, args.reps)
    finally:
        await backend.aclose()
    log("(c') llama.cpp's own batching ceiling ...")
    runs = [batched_ceiling(cfg, env) for _ in range(args.reps)]
    out["ceiling"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    log("(e) long prompt, q8_0 vs f16 KV ...")
    long = {t: llama_bench(cfg, env, kv=t, prompt=LONG_PROMPT, gen=0, reps=args.reps)["prompt_tps"]
            for t in ("f16", "q8_0")}
    out["long_prompt_tps"] = {**long, "ratio": long["q8_0"] / long["f16"]}

    if args.llama_cpp_python:
        log("(f) llama_cpp.server concurrency ...")
        out["llama_cpp_server"] = await llama_cpp_python_ratio(args.llama_cpp_python, cfg, rng, args.reps, workdir)
    return out


def table(r: dict) -> str:
    s, c, k, lp = r["speed"], r["concurrency"], r["kv_mib"], r["long_prompt_tps"]
    e, srv, lb = s["embedded"], s["llama_server"], s["llama_bench"]
    rows = [
        ("(a) prompt tokens/s, embedded / llama-bench", f"{e['prompt_tps']:.0f} / {lb['prompt_tps']:.0f}", s["prompt_ratio"], "≥ 0.95"),
        ("(a) generation tokens/s, embedded / llama-bench", f"{e['gen_tps']:.1f} / {lb['gen_tps']:.1f}", s["gen_ratio"], "≥ 0.95"),
        ("(a') prompt tokens/s, embedded / llama-server's own timing", f"{e['prompt_tps']:.0f} / {srv['prompt_tps']:.0f}", s["prompt_ratio_server"], "≥ 0.95"),
        ("(a') generation tokens/s, embedded / llama-server's own timing", f"{e['gen_tps']:.1f} / {srv['gen_tps']:.1f}", s["gen_ratio_server"], "≥ 0.95"),
        ("(b) KV cache MiB at 8192 tokens, q8_0 / f16", f"{k['q8_0']:.1f} / {k['f16']:.1f}", k["ratio"], "≤ 0.55"),
        ("(c) aggregate gen tokens/s, 4 streams / 1", f"{c['gen_tps_4']:.1f} / {c['gen_tps_1']:.1f}", c["ratio"],
         f"≥ {streams_target(r):.2f}"),
        ("(c') llama.cpp itself (llama-batched-bench), gen tokens/s, 4 sequences / 1",
         f"{r['ceiling']['gen_tps_4']:.1f} / {r['ceiling']['gen_tps_1']:.1f}", r["ceiling"]["ratio"], "(ceiling)"),
        ("(d) TTFT under 4 streams, p50 / p95 ms", f"{c['ttft_p50_ms']:.0f} / {c['ttft_p95_ms']:.0f}", None, ""),
        (f"(e) prompt tokens/s at {LONG_PROMPT}, q8_0 / f16 KV", f"{lp['q8_0']:.0f} / {lp['f16']:.0f}", lp["ratio"], "(cost)"),
    ]
    if "llama_cpp_server" in r:
        lc = r["llama_cpp_server"]
        rows.append(("(f) llama_cpp.server gen tokens/s, 4 streams / 1", f"{lc['gen_tps_4']:.1f} / {lc['gen_tps_1']:.1f}", lc["ratio"], "(alternative)"))
    lines = ["| measure | values | ratio | target |", "|---|---|---|---|"]
    lines += [f"| {name} | {vals} | {'' if ratio is None else f'{ratio:.2f}'} | {target} |" for name, vals, ratio, target in rows]
    return "\n".join(lines)


def targets(r: dict) -> list:
    s, c, k = r["speed"], r["concurrency"], r["kv_mib"]
    return [at_least("(a) prompt tokens/s, embedded / llama-bench", s["prompt_ratio"], 0.95),
            at_least("(a) generation tokens/s, embedded / llama-bench", s["gen_ratio"], 0.95),
            at_least("(a') prompt tokens/s, embedded / llama-server's own timing", s["prompt_ratio_server"], 0.95),
            at_least("(a') generation tokens/s, embedded / llama-server's own timing", s["gen_ratio_server"], 0.95),
            at_most("(b) KV cache at 8192 tokens, q8_0 / f16", k["ratio"], 0.55),
            at_least("(c) aggregate generation tokens/s, 4 streams / 1", c["ratio"], streams_target(r))]


def streams_target(r: dict) -> float:
    """1.5, or 95% of what llama.cpp itself gains from batching here when that is less (2 cores)."""
    return round(min(1.5, 0.95 * r["ceiling"]["ratio"]), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="alternating rounds per comparison")
    parser.add_argument("--llama-cpp-python", metavar="PYTHON", help="a python with llama-cpp-python[server]")
    add_check(parser)
    args = parser.parse_args()
    results = {**run_info(), **asyncio.run(run(args))}
    checked = targets(results)
    results["targets"] = targets_json(checked)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"model {results['model']}, {results['threads']} threads, KV {results['kv_cache_type']}, "
          f"flash attention {'on' if results['flash_attn'] else 'off'}, {results['parallel']} slots")
    print(table(results))
    return finish("backend", checked, args.check)


if __name__ == "__main__":
    sys.exit(main())
