"""`tansuo index add|search|stats|remove|show`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime

from tansuo.cli.indexing import Bars, open_for, progress_bars
from tansuo.errors import TansuoError
from tansuo.settings import Settings, load_settings

__all__ = ["add_parser", "progress_bars"]

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="ingest and search documents")
    cmds = index.add_subparsers(dest="index_command", required=True, metavar="SUBCOMMAND")
    add = cmds.add_parser("add", help="ingest files, folders, Git folders, pages, sitemaps and URL lists; "
                          "a re-run reads only what changed and removes what is gone")
    add.add_argument("inputs", nargs="*", metavar="PATH|URL",
                     help="a file, a folder (in a Git work tree: Git's files, dated by their commits) or a page; "
                          "a URL ending in sitemap.xml (or .xml.gz) is read as a sitemap")
    add.add_argument("--sitemap", action="append", default=[], metavar="URL", help="a sitemap (repeatable)")
    add.add_argument("--urls", action="append", default=[], metavar="FILE|URL",
                     help="a list of page URLs, one per line (repeatable)")
    add.add_argument("--watch", action="store_true",
                     help="keep running: re-index the files and folders given whenever they change (Ctrl-C stops)")
    add.add_argument("--interval", type=_seconds, default=1.0, help="seconds between looks for --watch (default 1)")
    add.add_argument("--text-field", help="the JSON/JSONL field holding the text (default: text, content, body)")
    add.set_defaults(handler=_add)

    search = cmds.add_parser("search", help="hybrid search over the index")
    search.add_argument("query")
    search.add_argument("-k", type=_positive, default=5)
    search.add_argument("--since", type=_date, help="documents dated on or after (YYYY-MM-DD or any date)")
    search.add_argument("--until", type=_date, help="documents dated on or before")
    search.add_argument("--source", action="append", default=[], help="source prefix (repeatable)")
    search.add_argument("--mode", choices=["hybrid", "dense", "bm25", "rrf"], default="hybrid",
                        help="hybrid: weighted sum of normalised dense and BM25 scores; rrf: reciprocal-rank fusion")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.set_defaults(handler=_search)

    cmds.add_parser("stats", help="documents, chunks, size, dates").set_defaults(handler=_stats)
    remove = cmds.add_parser("remove", help="drop documents by id")
    remove.add_argument("ids", nargs="+", metavar="ID")
    remove.set_defaults(handler=_remove)
    web = cmds.add_parser("web", help="search the configured web sources (SearXNG, MediaWiki)")
    web.add_argument("query")
    web.add_argument("-k", type=_positive, default=5)
    web.add_argument("--add", action="store_true", help="ingest the results into the index")
    web.set_defaults(handler=_web)
    show = cmds.add_parser("show", help="one document's record and chunks")
    show.add_argument("id")
    show.set_defaults(handler=_show)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0.05 and 3600 seconds")
    return value


def _date(text: str) -> datetime:
    from tansuo.retrieval.documents import parse_date

    value = parse_date(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)")
    return value


def _add(args: argparse.Namespace) -> int:
    from tansuo.cli.index_add import run_add

    return run_add(args)


def _search(args: argparse.Namespace) -> int:
    from tansuo.retrieval.hits import Filters

    if not args.query.strip():
        raise TansuoError("the query is empty")
    index = open_for(load_settings(), Bars())
    filters = Filters(since=args.since, until=args.until, sources=tuple(args.source))
    hits = index.search(args.query, args.k, mode=args.mode, filters=filters)
    for n, hit in enumerate(hits, start=1):
        if args.json:
            print(json.dumps({"rank": n, "chunk_id": hit.chunk_id, "title": hit.title, "source": hit.source,
                              "date": hit.date.isoformat() if hit.date else None, "date_origin": hit.date_origin,
                              "score": hit.score, "dense_rank": hit.dense_rank, "bm25_rank": hit.bm25_rank,
                              "text": hit.text}, ensure_ascii=False))
            continue
        date = hit.date.date().isoformat() if hit.date else "undated"
        if hit.date_origin == "file_time":
            date += " (file time)"
        snippet = " ".join(hit.text.split())[:200]
        print(f"[{n}] {hit.title}  ({date})\n    {hit.source}  {hit.chunk_id}  score {hit.score:.4f}\n    {snippet}")
    if not hits:
        print("no results", file=sys.stderr)
    return EXIT_OK


def _web(args: argparse.Namespace) -> int:
    settings = load_settings()
    docs, problems = asyncio.run(_web_search(settings, args.query, args.k))
    for n, doc in enumerate(docs, start=1):
        date = doc.date.date().isoformat() if doc.date else "undated"
        print(f"[{n}] {doc.title}  ({date}, {doc.metadata.get('connector')})\n    {doc.source}\n"
              f"    {' '.join(doc.text.split())[:200]}")
    for problem in problems:
        print(f"source failed: {problem}", file=sys.stderr)
    if args.add and docs:
        report = open_for(settings, Bars(), with_default_corpus=False).add(docs)
        print(f"{len(report.added)} added, {len(report.replaced)} replaced, {len(report.unchanged)} unchanged")
    return EXIT_PROBLEMS if problems else EXIT_OK


async def _web_search(settings: Settings, query: str, k: int):
    from tansuo.retrieval.build import web_sources
    from tansuo.retrieval.web import ConnectorError, make_client

    async with make_client(settings.web_timeout_s) as client:
        sources = web_sources(settings, client)
        if not sources:
            raise TansuoError("no web source configured: set TANSUO_SEARXNG_URL or TANSUO_MEDIAWIKI_URL")
        results = await asyncio.gather(*(s.search(query, k) for s in sources), return_exceptions=True)
    docs, problems = [], []
    for result in results:
        if isinstance(result, ConnectorError):
            problems.append(str(result))
        elif isinstance(result, BaseException):
            raise result
        else:
            docs += result
    return docs, problems


def _stats(args: argparse.Namespace) -> int:
    index = open_for(load_settings(), Bars())
    for key, value in index.stats().items():
        print(f"{key:13} {value}")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    index = open_for(load_settings(), Bars())
    removed = index.remove(args.ids)
    missing = [i for i in args.ids if i not in removed]
    print(f"{len(removed)} removed" + (f"; not in the index: {', '.join(missing)}" if missing else ""))
    return EXIT_PROBLEMS if missing else EXIT_OK


def _show(args: argparse.Namespace) -> int:
    index = open_for(load_settings(), Bars())
    record = index.document(args.id)
    if record is None:
        raise TansuoError(f"no document {args.id!r} in the index")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    for chunk in index.chunks(args.id):
        print(f"--- {chunk.id} [{chunk.start}:{chunk.end}]\n{chunk.text}")
    return EXIT_OK
