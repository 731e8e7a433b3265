"""Folders and Git folders kept in step with the index: only what changed is read, what is gone goes."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tansuo.embedding import HashingEmbedder
from tansuo.retrieval import DocumentIndex
from tansuo.retrieval.local import GIT_DATA, local_outcomes, origin_of
from tansuo.retrieval.sync import OTHER_TYPE, UNCHANGED, OriginError, apply, remembered


@pytest.fixture
def index(tmp_path: Path) -> DocumentIndex:
    return DocumentIndex(tmp_path / "index", HashingEmbedder())


def _sync(index: DocumentIndex, folder: Path):
    origin = origin_of(folder)
    return apply(index, origin, local_outcomes(folder, remembered(index, origin)))


def _touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:  # a coarse clock: make the edit visible
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_a_folder_rerun_reads_what_changed_and_removes_what_is_gone(index: DocumentIndex, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (("a.md", "# Alpha\n\nFirst."), ("b.md", "# Beta\n\nSecond."), ("c.txt", "Third.")):
        (docs / name).write_text(text, encoding="utf-8")
    (docs / "image.png").write_bytes(b"\x89PNG")
    first = _sync(index, docs)
    assert (first.added, first.changed, first.removed) == (3, 0, 0) and first.skipped == {OTHER_TYPE: 1}

    read: list[Path] = []
    import tansuo.retrieval.local as local

    real = local.load_file
    monkeypatch.setattr(local, "load_file", lambda path, **kw: read.append(path) or real(path, **kw))
    _touch_later(docs / "b.md", "# Beta\n\nSecond, edited.")
    (docs / "c.txt").unlink()
    (docs / "d.md").write_text("# Delta\n\nFourth.", encoding="utf-8")
    second = _sync(index, docs)
    assert sorted(p.name for p in read) == ["b.md", "d.md"]  # a.md was not read again
    assert (second.added, second.changed, second.removed) == (1, 1, 1)
    assert second.skipped == {UNCHANGED: 1, OTHER_TYPE: 1}
    assert str((docs / "c.txt").resolve()) not in index


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "docs" / "guide.md").write_text("# Guide\n\nInstall with make.", encoding="utf-8")
    (repo / "docs" / "api.rst").write_text("API\n===\n\nCall it.", encoding="utf-8")
    (repo / "docs" / "dated.md").write_text("---\npublished: 2020-05-05\n---\n# Dated\n\nOld news.", encoding="utf-8")
    (repo / "package.json").write_text('{"text": "not a document"}', encoding="utf-8")
    (repo / ".gitignore").write_text("build/\n", encoding="utf-8")
    (repo / "build").mkdir()
    (repo / "build" / "out.md").write_text("# Generated", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first", date="2024-03-01T10:00:00+00:00")
    (repo / "docs" / "guide.md").write_text("# Guide\n\nInstall with make install.", encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "second", date="2025-07-15T09:30:00+00:00")
    return repo


def test_a_git_folder_is_dated_by_its_commits(index: DocumentIndex, repo: Path) -> None:
    report = _sync(index, repo)
    ids = set(index.document_ids())
    assert {Path(i).name for i in ids} == {"guide.md", "api.rst", "dated.md"}  # not build/, not package.json
    assert report.skipped == {GIT_DATA: 1}  # package.json (.gitignore is hidden, build/ ignored)
    guide = index.document(str(repo / "docs" / "guide.md"))
    assert guide["date_origin"] == "git_commit"
    assert guide["published"].startswith("2024-03-01") and guide["updated"].startswith("2025-07-15")
    assert index.document(str(repo / "docs" / "dated.md"))["published"].startswith("2020-05-05")  # its own date


def test_an_uncommitted_edit_keeps_its_file_time_until_committed(index: DocumentIndex, repo: Path) -> None:
    _sync(index, repo)
    guide = repo / "docs" / "guide.md"
    _touch_later(guide, "# Guide\n\nInstall with pip.")
    edited = _sync(index, repo)
    assert edited.changed == 1 and index.document(str(guide))["date_origin"] == "file_time"
    _git(repo, "commit", "-q", "-am", "third", date="2026-01-02T08:00:00+00:00")
    committed = _sync(index, repo)  # same bytes, but now a commit dates them
    assert committed.changed == 1
    record = index.document(str(guide))
    assert record["date_origin"] == "git_commit" and record["updated"].startswith("2026-01-02")
    assert datetime.fromisoformat(record["published"]) == datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    assert _sync(index, repo).skipped[UNCHANGED] == 3


def test_a_folder_that_lists_nothing_now_removes_nothing(index: DocumentIndex, tmp_path: Path) -> None:
    docs = tmp_path / "share"  # say, a network share that did not mount this time
    docs.mkdir()
    (docs / "a.md").write_text("# Alpha\n\nFirst.", encoding="utf-8")
    (docs / "b.md").write_text("# Beta\n\nSecond.", encoding="utf-8")
    _sync(index, docs)
    for name in ("a.md", "b.md"):
        (docs / name).unlink()
    with pytest.raises(OriginError, match=r"would remove all 2 of its document\(s\) and add none"):
        _sync(index, docs)
    (docs / ".mounted").write_text("")  # a mount point's own files are no documents either
    (docs / "lost+found.png").write_bytes(b"")
    with pytest.raises(OriginError):
        _sync(index, docs)
    assert len(index.document_ids()) == 2
    (docs / "c.md").write_text("# Gamma\n\nThird.", encoding="utf-8")  # something to add: the rest may go
    report = _sync(index, docs)
    assert (report.added, report.removed) == (1, 2) and len(index.document_ids()) == 1


def test_documents_removed_by_hand_are_read_again(index: DocumentIndex, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Alpha\n\nFirst.", encoding="utf-8")
    (docs / "b.md").write_text("# Beta\n\nSecond.", encoding="utf-8")
    _sync(index, docs)
    index.remove([str((docs / "a.md").resolve())])
    again = _sync(index, docs)  # its stamp is unchanged, but it is not in the index: read and added
    assert again.added == 1 and str((docs / "a.md").resolve()) in index
