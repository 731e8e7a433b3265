"""A running `tansuo serve` that other commands on the same data dir use: once ready, `serve` leaves
a note in the data dir (`serve.json`: its pid and URL) and takes it back when it stops; `tansuo ask`
then sends its question there rather than starting a model, an embedder and an index of its own."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import httpx

from tansuo.core.files import write_whole
from tansuo.settings import Settings

NOTE = "serve.json"


def note_path(settings: Settings) -> Path:
    return settings.data_dir / NOTE


def announce(settings: Settings, *, keys: bool) -> None:
    """Say, in the data dir, where this process serves (written whole: a reader never sees half)."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    host = f"[{host}]" if ":" in host else host
    note = {"pid": os.getpid(), "url": f"http://{host}:{settings.port}/", "keys": keys}
    with contextlib.suppress(OSError):  # a read-only data dir: commands start their own parts
        write_whole(note_path(settings), json.dumps(note).encode())


def withdraw(settings: Settings) -> None:
    """Take the note back, if it is still this process's (a newer serve may have written its own)."""
    path = note_path(settings)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        if json.loads(path.read_text())["pid"] == os.getpid():
            path.unlink()


def running_service(settings: Settings, *, timeout_s: float = 2.0) -> str | None:
    """The URL of a ready `tansuo serve` on this data dir that takes requests without a key, or None."""
    try:
        note = json.loads(note_path(settings).read_text())
        pid, url = int(note["pid"]), str(note["url"])
        os.kill(pid, 0)  # raises when no such process: a note left by a serve that was killed
    except PermissionError:
        pass  # it runs, as another user
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if note.get("keys"):  # its API wants a key this command does not have: it runs the turn itself
        return None
    try:  # directly: never through a proxy the environment names
        ready = httpx.get(f"{url}readyz", timeout=timeout_s, trust_env=False).status_code == 200
    except (httpx.HTTPError, httpx.InvalidURL):
        return None
    return url if ready else None
