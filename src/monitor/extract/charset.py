"""Decode an HTML body whose declared charset may be wrong (pure).

Order: byte-order mark; strict UTF-8 when the bytes are valid UTF-8 (text in another charset is almost
never valid UTF-8 by accident, while pages that declare latin-1 and send UTF-8 are common); the document's
``<meta charset>``; the HTTP charset; windows-1252 with replacement, which never fails.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def decode_html(content: bytes, declared: str | None = None) -> str:
    """Bytes of an HTML page -> text, trusting the bytes over what the server or the page claims."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _META_CHARSET.search(content[:4096])
    # The page's own declaration is usually more specific than a server-wide default in the header.
    for candidate in (_codec(match.group(1).decode("ascii")) if match else None, _codec(declared)):
        if candidate and candidate not in ("utf-8", "utf-16", "utf-32"):
            try:
                return content.decode(candidate)
            except UnicodeDecodeError:
                continue
    return content.decode("windows-1252", errors="replace")
