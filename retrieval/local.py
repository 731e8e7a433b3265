"""Local origins for `retrieval.sync`: a file, a folder, or a folder in a Git work tree.

A file whose size and modification time (and, in Git, last commit) match the last run's is not read
again; that stamp is the local counterpart of a conditional request.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tansuo.retrieval.git import GitError, GitFolder, git_folder
from tansuo.retrieval.loaders import (
    HTML_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PDF_SUFFIXES,
    SUPPORTED,
    TEXT_SUFFIXES,
    iter_files,
    load_file,
)
from tansuo.retrieval.sync import OTHER_TYPE, UNCHANGED, OriginError, Outcome, Tick

# A repository's JSON files are configuration and data, not documents to cite.
GIT_SUFFIXES = MARKDOWN_SUFFIXES | TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
GIT_DATA = "data file in a Git folder"



def origin_of(path: Path) -> str:
    return str(path.resolve())


def local_outcomes(path: Path, before: dict[str, dict[str, Any]], *, text_field: str | None = None,
                   tick: Tick | None = None) -> list[Outcome]:
    """A file or folder's outcomes against what the last run remembered (`sync.remembered`);
    OriginError when it cannot be listed."""
    if path.is_file():
        if path.suffix.lower() not in SUPPORTED:  # named on its own: say why it is not read
            return [Outcome(str(path), problems=load_file(path).problems)]
        return [_file(path, before, text_field, None)]
    if not path.is_dir():
        raise OriginError(f"{path}: no such file or folder")
    try:
        repo = git_folder(path)
    except GitError as exc:
        raise OriginError(f"{path}: git: {exc}") from None
    files = repo.files if repo else list(iter_files(path))
    outcomes = []
    for n, file in enumerate(files, start=1):
        outcomes.append(_file(file, before, text_field, repo))
        if tick:
            tick(n, len(files))
    return outcomes


def _file(file: Path, before: dict[str, dict[str, Any]], text_field: str | None, repo: GitFolder | None) -> Outcome:
    key, suffix = str(file.resolve()), file.suffix.lower()
    if suffix not in (GIT_SUFFIXES if repo else SUPPORTED):
        return Outcome(key, skip=GIT_DATA if repo and suffix in SUPPORTED else OTHER_TYPE)
    stamp = _stamp(file, repo)
    if stamp is not None and (before.get(key) or {}).get("stamp") == stamp:
        return Outcome(key, skip=UNCHANGED)
    loaded = load_file(file, text_field=text_field)
    if repo is not None and file in repo.last and file not in repo.dirty:
        loaded.documents = [_dated(d, repo, file) for d in loaded.documents]
    if not loaded.documents:
        return Outcome(key, problems=loaded.problems)
    # a file with problems keeps no stamp: it is read (and its problems said) again next time
    return Outcome(key, loaded.documents, {"stamp": None if loaded.problems else stamp}, problems=loaded.problems)


def _dated(doc, repo: GitFolder, file: Path):
    """A committed file's dates are its commits', unless the text carries its own."""
    if doc.date_origin == "metadata":
        return doc
    last = repo.last[file]
    return replace(doc, published=repo.first[file].date, updated=last.date, date_origin="git_commit",
                   metadata={**doc.metadata, "commit": last.sha[:12]})


def _stamp(file: Path, repo: GitFolder | None) -> list | None:
    try:
        info = file.stat()
    except OSError:
        return None
    commit = None if repo is None or file in repo.dirty else repo.last[file].sha
    return [info.st_mtime_ns, info.st_size, commit]
