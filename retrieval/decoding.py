"""Bytes to text for every loader: UTF-8, UTF-16 with a byte-order mark, or a declared charset."""

from __future__ import annotations


class LoadError(Exception):
    """One input that could not be read; the message says why (the caller adds where)."""


def decode(data: bytes, declared: str | None = None) -> str:
    """UTF-8 (or UTF-16 with a byte-order mark, or a declared charset); anything else is a problem,
    not mojibake in the index."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise LoadError("binary content, not text")
    try:
        return data.decode(declared or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise LoadError(f"not valid {declared or 'UTF-8'} text (byte 0x{data[exc.start]:02x} at "
                            f"offset {exc.start}); convert it to UTF-8") from None
        raise LoadError(f"unknown character set {declared!r}") from None

