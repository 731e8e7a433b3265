"""The `unicode_info` plugin: what a character is, from the Unicode database."""

from __future__ import annotations

import unicodedata


def unicode_info(text: str) -> dict:
    """Name, code point and category of each character (at most 20)."""
    return {"characters": [
        {"char": ch, "code_point": f"U+{ord(ch):04X}", "name": unicodedata.name(ch, "<unnamed>"),
         "category": unicodedata.category(ch)}
        for ch in text[:20]
    ]}
