"""`tansuo index add` on documents where they live, as a real process with the real embedding model:
a sitemap on a site served from 127.0.0.1, a Git folder, and a folder watched for edits."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.retrieval.site import Site, serving
from tests.retrieval.test_local_sync import _git
from tests.tansuo.test_cli import assert_no_traceback, tansuo

SUMMARY = re.compile(r"(\d+) added, (\d+) changed, (\d+) removed, (\d+) skipped")


def _env(tmp_path: Path) -> dict[str, str]:
    return {"TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_DEFAULT_CORPUS": "false",
            "TANSUO_CRAWL_DELAY_S": "0.05"}


def _counts(stdout: str) -> tuple[int, ...]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    return tuple(int(n) for n in match.groups())


def test_a_sitemap_rerun_after_one_page_changed_fetches_one_page(tmp_path: Path) -> None:
    site = Site()
    for n, (title, body) in enumerate((("Ferry", "The ferry leaves at 07:15."), ("Library", "Opens at nine."),
                                       ("Pool", "Closed for repairs."), ("Market", "Saturdays on the square."))):
        site.put(f"/docs/{n}", title, body)
    site.put("/private/payroll", "Payroll", "Salaries.")
    env = _env(tmp_path)
    with serving(site):
        first = tansuo("index", "add", f"{site.base}/sitemap.xml", env=env)
        assert first.returncode == 0, first.stderr[-2000:]
        assert _counts(first.stdout) == (4, 0, 0, 1) and "1 disallowed by robots.txt" in first.stdout
        assert "fetching" in first.stderr  # the progress bar
        assert len(site.fetched()) == 4

        site.put("/docs/2", "Pool", "The pool reopens on Saturday.", lastmod="2026-03-01")
        mark = len(site.log)
        second = tansuo("index", "add", f"{site.base}/sitemap.xml", env=env)
        assert site.fetched(mark) == ["/docs/2"]  # one page fetched, counted from the server's log
        assert _counts(second.stdout) == (0, 1, 0, 4) and "3 not modified since the last run" in second.stdout

        found = tansuo("index", "search", "when does the pool reopen", "-k", "1", "--json", env=env)
        assert json.loads(found.stdout)["source"] == f"{site.base}/docs/2"
        listed = tmp_path / "pages.txt"
        listed.write_text(f"# two pages\n{site.base}/docs/0\n{site.base}/docs/missing\n", encoding="utf-8")
        urls = tansuo("index", "add", "--urls", str(listed), env=env)
        assert urls.returncode == 1 and f"skipped {site.base}/docs/missing: HTTP 404" in urls.stderr
        assert _counts(urls.stdout)[:3] == (0, 0, 0)  # the ferry page is already in: unchanged

        site.robots = "User-agent: *\nDisallow: /sitemap.xml\n"  # the sitemap cannot be read: nothing goes
        refused = tansuo("index", "add", f"{site.base}/sitemap.xml", env=env)
        assert refused.returncode == 1 and f"robots.txt disallows {site.base}/sitemap.xml" in refused.stderr
        stats = tansuo("index", "stats", env=env)
        assert any(line.split() == ["documents", "4"] for line in stats.stdout.splitlines()), stats.stdout
    for proc in (first, second, found, urls, refused, stats):
        assert_no_traceback(proc)


def test_a_folder_that_is_gone_removes_nothing(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Alpha\n\nThe first note.", encoding="utf-8")
    env = _env(tmp_path)
    assert tansuo("index", "add", str(docs), env=env).returncode == 0
    (docs / "a.md").unlink()
    docs.rmdir()
    gone = tansuo("index", "add", str(docs), env=env)
    assert gone.returncode == 1 and f"skipped {docs}: no such file or folder" in gone.stderr, gone.stderr
    stats = tansuo("index", "stats", env=env)
    assert any(line.split() == ["documents", "1"] for line in stats.stdout.splitlines()), stats.stdout
    assert_no_traceback(gone)


def test_a_git_folder_takes_its_commit_dates(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# Harbour guide\n\nThe harbour office opens at eight.", encoding="utf-8")
    (repo / "tides.rst").write_text("Tides\n=====\n\nHigh water at 06:40.", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "docs", date="2025-09-09T12:00:00+00:00")
    env = _env(tmp_path)
    added = tansuo("index", "add", str(repo), env=env)
    assert added.returncode == 0 and _counts(added.stdout)[0] == 2, added.stdout + added.stderr[-1500:]
    shown = tansuo("index", "show", str(repo / "tides.rst"), env=env)
    record = json.loads(shown.stdout.split("\n---", 1)[0])
    assert record["date_origin"] == "git_commit" and record["updated"].startswith("2025-09-09")
    assert record["title"] == "Tides"


def test_watch_reindexes_edits_and_removals(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.md").write_text("# Ferry\n\nThe ferry leaves at 07:15.", encoding="utf-8")
    (docs / "pool.md").write_text("# Pool\n\nThe pool opens at nine.", encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TANSUO_")}, **_env(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "tansuo.cli", "index", "add", str(docs), "--watch",
                             "--interval", "0.2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    try:
        _wait(lambda: any(SUMMARY.search(line) for line in lines), proc)  # the first pass
        (docs / "ferry.md").write_text("# Ferry\n\nThe ferry now leaves at 07:45 in winter.", encoding="utf-8")
        _wait(lambda: any("1 changed" in line for line in lines[1:]), proc)
        found = tansuo("index", "search", "ferry winter departure", "-k", "1", "--json", env=_env(tmp_path))
        assert "07:45" in json.loads(found.stdout)["text"]
        (docs / "ferry.md").unlink()
        _wait(lambda: any("1 removed" in line for line in lines[1:]), proc)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped watching" in err and "Traceback" not in err
    assert "watching" in err


def _wait(condition, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)
