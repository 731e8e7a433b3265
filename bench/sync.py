"""Re-running `tansuo index add` on a site: what a re-run costs after one page changed, against the first
run, as a user runs it (a real `tansuo index add` process each time, the real embedding model).

    .venv/bin/python bench/sync.py [--pages 100] [--delay 0.2] [--check]

A site on 127.0.0.1 (the tests' `tests/retrieval/site.py`: ETag, Last-Modified, 304s, robots.txt, a
request log) serves `--pages` pages. Three runs per way of listing them, each in a fresh data dir:
the first run, a re-run after one page changed, and (for the URL list, which has no lastmod) the
requests it sent. Reported: wall time, pages sent in full, 304s. Targets: a re-run after one change
sends exactly that page in full, through a sitemap (lastmod) and through a URL list (the other pages
answer 304), and takes at most a quarter of the first run's time with the sitemap.
Results: stdout and bench/results/sync.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support.checks import add_check, at_most, run_info, save_and_finish  # noqa: E402
from tests.retrieval.site import Site, serving  # noqa: E402

TOPICS = ("ferry", "library", "pool", "market", "harbour", "museum", "tram", "park", "school", "clinic")


def index_add(data: Path, delay: float, *inputs: str) -> float:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")},
           "TANSUO_DATA_DIR": str(data), "TANSUO_DEFAULT_CORPUS": "false", "TANSUO_CRAWL_DELAY_S": str(delay)}
    started = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv/bin/tansuo"), "index", "add", *inputs], env=env, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"tansuo index add failed: {done.stderr.strip().splitlines()[-1:]}")
    print(f"  {done.stdout.strip()}", file=sys.stderr)
    return time.perf_counter() - started


def one_way(site: Site, how: str, data: Path, delay: float, listing: Path) -> dict:
    inputs = (f"{site.base}/sitemap.xml",) if how == "sitemap" else ("--urls", str(listing))
    first = index_add(data, delay, *inputs)
    site.put("/docs/3", "Pool notice", "The pool reopens on Saturday after repairs.", lastmod="2026-11-30")
    mark = len(site.log)
    again = index_add(data, delay, *inputs)
    asked = site.requested(mark)
    return {"first_s": round(first, 2), "rerun_s": round(again, 2), "ratio": round(again / first, 3),
            "full": sum(r.status == 200 for r in asked), "not_modified": sum(r.status == 304 for r in asked)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.2, help="TANSUO_CRAWL_DELAY_S for the runs")
    add_check(parser)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how in ("sitemap", "url list"):
            site = Site()
            for n in range(args.pages):
                topic = TOPICS[n % len(TOPICS)]
                site.put(f"/docs/{n}", f"{topic.title()} notice {n}",
                         f"Notice {n} about the {topic}: opening hours, prices and the season's changes. " * 6)
            with serving(site):
                listing = Path(tmp) / "urls.txt"
                listing.write_text("\n".join(f"{site.base}/docs/{n}" for n in range(args.pages)) + "\n")
                results[how] = one_way(site, how, Path(tmp) / how.replace(" ", "_"), args.delay, listing)
    print(f"| {args.pages} pages, {args.delay:g} s between requests | first run | re-run, one page changed "
          "| re-run ÷ first | sent in full | 304 |\n|---|---|---|---|---|---|")
    for how, r in results.items():
        print(f"| {how} | {r['first_s']:.1f} s | {r['rerun_s']:.1f} s | {r['ratio']:.2f} | {r['full']} "
              f"| {r['not_modified']} |")
    found = [at_most("sitemap re-run: pages sent in full", results["sitemap"]["full"], 1),
             at_most("URL-list re-run: pages sent in full", results["url list"]["full"], 1),
             at_most("sitemap re-run ÷ first run", results["sitemap"]["ratio"], 0.25)]
    return save_and_finish("sync", {**run_info(), "pages": args.pages, "delay_s": args.delay, **results},
                           found, args.check)


if __name__ == "__main__":
    sys.exit(main())
