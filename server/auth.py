"""API keys, hashed at rest (SHA-256 of a random 32-byte key: no salt needed, nothing to guess),
and per-key rate limits (a token bucket in the store, so processes sharing Redis share limits).

Keys are off by default on a loopback address and required on any other: a service reachable
from the network without keys does not start (`tansuo serve` says how to add one)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from tansuo.errors import ConfigError

PREFIX = "tsk-"


@dataclass(frozen=True)
class KeyRecord:
    name: str
    sha256: str
    created: float


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[float, int] | None = None
        self._records: list[KeyRecord] = []

    def records(self) -> list[KeyRecord]:
        """The file's keys, read again when it changed (a key added while the service runs counts)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._seen = [], None
            return []
        if (stat.st_mtime, stat.st_size) != self._seen:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._records = [KeyRecord(k["name"], k["sha256"], float(k.get("created", 0))) for k in data["keys"]]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"{self.path}: not a Tansuo key file ({exc})") from None
            self._seen = (stat.st_mtime, stat.st_size)
        return list(self._records)

    def check(self, key: str) -> KeyRecord | None:
        wanted = digest(key)
        return next((r for r in self.records() if hmac.compare_digest(r.sha256, wanted)), None)

    def add(self, name: str) -> str:
        """A new key for `name`; only its hash is written. Returns the key (shown once)."""
        if not name or any(r.name == name for r in self.records()):
            raise ConfigError(f"a key named {name!r} already exists" if name else "a key needs a name")
        key = PREFIX + secrets.token_urlsafe(32)
        records = [*self.records(), KeyRecord(name, digest(key), time.time())]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"keys": [r.__dict__ for r in records]}, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        return key


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def keys_required(setting: str, host: str) -> bool:
    """`auto`: required unless the service only listens on a loopback address."""
    return setting == "on" or (setting == "auto" and not is_loopback(host))
