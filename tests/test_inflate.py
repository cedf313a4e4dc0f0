"""gzip inflated with a cap, and the two readers that meet gzip'd bodies nobody announced."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from monitor.errors import ParseError
from monitor.extract.charset import decode_html
from monitor.inflate import InflateError, gunzip, is_gzip
from monitor.parse.feeds import parse_feed

PAGE = "<html><body><article><h1>Заголовок</h1><p>Текст статьи.</p></article></body></html>"


def _bomb(inflated: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * (1024 * 1024)
    return b"".join(compressor.compress(block) for _ in range(inflated // len(block))) + compressor.flush()


def test_every_member_is_inflated_and_trailing_garbage_dropped() -> None:
    content = gzip.compress(b"one ") + gzip.compress(b"two") + b"\x00garbage"
    assert is_gzip(content)
    assert gunzip(content, limit=100) == b"one two"


def test_a_truncated_stream_keeps_what_came() -> None:
    text = random.Random(1).randbytes(20_000)  # incompressible: half the stream holds half the text
    kept = gunzip(gzip.compress(text)[:10_000], limit=40_000)
    assert 0 < len(kept) < len(text) and text.startswith(kept)


def test_the_limit_stops_a_bomb() -> None:
    with pytest.raises(InflateError, match="inflates past 1000000 bytes"):
        gunzip(_bomb(8 * 1024 * 1024), limit=1_000_000)


def test_not_gzip_after_the_magic_is_an_error() -> None:
    with pytest.raises(InflateError, match="is not valid gzip"):
        gunzip(b"\x1f\x8bnot really", limit=100)


def test_a_gzipd_page_decodes_to_its_text() -> None:
    assert decode_html(gzip.compress(PAGE.encode("utf-8"))) == PAGE


def test_a_page_that_only_looks_gzipd_is_read_as_bytes() -> None:
    assert decode_html(b"\x1f\x8b<p>x</p>").endswith("<p>x</p>")


def test_a_gzipd_feed_too_big_is_a_parse_error_naming_its_url() -> None:
    with pytest.raises(ParseError, match="the gzip'd feed inflates past") as caught:
        parse_feed(_bomb(64 * 1024 * 1024), url="https://news.example/feed.xml.gz")
    assert caught.value.url == "https://news.example/feed.xml.gz"
