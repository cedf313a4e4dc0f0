from __future__ import annotations

import gzip
import json
import time
import tracemalloc
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.parse.sitemap import MAX_INFLATED_BYTES, parse_sitemap

SITEMAPS = Path(__file__).parent / "data" / "sitemaps"
NOW = datetime(2024, 5, 20, 12, 0, tzinfo=UTC)
THREE_DAYS = 3 * 24 * 3600.0
URL = "https://www.dailyharbour.example/sitemap_news.xml"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _urlset(*urls: str) -> bytes:
    body = "".join(f"<url>{url}</url>" for url in urls)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'.encode()


def _links(content: bytes, *, url: str = URL, max_age_s: float = THREE_DAYS) -> list[str | None]:
    return [entry.link for entry in parse_sitemap(content, url=url, now=NOW, max_age_s=max_age_s).entries]


def _check_news_sitemap(content: bytes) -> None:
    expected = json.loads((SITEMAPS / "news_sitemap.expected.json").read_text(encoding="utf-8"))
    sitemap = parse_sitemap(content, url=URL, now=NOW, max_age_s=THREE_DAYS)
    assert sitemap.sitemaps == ()
    assert len(sitemap.entries) == len(expected)
    for entry, want in zip(sitemap.entries, expected, strict=True):
        assert entry.guid is None
        assert entry.link == want["link"]
        assert entry.title == want["title"]
        assert _iso(entry.published_at) == want["published_at"]
        assert _iso(entry.updated_at) == want["updated_at"]
        assert entry.language == want["language"]
        assert entry.image == want["image"]


def test_news_sitemap_keeps_recent_urls_newest_first() -> None:
    _check_news_sitemap((SITEMAPS / "news_sitemap.xml").read_bytes())


def test_gzipped_sitemap_reads_like_the_plain_one() -> None:
    _check_news_sitemap(gzip.compress((SITEMAPS / "news_sitemap.xml").read_bytes()))


def test_gzip_with_several_members_is_read_whole() -> None:
    content = gzip.compress(b"<urlset><url><loc>https://x.example/a</loc></url>") + gzip.compress(
        b"<url><loc>https://x.example/b</loc></url></urlset>"
    )
    assert _links(content) == ["https://x.example/a", "https://x.example/b"]


def _gzip_bomb(inflated_mb: int) -> bytes:
    """A sitemap that inflates to ``inflated_mb`` MB, compressed in a stream (never held whole)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b"<urlset><url><loc>https://x.example/a</loc></url>")]
    padding = b" " * (1024 * 1024)
    parts += [compressor.compress(padding) for _ in range(inflated_mb)]
    parts.append(compressor.compress(b"</urlset>") + compressor.flush())
    return b"".join(parts)


def test_gzip_bomb_stops_at_the_cap_without_inflating_the_rest() -> None:
    bomb = _gzip_bomb(256)
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ParseError, match=f"inflates past {MAX_INFLATED_BYTES} bytes") as caught:
            parse_sitemap(bomb, url=URL, now=NOW, max_age_s=THREE_DAYS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.url == URL
    assert peak < 2 * MAX_INFLATED_BYTES + 16 * 1024 * 1024  # far below the 256 MB it would inflate to


def test_gzip_cap_follows_max_bytes() -> None:
    with pytest.raises(ParseError, match="inflates past 1000000 bytes"):
        parse_sitemap(_gzip_bomb(4), url=URL, now=NOW, max_age_s=THREE_DAYS, max_bytes=1_000_000)


def test_gzip_just_under_the_cap_is_read() -> None:
    body = b"<urlset><url><loc>https://x.example/a</loc></url></urlset>"
    content = gzip.compress(body + b" " * (MAX_INFLATED_BYTES - len(body)))
    assert _links(content) == ["https://x.example/a"]


def test_corrupt_gzip_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not valid gzip"):
        parse_sitemap(b"\x1f\x8b\x08\x00garbage-not-deflate", url=URL, now=NOW, max_age_s=THREE_DAYS)


def test_sitemap_index_keeps_recent_children_newest_first() -> None:
    expected = json.loads((SITEMAPS / "sitemap_index.expected.json").read_text(encoding="utf-8"))
    sitemap = parse_sitemap(
        (SITEMAPS / "sitemap_index.xml").read_bytes(),
        url="https://www.dailyharbour.example/sitemap_index.xml",
        now=NOW,
        max_age_s=THREE_DAYS,
    )
    assert list(sitemap.sitemaps) == expected
    assert sitemap.entries == ()


def test_sitemap_index_keeps_undated_children_after_dated_ones() -> None:
    content = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>/sitemap-pages.xml</loc></sitemap>
      <sitemap><loc>https://x.example/sitemap-old.xml</loc><lastmod>2023-01-01</lastmod></sitemap>
      <sitemap><loc>https://x.example/sitemap-new.xml</loc><lastmod>2024-05-20</lastmod></sitemap>
      <sitemap><loc>ftp://x.example/sitemap-ftp.xml</loc></sitemap>
    </sitemapindex>"""
    sitemap = parse_sitemap(content, url="https://x.example/sitemap.xml", now=NOW, max_age_s=THREE_DAYS)
    assert sitemap.sitemaps == ("https://x.example/sitemap-new.xml", "https://x.example/sitemap-pages.xml")


