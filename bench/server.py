"""Chat service benchmark, all parts measured side by side in one run on this machine.

    .venv/bin/python bench/server.py [--parts cache,prefix,load,pairs] [--load-s 120] [--clients 16] [--check]

(a) cache: answer-cache hit latency against a miss, end to end over HTTP (the official client's
    request to the service on 127.0.0.1, embedded model, news corpus): distinct questions first
    (misses: full turns), then the same questions again and reworded (hits). Target: hit >= 100x
    faster than a miss, hit p50 <= 10 ms.
(b) prefix: second-turn time to first token with the conversation's prefix reused in the embedded
    llama-server (its slot keeps the KV state; `cache_prompt`) against without (`cache_prompt:
    false`), on a ~1,550-token conversation. Target <= 0.1x.
(c) load: N concurrent clients for S seconds against the service (queue slots = the model's
    parallel sequences), twice: the default queue depth, and a short queue (depth 2) that must
    fill: zero 5xx, latency p50/p95, throughput, and every 429 a full-queue refusal with Retry-After.
(d) pairs: the answer cache's false-hit rate on the labelled question pairs
    (eval_sets/cache/pairs.jsonl), per split and kind; pairs that went wrong are listed for the dev
    split only (the test split gives counts). Target on the test split: <= 1% false hits, >= 50%
    hits on paraphrases.
Results: stdout (Markdown), bench/results/server.json and bench/results/server.png, both written by
this run alone (a run of some parts holds those parts); `--check` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.agent import CLOCK, NEWS, QUESTIONS, pct  # noqa: E402
from bench.support.checks import RESULTS, add_check, at_least, at_most, finish, run_info, targets_json  # noqa: E402
from tansuo.embedding import SentenceTransformerEmbedder, embedding_model_path  # noqa: E402
from tansuo.llm import make_backend  # noqa: E402
from tansuo.retrieval.build import open_index  # noqa: E402
from tansuo.retrieval.loaders import load_path  # noqa: E402
from tansuo.server.cache import AnswerCache, CacheOptions  # noqa: E402
from tansuo.server.parts import build_parts  # noqa: E402
from tansuo.server.store import MemoryStore  # noqa: E402
from tansuo.server.testing import serving  # noqa: E402
from tansuo.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "eval_sets" / "cache" / "pairs.jsonl"
TOOL_QUESTIONS = ["What is 37 times 91?", "Convert 5 liters to gallons", "What weekday was 2024-02-29?",
                  "What is 15% of 240?", "Convert 100 km to miles", "What is the square root of 1764?"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def news_questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows if r["corpus"] == "news"]


async def post(http: httpx.AsyncClient, question: str, **extra) -> tuple[int, float, dict]:
    body = {"model": "tansuo", "messages": [{"role": "user", "content": question}], **extra}
    started = time.perf_counter()
    resp = await http.post("/v1/chat/completions", json=body)
    ms = (time.perf_counter() - started) * 1000
    return resp.status_code, ms, (resp.json() if resp.headers.get("content-type", "").startswith("application/json")
                                  else {})


# --- (a) answer cache: hit against miss -----------------------------------------------------------

async def bench_cache(url: str, n: int) -> dict:
    questions = (TOOL_QUESTIONS + news_questions())[:n]
    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        misses, hits, repeats_hit = [], [], 0
        by_kind: dict[str, list[float]] = {"repeat": [], "reworded": []}
        for i, q in enumerate(questions, start=1):
            status, ms, body = await post(http, q)
            assert status == 200, body
            if body["tansuo"]["cached"] is None:
                misses.append(ms)
            log(f"  miss {i}/{len(questions)}: {ms:7.0f} ms  {q}")
        for q in questions:
            for kind, asked in (("repeat", q), ("reworded", f"Please tell me, {q[0].lower()}{q[1:]}")):
                status, ms, body = await post(http, asked)
                if body.get("tansuo", {}).get("cached"):
                    hits.append(ms)
                    by_kind[kind].append(ms)
                    repeats_hit += 1
    ratio = pct(misses, 0.5) / pct(hits, 0.5) if hits and misses else None
    return {"questions": len(questions), "miss_p50_ms": round(pct(misses, 0.5), 1),
            "miss_p95_ms": round(pct(misses, 0.95), 1), "hit_p50_ms": round(pct(hits, 0.5), 2),
            "hit_p95_ms": round(pct(hits, 0.95), 2), "hits": repeats_hit, "asked_again": 2 * len(questions),
            "speedup_p50": round(ratio, 1) if ratio else None, "hit_ms": hits, "miss_ms": misses,
            "hit_p50_ms_by_kind": {k: round(pct(v, 0.5), 2) if v else None for k, v in by_kind.items()},
            "hits_by_kind": {k: len(v) for k, v in by_kind.items()}}


# --- (b) prefix reuse in the embedded llama-server ------------------------------------------------

def conversation(target_tokens: int = 1170) -> list[dict]:
    docs = load_path(NEWS).documents
    messages = [{"role": "system", "content": "You are Tansuo, a search assistant. Answer briefly."}]
    text_tokens = 0
    for doc in docs:
        messages += [{"role": "user", "content": f"Summarise this news item: {doc.title}. {doc.text}"},
                     {"role": "assistant", "content": doc.text[:400]}]
        text_tokens += (len(doc.text) + len(doc.text[:400]) + len(doc.title)) // 4  # about; measured below
        if text_tokens >= target_tokens:
            break
    return messages


async def ttft(http: httpx.AsyncClient, messages: list[dict], cache_prompt: bool) -> tuple[float, int]:
    body = {"messages": messages, "stream": True, "max_tokens": 8, "temperature": 0, "cache_prompt": cache_prompt}
    started = time.perf_counter()
    first, prompt_n = None, 0
    async with http.stream("POST", "/v1/chat/completions", json=body) as resp:
        async for line in resp.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if first is None and data.get("choices") and data["choices"][0]["delta"].get("content"):
                first = (time.perf_counter() - started) * 1000
            prompt_n = data.get("timings", {}).get("prompt_n", prompt_n)
    return first or (time.perf_counter() - started) * 1000, prompt_n


async def bench_prefix(settings, rounds: int = 5) -> dict:
    backend = make_backend(settings)
    client = await backend.start()  # the embedded llama-server, as the service runs it
    base = client.base_url.removesuffix("/v1")
    history = conversation()
    rows = {"reuse": [], "no_reuse": []}
    prompt_tokens = {"reuse": [], "no_reuse": []}
    try:
        # no keep-alive: llama-server's HTTP library closes a connection after a few requests, and a
        # reused one that it closed fails the request
        async with httpx.AsyncClient(base_url=base, timeout=600,
                                     limits=httpx.Limits(max_keepalive_connections=0)) as http:
            for r in range(rounds):
                # a new conversation per round (its prefix never seen), turn one, then turn two
                head = [{**history[0], "content": history[0]["content"] + f" Session {uuid.uuid4().hex[:6]}."},
                        *history[1:]]
                for mode, cache in (("reuse", True), ("no_reuse", False)):
                    turn1 = head + [{"role": "user", "content": f"Round {r} {mode}: which item came first?"}]
                    await ttft(http, turn1, cache)
                    turn2 = turn1 + [{"role": "assistant", "content": "The first one."},
                                     {"role": "user", "content": "And which one came last?"}]
                    ms, n = await ttft(http, turn2, cache)
                    rows[mode].append(ms)
                    prompt_tokens[mode].append(n)
                log(f"  round {r + 1}/{rounds}: turn-two TTFT reuse {rows['reuse'][-1]:.0f} ms "
                    f"({prompt_tokens['reuse'][-1]} new tokens), without {rows['no_reuse'][-1]:.0f} ms "
                    f"({prompt_tokens['no_reuse'][-1]} tokens)")
    finally:
        await backend.aclose()
    reuse, none = pct(rows["reuse"], 0.5), pct(rows["no_reuse"], 0.5)
    return {"prefix_messages": len(history), "prompt_tokens_no_reuse": int(np.median(prompt_tokens["no_reuse"])),
            "prompt_tokens_reuse": int(np.median(prompt_tokens["reuse"])), "ttft_reuse_p50_ms": round(reuse, 1),
            "ttft_no_reuse_p50_ms": round(none, 1), "ratio": round(reuse / none, 4), "rows": rows}


# --- (c) load ----------------------------------------------------------------------------------

async def bench_load(url: str, clients: int, seconds: float) -> dict:
    pool = TOOL_QUESTIONS + news_questions()[:20]
    rows: list[dict] = []
    stop = time.monotonic() + seconds

    async def client(i: int) -> None:
        rnd = random.Random(i)
        async with httpx.AsyncClient(base_url=url, timeout=600) as http:
            while time.monotonic() < stop:
                q = rnd.choice(pool)
                status, ms, body = await post(http, q, cache=False)  # every request is a model turn
                rows.append({"status": status, "ms": ms, "code": body.get("error", {}).get("code"),
                             "t": time.monotonic()})
                if status == 429:
                    await asyncio.sleep(0.2)

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.monotonic() - started
    ok = [r["ms"] for r in rows if r["status"] == 200]
    statuses = Counter(r["status"] for r in rows)
    return {"clients": clients, "seconds": round(wall, 1), "requests": len(rows),
            "statuses": {str(k): v for k, v in statuses.items()},
            "errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
            "refused_429": statuses.get(429, 0),
            "refused_not_queue_full": sum(r["status"] == 429 and r["code"] != "queue_full" for r in rows),
            "p50_ms": round(pct(ok, 0.5), 1) if ok else None, "p95_ms": round(pct(ok, 0.95), 1) if ok else None,
            "throughput_per_min": round(len(ok) / wall * 60, 1)}


# --- (d) labelled pairs ------------------------------------------------------------------------

async def bench_pairs(embedder, similarity: float) -> dict:
    rows = [json.loads(line) for line in PAIRS.read_text().splitlines() if line.strip()]
    out_rows = []
    for r in rows:
        cache = AnswerCache(MemoryStore(), embedder, document_hash=lambda _: None,
                            options=CacheOptions(similarity=similarity))
        await cache.store_answer(r["a"], {"answer": "stored"})
        found = await cache.lookup(r["b"])
        out_rows.append({**r, "hit": found.hit is not None, "reason": found.reason,
                         "similarity": round(found.nearest or 0.0, 4)})
    summary = {}
    for split in ("dev", "test"):
        rs = [r for r in out_rows if (r["split"] == "dev") == (split == "dev")]
        same = [r for r in rs if r["same"]]
        diff = [r for r in rs if not r["same"]]
        embedding_only = [r for r in diff if r["similarity"] >= similarity]
        summary[split] = {"pairs": len(rs), "same": len(same), "different": len(diff),
                          "hit_rate": round(sum(r["hit"] for r in same) / max(1, len(same)), 4),
                          "false_hit_rate": round(sum(r["hit"] for r in diff) / max(1, len(diff)), 4),
                          "false_hit_rate_embedding_only": round(len(embedding_only) / max(1, len(diff)), 4)}
    by_kind = defaultdict(list)
    for r in out_rows:
        by_kind[(r["split"] == "dev", r["kind"])].append(r["hit"])
    summary["hits_by_kind"] = {f"{'dev' if dev else 'test'} {k}": round(sum(v) / len(v), 3)
                               for (dev, k), v in sorted(by_kind.items())}
    summary["dev_false_hits"] = [[r["a"], r["b"], r["kind"]] for r in out_rows
                                 if r["hit"] and not r["same"] and r["split"] == "dev"]
    summary["similarity"] = similarity
    return summary


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    if "cache" in report:
        c = report["cache"]
        axes[0].hist([np.log10(c["miss_ms"]), np.log10(c["hit_ms"])], bins=20, label=["miss (model turn)", "hit"])
        axes[0].set_xlabel("log10 latency (ms)")
        axes[0].set_title(f"answer cache: hit p50 {c['hit_p50_ms']} ms, {c['speedup_p50']}x faster")
        axes[0].legend()
    if "prefix" in report:
        p = report["prefix"]
        axes[1].bar(["prefix reused", "not reused"], [p["ttft_reuse_p50_ms"], p["ttft_no_reuse_p50_ms"]],
                    color=["tab:green", "tab:gray"])
        axes[1].set_ylabel("second-turn time to first token, p50 (ms)")
        axes[1].set_title(f"prefix reuse: {p['ratio']:.3f}x ({p['prompt_tokens_no_reuse']}-token prompt)")
    if "load" in report:
        labels, p50, p95 = [], [], []
        for name, row in report["load"].items():
            labels.append(f"{name}\n{row['requests']} req, {row['refused_429']} x 429")
            p50.append(row["p50_ms"] or 0)
            p95.append(row["p95_ms"] or 0)
        x = np.arange(len(labels))
        axes[2].bar(x - 0.2, p50, 0.4, label="p50")
        axes[2].bar(x + 0.2, p95, 0.4, label="p95")
        axes[2].set_xticks(x, labels)
        axes[2].set_ylabel("turn latency (ms)")
        axes[2].set_title("16 clients against the embedded model")
        axes[2].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def targets(report: dict) -> list:
    pairs, cache, prefix, load = (report.get(k) for k in ("pairs", "cache", "prefix", "load"))
    loads = list((load or {}).values())
    return [
        at_most("pairs, test split: false hits", pairs and 100 * pairs["test"]["false_hit_rate"], 1, "%"),
        at_least("pairs, test split: hits on same meaning", pairs and 100 * pairs["test"]["hit_rate"], 50, "%"),
        at_least("cache: hit faster than a miss, p50", cache and cache["speedup_p50"], 100, "x"),
        at_most("cache: hit p50", cache and cache["hit_p50_ms"], 10, " ms"),
        at_most("prefix: second-turn TTFT reused / not", prefix and prefix["ratio"], 0.1),
        at_most("load: 5xx responses", sum(r["errors_5xx"] for r in loads) if loads else None, 0),
        at_most("load: 429s that are not a full queue",
                sum(r["refused_not_queue_full"] for r in loads) if loads else None, 0)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="pairs,cache,prefix,load")
    parser.add_argument("--questions", type=int, default=20, help="distinct questions for the cache part")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--load-s", type=float, default=120)
    add_check(parser)
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    report: dict = run_info()
    with tempfile.TemporaryDirectory(prefix="tansuo-bench-server-") as tmp:
        settings = load_settings(data_dir=Path(tmp), default_corpus=False, n_ctx=4096, redis_url=None,
                                 rate_limit_burst=100_000, rate_limit_per_min=1e6)
        embedder = SentenceTransformerEmbedder(embedding_model_path(settings))
        if "pairs" in parts:
            log("(d) false hits on the labelled question pairs")
            report["pairs"] = await bench_pairs(embedder, settings.answer_cache_similarity)
        if parts & {"cache", "load"}:
            log("indexing the news eval corpus")
            open_index(settings, embedder=embedder).add(load_path(NEWS).documents)
        if "cache" in parts:
            log(f"(a) answer cache: {args.questions} questions, then again")
            with serving(settings, lambda: build_parts(settings, embedder=embedder, clock=lambda: CLOCK)) as url:
                report["cache"] = await bench_cache(url, args.questions)
        if "prefix" in parts:
            log("(b) prefix reuse in the embedded llama-server")
            report["prefix"] = await bench_prefix(settings)
        if "load" in parts:
            report["load"] = {}
            for name, depth in (("default queue", settings.queue_depth), ("short queue (depth 2)", 2)):
                log(f"(c) load: {args.clients} clients for {args.load_s:g} s, {name}")
                s = settings.model_copy(update={"queue_depth": depth})
                with serving(s, lambda s=s: build_parts(s, embedder=embedder, clock=lambda: CLOCK)) as url:
                    report["load"][name] = await bench_load(url, args.clients, args.load_s)
                    report["load"][name]["queue"] = {"slots": s.queue_slots or s.parallel, "depth": depth}
    checked = targets(report)
    report["targets"] = targets_json(checked)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "server.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    plot(report, RESULTS / "server.png")
    print_tables(report)
    return finish("server", checked, args.check)


def print_tables(report: dict) -> None:
    if "pairs" in report:
        p = report["pairs"]
        print(f"| question pairs (similarity >= {p['similarity']}) | pairs | hit rate, same meaning | false hits | "
              "false hits, embedding alone |\n|---|---|---|---|---|")
        for split in ("dev", "test"):
            r = p[split]
            print(f"| {split} | {r['pairs']} | {r['hit_rate']:.3f} | {r['false_hit_rate']:.3f} | "
                  f"{r['false_hit_rate_embedding_only']:.3f} |")
        print(f"\nFalse hits, dev split: {p['dev_false_hits']}\n")
    if "cache" in report:
        c = report["cache"]
        print(f"| answer cache | p50 ms | p95 ms |\n|---|---|---|\n| miss (full turn) | {c['miss_p50_ms']} | "
              f"{c['miss_p95_ms']} |\n| hit | {c['hit_p50_ms']} | {c['hit_p95_ms']} |\n")
        print(f"Hit p50 by kind: {c['hit_p50_ms_by_kind']} ({c['hits_by_kind']} hits).")
        print(f"Hit / miss speed-up (p50): {c['speedup_p50']}x; {c['hits']} of {c['asked_again']} repeats hit. "
              "Target >= 100x, hit p50 <= 10 ms.\n")
    if "prefix" in report:
        p = report["prefix"]
        print(f"Second-turn time to first token, {p['prompt_tokens_no_reuse']}-token prompt: reused prefix "
              f"{p['ttft_reuse_p50_ms']} ms ({p['prompt_tokens_reuse']} new tokens) vs not reused "
              f"{p['ttft_no_reuse_p50_ms']} ms: {p['ratio']:.3f}x (target <= 0.1x).\n")
    if "load" in report:
        print("| load | clients | requests | 5xx | 429 (all queue-full) | p50 ms | p95 ms | turns/min |\n"
              "|---|---|---|---|---|---|---|---|")
        for name, r in report["load"].items():
            print(f"| {name} | {r['clients']} | {r['requests']} | {r['errors_5xx']} | {r['refused_429']} "
                  f"({r['refused_429'] - r['refused_not_queue_full']}) | {r['p50_ms']} | {r['p95_ms']} | "
                  f"{r['throughput_per_min']} |")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
