"""robots.txt as RFC 9309 reads it: the group for our product token (else `*`), the longest matching
rule wins (Allow on a tie), `*` and `$` in paths, and the common Crawl-delay extension (seconds,
fractions allowed). The standard library's parser takes the first rule that matches and knows no
wildcards, so `Disallow: /*.pdf$` would let every PDF through."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Rules:
    rules: list[tuple[int, bool, re.Pattern[str]]] = field(default_factory=list)  # (length, allow, pattern)
    crawl_delay: float | None = None

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path == "/robots.txt":
            return True
        best: tuple[int, bool] | None = None
        for length, allow, pattern in self.rules:
            if pattern.match(path) and (best is None or (length, allow) > best):
                best = (length, allow)
        return True if best is None else best[1]


ALLOW_ALL = Rules()
DISALLOW_ALL = Rules([(1, False, re.compile("/"))])


def parse(text: str, token: str) -> Rules:
    """The rules for `token` (case-insensitive); every group naming it is merged, else `*`'s."""
    groups: dict[str, Rules] = {}
    agents: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        key, _, value = raw.split("#", 1)[0].partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if in_rules:  # a user-agent line after rules starts a new group
                agents, in_rules = [], False
            agents.append(value.lower())
            for agent in agents:
                groups.setdefault(agent, Rules())
        elif key in ("allow", "disallow", "crawl-delay") and agents:
            in_rules = True
            for agent in agents:
                _add(groups[agent], key, value)
    return groups.get(token.lower()) or groups.get("*") or ALLOW_ALL


def _add(rules: Rules, key: str, value: str) -> None:
    if key == "crawl-delay":
        try:
            rules.crawl_delay = max(0.0, float(value))
        except ValueError:
            pass
    elif value:  # an empty Disallow allows everything: no rule
        rules.rules.append((len(value), key == "allow", _pattern(value)))


def _pattern(path: str) -> re.Pattern[str]:
    anchored = path.endswith("$")
    body = ".*".join(re.escape(part) for part in path.rstrip("$").split("*"))
    return re.compile(body + ("$" if anchored else ""))
