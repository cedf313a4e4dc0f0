"""Decode an HTML body whose declared charset may be wrong (pure).

Order: byte-order mark; strict UTF-8 when the bytes are valid UTF-8 (text in another charset is almost
never valid UTF-8 by accident, while pages that declare latin-1 and send UTF-8 are common); the document's
``<meta charset>`` (searched well past the first KB: some pages put a kilobyte of scripts first); the HTTP
charset; then detection (charset-normalizer). A declaration of a Western single-byte charset is checked
too: those decode any bytes without error, so a Russian or Arabic page mislabelled latin-1 would otherwise
come out as mojibake. windows-1252 with replacement is the last resort and never fails. A gzip'd body
(a server that forgot its ``Content-Encoding``, a saved ``.html.gz``) is inflated first, up to
``MAX_INFLATED_BYTES``.
"""

from __future__ import annotations

import codecs
import contextlib
import re

from charset_normalizer import from_bytes

from monitor.inflate import InflateError, gunzip, is_gzip

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
META_SEARCH_BYTES = 64 * 1024
WESTERN = frozenset({"latin_1", "iso8859-1", "cp1252", "ascii", "iso8859-15"})
DETECT_BYTES = 200_000
MAX_INFLATED_BYTES = 32 * 1024 * 1024
"""A page is never this big; a gzip'd body that inflates past it is read as the bytes it is."""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def _detect(content: bytes) -> str | None:
    best = from_bytes(content[:DETECT_BYTES]).best()
    return _codec(best.encoding) if best is not None else None


def _mostly_ascii(content: bytes) -> bool:
    sample = content[:DETECT_BYTES]
    high = sum(1 for byte in sample if byte >= 0x80)
    return high <= len(sample) * 0.02


def decode_html(content: bytes, declared: str | None = None) -> str:
    """Bytes of an HTML page -> text, trusting the bytes over what the server or the page claims."""
    if is_gzip(content):
        with contextlib.suppress(InflateError):  # not text either way: the extraction finds nothing in it
            content = gunzip(content, limit=MAX_INFLATED_BYTES)
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _META_CHARSET.search(content[:META_SEARCH_BYTES])
    # The page's own declaration is usually more specific than a server-wide default in the header.
    candidates = [_codec(match.group(1).decode("ascii")) if match else None, _codec(declared)]
    for candidate in candidates:
        if not candidate or candidate in ("utf-8", "utf-16", "utf-32"):
            continue
        if candidate in WESTERN and not _mostly_ascii(content):
            detected = _detect(content)
            if detected and detected not in WESTERN and detected != "utf-8":
                candidate = detected
        try:
            return content.decode(candidate)
        except UnicodeDecodeError:
            continue
    detected = _detect(content)
    if detected:
        try:
            return content.decode(detected)
        except UnicodeDecodeError:
            pass
    return content.decode("windows-1252", errors="replace")
