"""`tansuo index ...` as a real process, with the real embedding model."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tansuo.test_cli import assert_no_traceback, tansuo


def _env(tmp_path: Path) -> dict[str, str]:
    return {"TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_DEFAULT_CORPUS": "false", "TANSUO_CRAWL_DELAY_S": "0.05"}


def test_add_search_stats_remove(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "closure.md").write_text("---\nid: pool-closed\ntitle: Pool closed\npublished: 2024-05-01\n---\n"
                                     "The outdoor pool is closed for repairs.", encoding="utf-8")
    (docs / "reopen.md").write_text("---\nid: pool-open\ntitle: Pool reopens\npublished: 2025-06-01\n---\n"
                                    "The outdoor pool reopens on Saturday with a new slide.", encoding="utf-8")
    (docs / "broken.jsonl").write_text('{"text": "fine record about parking fees"}\n{oops\n', encoding="utf-8")
    env = _env(tmp_path)

    added = tansuo("index", "add", str(docs), env=env)
    assert added.returncode == 1  # something was skipped: say so in the exit code
    assert "3 added" in added.stdout and "1 problem(s)" in added.stdout
    assert f"skipped {docs / 'broken.jsonl'}:2: invalid JSON" in added.stderr
    assert "embedding" in added.stderr  # the progress bar

    found = tansuo("index", "search", "is the swimming pool open", "-k", "2", "--json", env=env)
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert found.returncode == 0 and {h["chunk_id"] for h in hits} == {"pool-closed#0", "pool-open#0"}

    recent = tansuo("index", "search", "swimming pool", "--since", "2025-01-01", "--json", env=env)
    assert [json.loads(line)["chunk_id"] for line in recent.stdout.splitlines()] == ["pool-open#0"]

    stats = tansuo("index", "stats", env=env)
    assert "documents     3" in stats.stdout and "chunks        3" in stats.stdout

    again = tansuo("index", "add", str(docs / "closure.md"), env=env)
    assert again.returncode == 0 and "1 unchanged" in again.stdout

    removed = tansuo("index", "remove", "pool-closed", "nope", env=env)
    assert removed.returncode == 1 and "1 removed; not in the index: nope" in removed.stdout
    after = tansuo("index", "search", "pool closed for repairs", "--json", env=env)
    assert "pool-closed" not in after.stdout
    for proc in (added, found, recent, stats, again, removed, after):
        assert_no_traceback(proc)


def test_bad_arguments_get_one_line_errors(tmp_path: Path) -> None:
    env = _env(tmp_path)
    bad_date = tansuo("index", "search", "x", "--since", "someday", env=env)
    assert bad_date.returncode == 2 and "not a date: 'someday'" in bad_date.stderr
    missing = tansuo("index", "show", "nope", env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "tansuo: error: no document 'nope' in the index"
    nothing = tansuo("index", "add", str(tmp_path / "absent"), env=env)
    assert nothing.returncode == 1 and "no such file or folder" in nothing.stderr
    broken_url = tansuo("index", "add", "http://[::1/x", env=env)
    assert broken_url.returncode == 1 and "skipped http://[::1/x: not a URL that can be fetched" in broken_url.stderr
    for proc in (bad_date, missing, nothing, broken_url):
        assert_no_traceback(proc)


def test_web_sources_are_off_by_default_and_results_can_be_ingested(tmp_path: Path) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from tests.retrieval.test_web import _Handler

    env = _env(tmp_path)
    off = tansuo("index", "web", "tide", env=env)
    assert off.returncode == 1 and "no web source configured" in off.stderr
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        env |= {"TANSUO_SEARXNG_URL": base, "TANSUO_MEDIAWIKI_URL": f"{base}/w/api.php"}
        web = tansuo("index", "web", "tide", "--add", env=env)
        assert web.returncode == 0, web.stderr
        assert "Spring tides  (2025-04-02, searxng)" in web.stdout and "Tide  (2025-01-20, mediawiki)" in web.stdout
        assert "3 added" in web.stdout
        found = tansuo("index", "search", "rise and fall of sea levels", "-k", "1", "--json", env=env)
        assert json.loads(found.stdout)["source"] == "https://wiki.example/wiki/Tide"
        page = tansuo("index", "add", f"{base}/page", f"{base}/notjson", env=env)
        assert page.returncode == 1 and "1 added" in page.stdout
        assert f"skipped {base}/notjson: unsupported content type" in page.stderr
        shown = tansuo("index", "show", f"{base}/page", env=env)
        assert '"date_origin": "http_header"' in shown.stdout and "Hello from the page." in shown.stdout
    finally:
        server.shutdown()
    assert_no_traceback(off)


def test_adding_to_a_new_data_dir_does_not_wait_for_the_default_corpus(tmp_path: Path) -> None:
    (tmp_path / "mine.md").write_text("# Tide table\n\nHigh water at Halden is at 06:40 on Monday.\n")
    env = {"TANSUO_DATA_DIR": str(tmp_path / "data"), "TANSUO_DEFAULT_CORPUS": "true"}
    added = tansuo("index", "add", str(tmp_path / "mine.md"), env=env)
    assert added.returncode == 0 and "1 added" in added.stdout and "1 chunks embedded" in added.stdout, \
        added.stdout + added.stderr[-1000:]
    # the corpus is still owed: the first reading command or service start builds it (not run here)
    stats = tansuo("index", "stats", env=env | {"TANSUO_DEFAULT_CORPUS": "false"})
    assert stats.returncode == 0 and any(line.split() == ["documents", "1"] for line in stats.stdout.splitlines())
