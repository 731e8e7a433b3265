"""The index on disk: immutable segment files and one manifest that names the live ones.

Every write goes to a temporary file that is renamed into place, and the manifest
rename is the commit. A crash before it leaves the previous manifest and its segments
untouched (the half-written segment is an orphan, removed on the next open), so the
index on disk is always readable. No pickle anywhere: segments are .npz of plain
arrays, the manifest is JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
MANIFEST = "manifest.json"


class IndexCorrupt(Exception):
    """The manifest or a segment it names cannot be read."""


@dataclass
class Segment:
    """Chunks written together: vectors, positions, text and BM25 tokens (row i = chunk i)."""

    vectors: np.ndarray  # (n, dim) float32
    doc_ids: list[str]  # per row
    n: np.ndarray  # chunk number within its document
    start: np.ndarray
    end: np.ndarray
    texts: list[str]
    tokens: list[str]  # space-joined BM25 tokens

    def __len__(self) -> int:
        return len(self.doc_ids)


def write_segment(folder: Path, name: str, seg: Segment) -> None:
    arrays = {"vectors": seg.vectors.astype(np.float32), "n": seg.n.astype(np.int32),
              "start": seg.start.astype(np.int64), "end": seg.end.astype(np.int64)}
    for key, values in (("doc_ids", seg.doc_ids), ("texts", seg.texts), ("tokens", seg.tokens)):
        arrays[key + "_blob"], arrays[key + "_offsets"] = _pack(values)
    _atomic(folder / name, lambda f: np.savez(f, **arrays), suffix=".npz")


def read_segment(path: Path) -> Segment:
    try:
        with np.load(path, allow_pickle=False) as data:
            return Segment(vectors=data["vectors"], doc_ids=_unpack(data["doc_ids_blob"], data["doc_ids_offsets"]),
                           n=data["n"], start=data["start"], end=data["end"],
                           texts=_unpack(data["texts_blob"], data["texts_offsets"]),
                           tokens=_unpack(data["tokens_blob"], data["tokens_offsets"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise IndexCorrupt(f"segment {path.name} is unreadable: {exc}") from None


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()
    _atomic(folder / MANIFEST, lambda f: f.write(data), suffix=".json")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorrupt(f"{path}: not a format-{FORMAT} Tansuo index")
    return manifest


def remove_orphans(folder: Path, live: set[str]) -> None:
    """Segments no manifest names and temporary files left by a crash."""
    for path in folder.iterdir():
        name = path.name
        dead_segment = name.startswith("seg-") and name.endswith(".npz") and name not in live
        if dead_segment or name.startswith(".tmp"):
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def replace_dir(tmp: Path, final: Path) -> None:
    """Put a fully written folder in place (the old one, if any, goes after)."""
    old = None
    if final.exists():
        old = final.with_name(f".tmp-old-{final.name}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _atomic(path: Path, write, *, suffix: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pack(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one UTF-8 blob plus offsets (numpy's fixed-width strings would take 4 bytes a char)."""
    encoded = [v.encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), offsets


def _unpack(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = blob.tobytes()
    return [raw[offsets[i]:offsets[i + 1]].decode() for i in range(len(offsets) - 1)]