def test_plain_sitemap_without_dates_keeps_every_url_in_order() -> None:
    expected = json.loads((SITEMAPS / "plain_sitemap.expected.json").read_text(encoding="utf-8"))
    sitemap = parse_sitemap(
        (SITEMAPS / "plain_sitemap.xml").read_bytes(),
        url="https://www.quaysidegazette.example/sitemap.xml",
        now=NOW,
        max_age_s=THREE_DAYS,
    )
    assert [entry.link for entry in sitemap.entries] == expected
    assert all(entry.published_at is None and entry.title is None for entry in sitemap.entries)


def test_undated_urls_are_dropped_when_others_are_dated() -> None:
    content = _urlset(
        "<loc>https://x.example/undated</loc>",
        "<loc>https://x.example/dated</loc><lastmod>2024-05-19T08:00:00Z</lastmod>",
    )
    assert _links(content) == ["https://x.example/dated"]


def test_publication_date_wins_over_a_recent_lastmod() -> None:
    content = _urlset(
        "<loc>https://x.example/old-but-edited</loc><lastmod>2024-05-20T08:00:00Z</lastmod>"
        "<news:news xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
        "<news:publication_date>2024-05-01T08:00:00Z</news:publication_date></news:news>",
        "<loc>https://x.example/fresh</loc><lastmod>2024-05-20T07:00:00Z</lastmod>",
    )
    assert _links(content) == ["https://x.example/fresh"]


def test_max_age_is_measured_from_now() -> None:
    content = _urlset(
        "<loc>https://x.example/an-hour-ago</loc><lastmod>2024-05-20T11:00:00Z</lastmod>",
        "<loc>https://x.example/two-hours-ago</loc><lastmod>2024-05-20T10:00:00Z</lastmod>",
    )
    assert _links(content, max_age_s=90 * 60) == ["https://x.example/an-hour-ago"]
    assert _links(content, max_age_s=3 * 3600) == [
        "https://x.example/an-hour-ago",
        "https://x.example/two-hours-ago",
    ]


def test_w3c_dates_without_a_day_are_understood() -> None:
    content = _urlset(
        "<loc>https://x.example/may</loc><lastmod>2024-05</lastmod>",
        "<loc>https://x.example/april</loc><lastmod>2024-04</lastmod>",
    )
    assert _links(content, max_age_s=30 * 24 * 3600) == ["https://x.example/may"]


def test_repeated_urls_are_listed_once_at_their_newest() -> None:
    content = _urlset(
        "<loc>https://x.example/a</loc><lastmod>2024-05-19T08:00:00Z</lastmod>",
        "<loc>https://x.example/b</loc><lastmod>2024-05-19T09:00:00Z</lastmod>",
        "<loc>https://x.example/a</loc><lastmod>2024-05-20T08:00:00Z</lastmod>",
    )
    sitemap = parse_sitemap(content, url=URL, now=NOW, max_age_s=THREE_DAYS)
    assert [(entry.link, _iso(entry.updated_at)) for entry in sitemap.entries] == [
        ("https://x.example/a", "2024-05-20T08:00:00Z"),
        ("https://x.example/b", "2024-05-19T09:00:00Z"),
    ]


