"""Raw page compression (D37): zstd for new pages, gzip rows from older archives still read."""

from __future__ import annotations

import gzip

import pytest

from monitor import rawpage

PAGE = (
    "<html><body>" + "<p>Khamenei to Maduro: Resistance is the only way.</p>" * 400 + "</body></html>"
).encode()


def test_pages_round_trip_smaller_than_they_came() -> None:
    body = rawpage.compress(PAGE)
    assert rawpage.CODEC == "zstd" and body[:4] == b"\x28\xb5\x2f\xfd"  # a zstd frame
    assert len(body) < len(PAGE) // 10
    assert rawpage.decompress(body, rawpage.CODEC) == PAGE


def test_gzip_rows_from_older_archives_still_read() -> None:
    assert rawpage.decompress(gzip.compress(PAGE, 1), "gzip") == PAGE


@pytest.mark.parametrize(
    ("body", "compression", "message"),
    [
        (b"not a frame at all", "zstd", "damaged zstd body"),
        (gzip.compress(PAGE)[:40], "gzip", "damaged gzip body"),
        (PAGE, "lz4", "unknown compression 'lz4'"),
    ],
)
def test_a_damaged_or_unknown_body_is_a_value_error(body: bytes, compression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rawpage.decompress(body, compression)
