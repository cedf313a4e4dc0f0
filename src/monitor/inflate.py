"""gzip inflated with a hard cap (pure): for bodies that arrive gzip'd without saying so.

A sitemap is often served as a ``.xml.gz`` file; a page or a feed sometimes too, from a server that forgot
its ``Content-Encoding`` (or compressed twice). Those bytes are not text: read as HTML or XML they give an
empty page or a parser error that hides the cause. Every caller inflates through :func:`gunzip`, which
never produces more than its ``limit`` (64 KB at a time), so a small bomb cannot fill the memory.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
PIECE = 64 * 1024


class InflateError(ValueError):
    """Not valid gzip, or it inflates past the limit (the message says which)."""


def is_gzip(content: bytes) -> bool:
    return content.startswith(GZIP_MAGIC)


def gunzip(content: bytes, *, limit: int) -> bytes:
    """Every gzip member inflated, never more than ``limit`` bytes; a truncated stream keeps what came, and
    trailing garbage after a complete member is dropped. Raises :class:`InflateError` for bytes that are
    not gzip, or when the result would pass ``limit``."""
    chunks: list[bytes] = []
    total = 0
    pending = content
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    while pending:
        try:
            chunk = inflater.decompress(pending, min(PIECE, limit + 1 - total))
        except zlib.error as exc:
            if chunks:  # trailing garbage after a complete member: what came before is the document
                break
            raise InflateError(f"is not valid gzip ({exc})") from None
        total += len(chunk)
        if total > limit:
            raise InflateError(f"inflates past {limit} bytes")
        chunks.append(chunk)
        if inflater.eof:
            pending = inflater.unused_data
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        else:
            pending = inflater.unconsumed_tail  # empty when the stream is truncated: keep what we have
    return b"".join(chunks)
