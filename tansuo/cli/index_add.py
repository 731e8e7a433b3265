"""`tansuo index add`: files, folders, Git folders, pages, sitemaps and URL lists, each kept in step
with the index (`retrieval.sync`), and `--watch`, which re-indexes files and folders as they change."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from tansuo.cli.indexing import Bars, open_for, progress_bars
from tansuo.errors import TansuoError
from tansuo.settings import Settings, load_settings

EXIT_OK, EXIT_PROBLEMS = 0, 1
SETTLE_S = 0.3  # an editor saves in steps: wait this long for a change to settle before reading it

Kind = Literal["local", "page", "sitemap", "urls"]


@dataclass(frozen=True)
class Target:
    kind: Kind
    where: str  # a path or a URL

    @property
    def origin(self) -> str:
        """The key its memory is kept under (see `retrieval.sync`)."""
        where = self.where if _is_url(self.where) else str(Path(self.where).resolve())
        return f"urls:{where}" if self.kind == "urls" else where


def targets(args: argparse.Namespace) -> list[Target]:
    chosen = [Target(("sitemap" if _sitemap_like(i) else "page") if _is_url(i) else "local", i) for i in args.inputs]
    for url in args.sitemap:
        if not _is_url(url):
            raise TansuoError(f"--sitemap takes an http(s) URL, not {url!r}")
        chosen.append(Target("sitemap", url))
    chosen += [Target("urls", u) for u in args.urls]
    if not chosen:
        raise TansuoError("nothing to add: give files, folders or URLs, --sitemap URL or --urls FILE")
    if args.watch and not any(t.kind == "local" for t in chosen):
        raise TansuoError("--watch follows files and folders: give at least one")
    return chosen


def run_add(args: argparse.Namespace) -> int:
    settings = load_settings()
    chosen = targets(args)
    # looked at before the first pass, so an edit made during it is seen by --watch
    seen = {t: _snapshot(Path(t.where)) for t in chosen if t.kind == "local"} if args.watch else {}
    with progress_bars() as bars:
        # a user's own files never wait for the default corpus: the first search or service start builds it
        index = open_for(settings, bars, with_default_corpus=False)
        report = asyncio.run(_sync_all(settings, index, chosen, args.text_field, bars))
        index.prepare(bars)
    _say(report)
    if args.watch:
        return _watch(settings, index, seen, args, failing=set(seen) if report.problems else set())
    return EXIT_PROBLEMS if report.problems else EXIT_OK


async def _sync_all(settings: Settings, index, chosen: list[Target], text_field: str | None, bars: Bars):
    from tansuo.retrieval.crawl import Crawler
    from tansuo.retrieval.sync import SyncReport
    from tansuo.retrieval.web import make_client

    report = SyncReport()
    async with make_client(settings.web_timeout_s) as client:
        crawler = Crawler(client, delay_s=settings.crawl_delay_s)
        for target in chosen:
            report.merge(await _sync_one(index, crawler, target, text_field, bars))
    return report


async def _sync_one(index, crawler, target: Target, text_field: str | None, bars: Bars):
    from tansuo.retrieval.loaders import Problem
    from tansuo.retrieval.local import local_outcomes
    from tansuo.retrieval.remote import remote_outcomes
    from tansuo.retrieval.sync import OriginError, SyncReport, apply, remembered
    from tansuo.retrieval.web import ConnectorError

    before = remembered(index, target.origin)
    try:
        if target.kind == "local":
            outcomes = local_outcomes(Path(target.where), before, text_field=text_field,
                                      tick=lambda done, total: bars("reading", done, total))
        else:
            entries = await _entries(crawler, target)
            outcomes = await remote_outcomes(crawler, entries, before, text_field=text_field,
                                             tick=lambda done, total: bars("fetching", done, total))
        return apply(index, target.origin, outcomes, progress=bars)
    except (OriginError, ConnectorError) as exc:  # nothing could be listed: nothing is removed
        message = str(exc).removeprefix(f"{target.where}: ").removeprefix(f"{target.origin}: ")
        return SyncReport(problems=[Problem(target.where, message)])


async def _entries(crawler, target: Target):
    from tansuo.retrieval.sitemaps import Entry, ListingError, is_web_url, parse_url_list, sitemap_pages

    if target.kind == "page":
        if not is_web_url(target.where):
            raise ListingError("not a URL that can be fetched")
        return [Entry(target.where)]
    if target.kind == "sitemap":
        return await sitemap_pages(crawler, target.where)
    if _is_url(target.where):
        data = await crawler.get(target.where)
    else:
        try:
            data = Path(target.where).read_bytes()
        except OSError as exc:
            raise ListingError(f"cannot read the URL list: {exc.strerror or exc}") from None
    return parse_url_list(data.decode("utf-8", "replace"), target.where)


def _say(report, prefix: str = "") -> None:
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(prefix + report.line(), flush=True)


# --- --watch ------------------------------------------------------------------------------------

def _watch(settings: Settings, index, seen: dict[Target, tuple], args: argparse.Namespace,
           failing: set[Target]) -> int:
    """Look at the files every interval; a target that changed is synced again (only what changed is
    read). Ctrl-C stops it, and SIGTERM between two syncs; that is how it ends: exit 0, or 1 when the
    last sync of a target had problems."""
    stop = _on_sigterm()
    print(f"watching {', '.join(t.where for t in seen)} (every {args.interval:g} s; Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        while not stop:
            time.sleep(args.interval)
            for target in [t for t in seen if not stop and _snapshot(Path(t.where)) != seen[t]]:
                time.sleep(SETTLE_S)
                seen[target] = _snapshot(Path(target.where))
                if _resync(settings, index, target, args.text_field):
                    failing.add(target)
                else:
                    failing.discard(target)
    except KeyboardInterrupt:
        pass
    print("stopped watching", file=sys.stderr)
    return EXIT_PROBLEMS if failing else EXIT_OK


def _resync(settings: Settings, index, target: Target, text_field: str | None) -> bool:
    """One target synced again and its line printed; True when it had problems. A failure is a line,
    and the watch goes on."""
    try:
        with progress_bars() as bars:
            report = asyncio.run(_sync_all(settings, index, [target], text_field, bars))
            if report.touched:
                index.prepare(bars)
    except (TansuoError, OSError) as exc:
        print(f"{time.strftime('%H:%M:%S')} {target.where}: failed: {exc}", file=sys.stderr, flush=True)
        return True
    if report.touched:
        _say(report, prefix=f"{time.strftime('%H:%M:%S')} {target.where}: ")
    return bool(report.problems)


def _on_sigterm() -> list[bool]:
    """A flag SIGTERM sets, so a sync under way finishes before the watch ends (truthy once set)."""
    flag: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: flag.append(True))
    return flag


def _snapshot(path: Path) -> tuple:
    """What a change would alter: each file's size and mtime, and in Git the commit checked out."""
    from tansuo.retrieval.git import head
    from tansuo.retrieval.loaders import iter_files

    try:
        if path.is_file():
            info = path.stat()
            return ((str(path), info.st_mtime_ns, info.st_size),)
        if not path.is_dir():
            return ()
        files = []
        for file in iter_files(path):
            with contextlib.suppress(OSError):  # deleted while we looked
                info = file.stat()
                files.append((str(file), info.st_mtime_ns, info.st_size))
        return (head(path), *files)
    except OSError as exc:  # the folder went while we walked it: a change, synced (and said) next
        return ("unreadable", str(exc))


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _sitemap_like(url: str) -> bool:
    try:
        name = PurePosixPath(urlsplit(url).path).name.lower()
    except ValueError:  # not a URL at all: read as a page, which says so
        return False
    return name.startswith("sitemap") and name.endswith((".xml", ".xml.gz"))
