"""Tansuo on a vLLM server (run by `make test-vllm`, which starts vLLM first):

    .venv/bin/python bench/vllm.py --url http://127.0.0.1:8100/v1 --model NAME [--check]

(a) batching: aggregate generation tokens/s of 4 concurrent streams against 1, alternating rounds,
    through Tansuo's openai backend (the client `tansuo serve` uses); the same for the embedded
    backend (llama-server) in the same run, for comparison on this machine.
(b) second-turn time to first token through `tansuo serve` (backend=openai on the vLLM server, prefix
    caching on): a conversation's first turn, then a follow-up, median over conversations.
Targets: (a) 4-stream ratio >= 1.5 on vLLM. (b) is recorded, not a target here (issue 28 owns the
prompt layout that decides it).
Results: stdout and bench/results/vllm.json.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backend import concurrency_ratio  # noqa: E402
from bench.support.checks import add_check, at_least, run_info, save_and_finish  # noqa: E402
from bench.support.service import start_serve, stop_serve, ttft  # noqa: E402
from tansuo.llm.embedded import EmbeddedBackend  # noqa: E402
from tansuo.llm.factory import server_config  # noqa: E402
from tansuo.llm.llama_server import LlamaServer  # noqa: E402
from tansuo.llm.openai_compat import OpenAIBackend  # noqa: E402
from tansuo.settings import Settings  # noqa: E402

FIRST = ("I am planning a week of walking along the coast in early spring and want to keep my pack light. "
         "Tell me in a few sentences what matters most when choosing a waterproof jacket for it.")
FOLLOW_UP = "And what about shoes?"


async def batching(url: str, model: str, rounds: int) -> dict:
    rng = random.Random(7)
    out = {}
    vllm = OpenAIBackend(url, model=model, dialect="vllm")
    try:
        out["vllm"] = await concurrency_ratio(vllm, rng, rounds)
    finally:
        await vllm.aclose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp), parallel=4)  # type: ignore[call-arg]
        cfg, env = server_config(settings)
        embedded = EmbeddedBackend(LlamaServer(cfg, env=env, log_path=Path(tmp) / "server.log"))
        try:
            out["embedded"] = await concurrency_ratio(embedded, rng, rounds)
        finally:
            await embedded.aclose()
    return out


def second_turn(url: str, model: str, conversations: int) -> dict:
    env = {"TANSUO_BACKEND": "openai", "TANSUO_OPENAI_BASE_URL": url, "TANSUO_OPENAI_MODEL": model,
           "TANSUO_OPENAI_DIALECT": "vllm"}
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_serve(Path(tmp), env)
        try:
            firsts, seconds = [], []
            for i in range(conversations):
                conversation = f"bench-{i}-{random.random():.6f}"
                firsts.append(ttft(base, [{"role": "user", "content": FIRST}], conversation)[0])
                seconds.append(ttft(base, [{"role": "user", "content": FOLLOW_UP}], conversation)[0])
        finally:
            stop_serve(proc)
    first, second = statistics.median(firsts), statistics.median(seconds)
    return {"first_turn_ttft_ms": round(first * 1000), "second_turn_ttft_ms": round(second * 1000),
            "ratio": round(second / first, 3), "conversations": conversations}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the vLLM server's OpenAI base URL (…/v1)")
    parser.add_argument("--model", required=True, help="the served model's name")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=5)
    add_check(parser)
    args = parser.parse_args()
    results = {**run_info(), "batching": asyncio.run(batching(args.url, args.model, args.rounds)),
               "second_turn": second_turn(args.url, args.model, args.conversations)}
    b, t = results["batching"], results["second_turn"]
    print("| measure | vLLM (bf16) | embedded llama-server (Q4_1) |\n|---|---|---|")
    print(f"| generation tok/s, 1 stream | {b['vllm']['gen_tps_1']:.1f} | {b['embedded']['gen_tps_1']:.1f} |")
    print(f"| generation tok/s, 4 streams | {b['vllm']['gen_tps_4']:.1f} | {b['embedded']['gen_tps_4']:.1f} |")
    print(f"| 4 streams ÷ 1 | {b['vllm']['ratio']:.2f}× | {b['embedded']['ratio']:.2f}× |")
    print(f"| TTFT p50 under 4 streams | {b['vllm']['ttft_p50_ms']:.0f} ms | {b['embedded']['ttft_p50_ms']:.0f} ms |")
    print(f"\nthrough tansuo serve on vLLM: first turn TTFT {t['first_turn_ttft_ms']} ms, second turn "
          f"{t['second_turn_ttft_ms']} ms ({t['ratio']}×), median of {t['conversations']} conversations")
    found = [at_least("vLLM: 4 streams ÷ 1 stream", b["vllm"]["ratio"], 1.5, "×")]
    return save_and_finish("vllm", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
