"""The second turn through `tansuo serve` (embedded defaults): does a follow-up reuse the first turn?

    .venv/bin/python bench/turns.py [--rounds 5] [--check]

A conversation of about 1,500 tokens (the user pastes notes, ~1,400 tokens of the Python docs' topics,
and asks about them; the answer), then a follow-up question, on the embedded defaults and on a profile
that answers from sources (both turns search). Each round, side by side:
- warm: the follow-up in the stored conversation (conversation_id), right after its first turn;
- cold: the same follow-up over another, never-seen conversation of the same length, sent whole
  (OpenAI-style messages), so none of its prompt can come from the model server's cache.
Time to first token of each, median over rounds, in one run, alternating which goes first.
Target: warm ≤ 0.2× cold (issue 28). Results: stdout and bench/results/turns.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support.checks import add_check, at_most, run_info, save_and_finish  # noqa: E402
from bench.support.service import start_serve, stop_serve, ttft  # noqa: E402
from tansuo.llm.factory import default_model_path  # noqa: E402
from tansuo.retrieval.corpus import stdlib_topics  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTE_CHARS = 4800  # about 1,400 tokens of this tokenizer on the docs' English
ASK = "Here are my notes:\n\n{notes}\n\nWhat are these notes about, in two sentences?"
FOLLOW_UP = "Which part of my notes should I read first, and why?"


def notes(count: int) -> list[str]:
    """`count` distinct pieces of NOTE_CHARS of plain English (the Python docs' topics that the
    default corpus ships), cut at a space."""
    text = "\n\n".join(d.text for d in stdlib_topics())
    pieces, at = [], 0
    while len(pieces) < count and at + NOTE_CHARS < len(text):
        piece = text[at:at + NOTE_CHARS]
        pieces.append(piece[:piece.rfind(" ")].strip())
        at += NOTE_CHARS
    if len(pieces) < count:
        raise SystemExit(f"the topics hold {len(pieces)} pieces of {NOTE_CHARS} characters; ask for fewer rounds")
    return pieces


def tokens_of(messages: list[dict[str, str]]) -> int:
    from transformers import AutoTokenizer

    path = default_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return len(tokenizer(tokenizer.apply_chat_template(messages, tokenize=False))["input_ids"])


def one_round(base: str, warm_notes: str, cold_notes: str, warm_first: bool) -> dict:
    conversation = f"bench-{uuid.uuid4().hex[:8]}"
    ask = {"role": "user", "content": ASK.format(notes=warm_notes)}
    _, answer, extras = ttft(base, [ask], conversation)  # the first turn, not timed
    if not extras.get("timings", {}).get("model_ms"):  # e.g. declined by the input check: nothing to reuse
        raise RuntimeError(f"the first turn was not answered by the model: {answer[:200]}")
    said = [{"role": "user", "content": ASK.format(notes=cold_notes)}, {"role": "assistant", "content": answer}]
    follow = {"role": "user", "content": FOLLOW_UP}
    timed = {}
    for kind in (("warm", "cold") if warm_first else ("cold", "warm")):
        if kind == "warm":
            timed["warm"] = ttft(base, [follow], conversation)[0]
        else:
            timed["cold"] = ttft(base, [*said, follow])[0]
    return {**timed, "conversation": [ask, {"role": "assistant", "content": answer}, follow]}


SCENARIOS = {
    # the embedded defaults: a follow-up in a chat, answered by the model from the conversation
    "defaults": {},
    # answers written from sources (the prose profiles); the index holds the Python topics, so both turns
    # search and the follow-up's sources are new to it
    "sources": {"TANSUO_MODEL_PROFILE": "plugins", "TANSUO_DEFAULT_CORPUS": "true", "TANSUO_CORPUS_PACKAGES": ""},
}


def scenario(env: dict[str, str], pieces: list[str], rounds: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_serve(Path(tmp) / "data", env, log=Path(tmp) / "serve.log", ready_s=900)
        try:
            ttft(base, [{"role": "user", "content": ASK.format(notes=pieces[-1])}])  # warms the process
            return [one_round(base, pieces[2 * i], pieces[2 * i + 1], i % 2 == 0) for i in range(rounds)]
        finally:
            stop_serve(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    add_check(parser)
    args = parser.parse_args()
    pieces = notes(2 * args.rounds + 1)
    results, rows = {**run_info(), "rounds": args.rounds}, []
    for name, env in SCENARIOS.items():
        rounds = scenario(env, pieces, args.rounds)
        warm, cold = (statistics.median(r[k] for r in rounds) for k in ("warm", "cold"))
        size = tokens_of(rounds[0]["conversation"])
        results[name] = {"conversation_tokens": size, "warm_ttft_ms": [round(r["warm"] * 1000) for r in rounds],
                         "cold_ttft_ms": [round(r["cold"] * 1000) for r in rounds], "ratio": round(warm / cold, 3)}
        rows.append(f"| {name} | {size} | {cold * 1000:.0f} ms | {warm * 1000:.0f} ms | {warm / cold:.2f}× |")
    print(f"| second turn through tansuo serve, median of {args.rounds} | conversation tokens | cold TTFT | "
          "warm TTFT | warm ÷ cold |\n|---|---|---|---|---|\n" + "\n".join(rows))
    found = [at_most(f"second-turn TTFT, warm ÷ cold ({name})", results[name]["ratio"], 0.2, "×")
             for name in SCENARIOS]
    return save_and_finish("turns", results, found, args.check)


if __name__ == "__main__":
    sys.exit(main())
