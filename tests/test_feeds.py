from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.parse import parse_feed
from monitor.store import iso

FEEDS = Path(__file__).parent / "data" / "feeds"
BASE = "http://127.0.0.1:8000"
TYPES = {".xml": "application/rss+xml", ".rdf": "application/rdf+xml", ".json": "application/feed+json"}


@pytest.mark.parametrize("name", ["rss2.xml", "atom.xml", "jsonfeed.json", "rss1.rdf", "malformed_rss.xml"])
def test_golden_feeds(name: str) -> None:
    path = FEEDS / name
    content = path.read_text(encoding="utf-8").replace("{base}", BASE).encode("utf-8")
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    feed = parse_feed(content, url=f"{BASE}/feed", content_type=TYPES[path.suffix])
    assert len(feed.entries) == len(expected)
    for entry, want in zip(feed.entries, expected, strict=True):
        assert entry.guid == want["guid"].replace("{base}", BASE)
        assert entry.link == want["link"].replace("{base}", BASE)
        assert entry.title == want["title"]
        assert list(entry.authors) == want["authors"]
        assert iso(entry.published_at) == want["published_at"]
        if want.get("summary_contains"):
            assert want["summary_contains"] in (entry.summary or "")
    assert (feed.problem is not None) == (name == "malformed_rss.xml")


def test_json_feed_without_content_type_is_detected() -> None:
    content = (FEEDS / "jsonfeed.json").read_bytes()
    assert parse_feed(content, url="http://x/feed", content_type="").entries


def test_html_page_is_not_a_feed() -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed((FEEDS / "not_a_feed.html").read_bytes(), url="http://x/page", content_type="text/html")
    assert caught.value.url == "http://x/page"
    assert "not a readable feed" in str(caught.value) or "not a recognised feed" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b'{"version": "1", "items": []}',
        b"\x00\xff\xfe",
        b"<html><body>hi</body></html>",
        b'{"version": "https://jsonfeed.org/version/1.1", "n": ' + b"9" * 5000 + b"}",
        b"{" + b'"a":[' * 100_000,
        b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}',
    ],
)
def test_garbage_raises_parse_error(body: bytes) -> None:
    """Each is a ParseError, never another exception that would escape the parser."""
    with pytest.raises(ParseError):
        parse_feed(body, url="http://x/feed")


def test_truncated_feed_still_yields_its_entries() -> None:
    feed = parse_feed(
        b"<rss version='2.0'><channel><item><title>x</title><link>http://x/1</link>", url="http://x/f"
    )
    assert [entry.link for entry in feed.entries] == ["http://x/1"] and feed.problem


def test_empty_but_valid_feed_is_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, url="http://x/feed", content_type="application/rss+xml")
    assert feed.entries == () and feed.title == "Quiet" and feed.problem is None


def test_feed_never_fetches_a_url_given_as_body() -> None:
    with pytest.raises(ParseError):
        parse_feed(b"http://127.0.0.1:9/should-not-be-fetched", url="http://x/feed")
