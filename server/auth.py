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


PROFILES = ("tools", "plugins", "agent")


@dataclass(frozen=True)
class KeyRecord:
    """A key's name, hash and the profiles it may ask for (None: the service's TANSUO_KEY_PROFILES)."""

    name: str
    sha256: str
    created: float
    profiles: tuple[str, ...] | None = None

    def as_json(self) -> dict:
        return {"name": self.name, "sha256": self.sha256, "created": self.created,
                **({"profiles": list(self.profiles)} if self.profiles is not None else {})}


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, ...] | None = None
        self._records: list[KeyRecord] = []
        self._retired: set[str] = set()  # names of removed keys: their data is still theirs

    def records(self) -> list[KeyRecord]:
        """The file's keys, read again when it changed (a key added while the service runs counts)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._records, self._seen = [], None
            return []
        seen = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)  # any edit moves ctime
        if seen != self._seen:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._records = [KeyRecord(k["name"], k["sha256"], float(k.get("created", 0)), _profiles(k))
                                 for k in data["keys"]]
                self._retired = set(data.get("retired", []))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"{self.path}: not a Tansuo key file ({exc})") from None
            self._seen = seen
        return list(self._records)

    def check(self, key: str) -> KeyRecord | None:
        wanted = digest(key)
        return next((r for r in self.records() if hmac.compare_digest(r.sha256, wanted)), None)

    def add(self, name: str, profiles: tuple[str, ...] | None = None) -> str:
        """A new key for `name`; only its hash is written. Returns the key (shown once)."""
        if not name or any(r.name == name for r in self.records()):
            raise ConfigError(f"a key named {name!r} already exists" if name else "a key needs a name")
        if name in self._retired:  # a new holder must not inherit the old one's conversations
            raise ConfigError(f"a removed key was named {name!r}, and its stored data still is: choose another name")
        if profiles is not None:
            _profiles({"profiles": list(profiles)})
        key = PREFIX + secrets.token_urlsafe(32)
        self._write([*self.records(), KeyRecord(name, digest(key), time.time(), profiles)])
        return key

    def remove(self, name: str) -> None:
        """Forget `name`'s key: requests with it are refused from the next one on."""
        records = self.records()
        if not any(r.name == name for r in records):
            raise ConfigError(f"no key named {name!r} (see `tansuo keys list`)")
        self._retired.add(name)
        self._write([r for r in records if r.name != name])

    def _write(self, records: list[KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"keys": [r.as_json() for r in records], "retired": sorted(self._retired)},
                                  indent=1), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def _profiles(record: dict) -> tuple[str, ...] | None:
    """A key's profiles as written in the file: absent (the service's default) or a non-empty list
    of known profile names."""
    value = record.get("profiles")
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ConfigError(f"profiles {value!r}: give one or more of {', '.join(PROFILES)}")
    unknown = [p for p in value if p not in PROFILES]
    if unknown:
        raise ConfigError(f"unknown profile {unknown[0]!r}; choose from {', '.join(PROFILES)}")
    return tuple(value)


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
