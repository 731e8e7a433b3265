"""Writes natural.jsonl: answers the embedded model actually wrote to the qa-news questions, with the
factuality check off (so an answer is as the model wrote it, before any verifier touched it), and
the documents each answer cites. build.py labels them by rule against the gold facts.

    .venv/bin/python eval_sets/factuality/natural.py      # about 10 minutes on 2 cores

Fields: qa (the qa-news item id), question, answer (markers renumbered to `sources`), sources (the
cited news document ids, in citation order), model, adapter.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).parent


async def main() -> None:
    from agent.turn import TurnRequest
    from evals.context import EvalContext, pipeline_agent
    from evals.sets import read_jsonl
    from tansuo.settings import load_settings

    questions = read_jsonl(HERE.parent / "qa" / "questions.jsonl")
    settings = load_settings(verifiers=["harmlessness"], n_ctx=4096, parallel=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tansuo-natural-") as work:
        ctx = EvalContext(settings, Path(work))
        try:
            agent = await pipeline_agent(ctx)
            for i, q in enumerate(questions, start=1):
                end = await agent.ask(TurnRequest(q["question"]))
                row = renumbered(q, end)
                if row is not None:
                    rows.append(row | {"model": settings.model_name, "adapter": str(settings.tool_adapter)})
                print(f"{i}/{len(questions)}", file=sys.stderr, flush=True)
        finally:
            await ctx.aclose()
    out = HERE / "natural.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{out}: {len(rows)} answers")


def renumbered(q: dict, end) -> dict | None:
    """The answer with its markers pointing into the list of the documents it cites; None when it
    cites a tool or nothing."""
    cited = [s for s in end.sources]
    if not cited or any(s.kind != "document" for s in cited):
        return None
    docs = list(dict.fromkeys(s.chunk_id.rsplit("#", 1)[0] for s in cited))
    position = {s.n: docs.index(s.chunk_id.rsplit("#", 1)[0]) + 1 for s in cited}
    answer = re.sub(r"\[(\d{1,3})\]", lambda m: f"[{position[int(m.group(1))]}]" if int(m.group(1)) in position
                    else "", end.answer)
    return {"qa": q["id"], "question": q["question"], "answer": answer, "sources": docs}


if __name__ == "__main__":
    asyncio.run(main())