def test_relative_locs_resolve_and_other_schemes_are_dropped() -> None:
    content = _urlset(
        "<loc>/news/relative-story</loc>",
        "<loc>javascript:alert(1)</loc>",
        "<loc>mailto:desk@x.example</loc>",
        "<loc>ftp://x.example/file</loc>",
        "<loc>  </loc>",
        "<loc>http://x.example/plain-http</loc>",
    )
    assert _links(content, url="https://x.example/sitemaps/main.xml") == [
        "https://x.example/news/relative-story",
        "http://x.example/plain-http",
    ]


@pytest.mark.parametrize(
    "content",
    [
        _urlset("<loc>https://x.example/a</loc>").replace(
            b"http://www.sitemaps.org/schemas/sitemap/0.9", b""
        ),
        b"<urlset><url><loc>https://x.example/a</loc></url></urlset>",
        _urlset("<loc>https://x.example/a</loc>").replace(
            b"http://www.sitemaps.org/schemas/sitemap/0.9", b"http://www.google.com/schemas/sitemap/0.84"
        ),
        b"<sm:urlset xmlns:sm='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<sm:url><sm:loc>https://x.example/a</sm:loc></sm:url></sm:urlset>",
    ],
    ids=["empty-namespace", "no-namespace", "old-google-namespace", "prefixed"],
)
def test_any_namespace_is_accepted(content: bytes) -> None:
    assert _links(content) == ["https://x.example/a"]


def test_undeclared_news_prefix_is_still_read() -> None:
    content = (
        b"<urlset><url><loc>https://x.example/a</loc><news:news><news:title>Quay &eacute;dition</news:title>"
        b"<news:publication_date>2024-05-20T08:00:00Z</news:publication_date></news:news></url></urlset>"
    )
    (entry,) = parse_sitemap(content, url=URL, now=NOW, max_age_s=THREE_DAYS).entries
    assert entry.title == "Quay édition"
    assert _iso(entry.published_at) == "2024-05-20T08:00:00Z"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "Document is empty"),
        (b"just some text", "not a sitemap"),
        (b"<html><body><h1>Not found</h1></body></html>", "<html>"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>', "<rss>"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', "<feed>"),
    ],
)
def test_documents_that_are_not_sitemaps_raise(content: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_sitemap(content, url=URL, now=NOW, max_age_s=THREE_DAYS)
    assert str(caught.value).startswith("parser: not a sitemap (")
    assert reason in str(caught.value)
    assert caught.value.url == URL


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://x.example/small-&lol2;</loc></url>
  <url><loc>https://x.example/huge-&lol9;</loc></url>
</urlset>"""


def test_billion_laughs_is_not_expanded() -> None:
    started = time.monotonic()
    links = _links(LAUGHS)
    assert time.monotonic() - started < 2
    # The 100-"lol" entity is small enough for libxml2's own amplification guard to let through:
    # only resolve_entities=False keeps it out.
    assert links == ["https://x.example/small-", "https://x.example/huge-"]


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("https://evil.example/leaked", encoding="utf-8")
    content = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>&xxe;</loc></url><url><loc>https://x.example/ok</loc></url></urlset>"
    ).encode()
    assert _links(content) == ["https://x.example/ok"]


@pytest.mark.parametrize(
    "content",
    [
        b'\n\n  <?xml version="1.0" encoding="UTF-8"?>' + _urlset("<loc>https://x.example/a</loc>"),
        b"\xef\xbb\xbf" + _urlset("<loc>https://x.example/a</loc>"),
        _urlset("<loc>https://x.example/a</loc>", "<loc>https://x.example/b</loc>")[:-20],
    ],
    ids=["whitespace-before-declaration", "byte-order-mark", "truncated"],
)
def test_careless_sitemaps_are_still_read(content: bytes) -> None:
    assert _links(content)[:1] == ["https://x.example/a"]
