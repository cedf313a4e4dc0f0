"""Content-Encoding decoders that never inflate more than they are asked for.

httpx inflates each network chunk whole, so a few hundred bytes of brotli can become a gigabyte before any
size check sees it. Here every decoder hands out its output in pieces of at most ``PIECE`` bytes, and the
caller stops as soon as the total passes ``http.max_bytes``: memory stays within the cap plus one piece.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import brotli

PIECE = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate, br"


class DecodingError(Exception):
    """The body is not valid for its Content-Encoding."""


class _Identity:
    def pieces(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]


class _Zlib:
    """gzip (several members too) and deflate, zlib-wrapped or raw."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in ("gzip", "x-gzip")
        self._new(raw=False)
        self.started = False

    def _new(self, *, raw: bool) -> None:
        wbits = 16 + zlib.MAX_WBITS if self.gzip else (-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        self.decoder = zlib.decompressobj(wbits)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        pending = data
        while pending:
            try:
                out = self.decoder.decompress(pending, PIECE)
            except zlib.error as exc:
                if not self.gzip and not self.started:  # deflate sent without the zlib wrapper
                    self._new(raw=True)
                    self.started = True
                    out = self.decoder.decompress(pending, PIECE)
                else:
                    raise DecodingError(str(exc)) from None
            self.started = True
            if out:
                yield out
            if self.decoder.unconsumed_tail:
                pending = self.decoder.unconsumed_tail
            elif self.decoder.eof and self.decoder.unused_data and self.gzip:
                pending = self.decoder.unused_data  # the next gzip member
                self._new(raw=False)
            else:
                pending = b""


class _Brotli:
    def __init__(self) -> None:
        self.decoder = brotli.Decompressor()

    def pieces(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self.decoder.process(data, output_buffer_limit=PIECE)
            if out:
                yield out
            while not self.decoder.can_accept_more_data():
                out = self.decoder.process(b"", output_buffer_limit=PIECE)
                if not out:
                    break
                yield out
        except brotli.error as exc:
            raise DecodingError(str(exc)) from None


class BoundedDecoder:
    """Decodes a body through its Content-Encoding chain (``gzip``, ``deflate``, ``br``; applied in order)."""

    def __init__(self, content_encoding: str) -> None:
        names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
        self.stages: list[_Identity | _Zlib | _Brotli] = []
        for name in reversed(names):  # the last encoding applied is the first to undo
            if name in ("identity", ""):
                continue
            if name in ("gzip", "x-gzip", "deflate"):
                self.stages.append(_Zlib(name))
            elif name == "br":
                self.stages.append(_Brotli())
            else:
                raise DecodingError(f"unsupported Content-Encoding {name!r}")

    def pieces(self, data: bytes) -> Iterator[bytes]:
        chunks: Iterator[bytes] = iter((data,))
        for stage in self.stages:
            chunks = _through(stage, chunks)
        for chunk in chunks:
            yield from _Identity().pieces(chunk) if len(chunk) > PIECE else (chunk,)


def _through(stage: _Identity | _Zlib | _Brotli, chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield from stage.pieces(chunk)
