"""A folder inside a Git work tree: the files Git knows (tracked, or new and not ignored) and each
committed file's dates from its history: first commit as published, last commit as updated.

A file with uncommitted edits keeps its file time: the commit date would claim a text it does not
have. Git runs as a subprocess with a timeout; a folder outside a work tree (or no git) is None.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tansuo.retrieval.documents import parse_date

TIMEOUT_S = 120


class GitError(Exception):
    """git failed on a folder it said was a work tree; the message is git's."""


@dataclass(frozen=True)
class Commit:
    sha: str
    date: datetime


@dataclass
class GitFolder:
    top: Path
    files: list[Path]  # sorted, hidden paths left out
    first: dict[Path, Commit] = field(default_factory=dict)  # the commit that added the file
    last: dict[Path, Commit] = field(default_factory=dict)  # the latest commit that touched it
    dirty: set[Path] = field(default_factory=set)  # edited since the last commit, or never committed


def git_folder(folder: Path) -> GitFolder | None:
    """The Git view of `folder`, or None when it is not inside a work tree."""
    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").strip())
    except (GitError, OSError):
        return None
    if _ignored(folder):  # an ignored folder (build output, data) is read as a plain folder
        return None
    names = _git(folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name", "--", ".")
    files = sorted({top / n for n in names.split("\0") if n and not _hidden(n)})
    repo = GitFolder(top, [f for f in files if f.is_file()])
    _read_history(repo, _git(folder, "log", "--no-renames", "--name-only", "-z", "--format=%x01%H %cI", "--", "."))
    repo.dirty = _dirty(top, _git(folder, "status", "--porcelain", "-z", "--untracked-files=all", "--", "."))
    repo.dirty |= {f for f in repo.files if f not in repo.last}
    return repo


def head(folder: Path) -> str | None:
    """The commit checked out where `folder` is (None outside a work tree): a commit re-dates files."""
    try:
        return _git(folder, "rev-parse", "HEAD").strip()
    except (GitError, OSError):
        return None


def _read_history(repo: GitFolder, log: str) -> None:
    """`log -z`: each commit's header, then its file names, all NUL-separated (names unquoted)."""
    commit = None
    for token in log.split("\0"):
        token = token.removeprefix("\n")
        if token.startswith("\x01"):
            sha, _, stamp = token[1:].partition(" ")
            date = parse_date(stamp)
            commit = Commit(sha, date) if date else None
        elif token and commit is not None:
            path = repo.top / token
            repo.last.setdefault(path, commit)
            repo.first[path] = commit  # the log runs newest first: the last one seen is the oldest


def _dirty(top: Path, status: str) -> set[Path]:
    out, entries = set(), iter(status.split("\0"))
    for entry in entries:
        if len(entry) > 3:
            out.add(top / entry[3:])
            if entry[0] in "RC":
                next(entries, None)  # a rename's second path is where it came from
    return out


def _ignored(folder: Path) -> bool:
    try:
        _git(folder, "check-ignore", "-q", ".")
    except GitError:
        return False  # exit 1: not ignored
    return True


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def _git(folder: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took more than {TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise GitError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed")
    return done.stdout
