from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from pathlib import Path

import pytest

from monitor.parse.discover import COMMON_PATHS, FeedCandidate, candidate_urls, feed_links, looks_like_feed

DATA = Path(__file__).parent / "data"
HOMEPAGE = DATA / "sections" / "homepage.html"


def test_golden_homepage_feed_links() -> None:
    expected = json.loads((DATA / "sections" / "homepage.expected.json").read_text(encoding="utf-8"))
    found = feed_links(HOMEPAGE.read_bytes(), url="https://www.dailyharbour.example/")
    assert [asdict(candidate) for candidate in found] == expected


def test_feed_links_from_text_respect_base_href_and_json_feeds() -> None:
    page = """<html><head><base href="https://news.example/en/">
      <link rel="alternate" type="application/feed+json" href="feed.json" title="JSON Feed">
      <link rel="Alternate" type="application/rss+xml; charset=utf-8" href="rss.xml">
      <link rel="alternate" type="application/json" href="/api/feed.json">
      <link rel="alternate" type="application/json" href="/?rest_route=/wp/v2/pages/2">
      <link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
      <link rel="alternate" type="text/html" href="/print/">
    </head></html>"""
    assert feed_links(page, url="https://news.example/") == [
        FeedCandidate(url="https://news.example/en/feed.json", title="JSON Feed", kind="feed"),
        FeedCandidate(url="https://news.example/en/rss.xml", title=None, kind="feed"),
        FeedCandidate(url="https://news.example/api/feed.json", title=None, kind="feed"),
    ]


def test_page_without_feed_links_gives_nothing() -> None:
    page = (DATA / "pages" / "plain_article.html").read_bytes()
    assert feed_links(page, url="https://courrier.example/") == []


def test_candidate_urls_join_the_common_paths_to_the_site_root() -> None:
    urls = candidate_urls("https://www.dailyharbour.example:8443/world/2024/story?page=2#top")
    assert urls == [f"https://www.dailyharbour.example:8443{path}" for path in COMMON_PATHS]
    assert urls[0] == "https://www.dailyharbour.example:8443/feed"
    assert urls[-1] == "https://www.dailyharbour.example:8443/news-sitemap.xml"


@pytest.mark.parametrize("url", ["ftp://files.example/", "not a url", "/relative/path", ""])
def test_candidate_urls_need_an_http_url(url: str) -> None:
    assert candidate_urls(url) == []


def _fixture(path: str) -> bytes:
    return (DATA / path).read_bytes()


@pytest.mark.parametrize(
    ("content", "content_type", "kind"),
    [
        (_fixture("feeds/rss2.xml"), "application/rss+xml", "feed"),
        (_fixture("feeds/atom.xml"), "application/atom+xml", "feed"),
        (_fixture("feeds/rss1.rdf"), "application/rdf+xml", "feed"),
        (_fixture("feeds/jsonfeed.json"), "application/feed+json", "feed"),
        (_fixture("feeds/jsonfeed.json"), "text/plain", "feed"),
        (_fixture("feeds/rss2.xml"), "text/html", "feed"),
        (_fixture("sitemaps/news_sitemap.xml"), "application/xml", "sitemap"),
        (_fixture("sitemaps/sitemap_index.xml"), "text/xml", "sitemap"),
        (gzip.compress(_fixture("sitemaps/news_sitemap.xml")), "application/x-gzip", "sitemap"),
        (_fixture("feeds/not_a_feed.html"), "text/html", None),
        (_fixture("pages/seed_article.html"), "application/rss+xml", None),
        (_fixture("sections/homepage.html"), "text/html", None),
        (b'{"version": "https:\\/\\/jsonfeed.org\\/version\\/1.1", "items": []}', "application/json", "feed"),
        (b'{"data": [1, 2, 3]}', "application/json", None),
        (b'{"items": [' + b'{"id": "1"}, ' * 300 + b'{"id": "2"}]}', "application/feed+json", "feed"),
        (b'{"items": [' + b'{"id": "1"}, ' * 300 + b'{"id": "2"}]}', "application/json", None),
        (b"\xef\xbb\xbf<?xml version='1.0'?>\n<rss version='2.0'><channel/></rss>", "", "feed"),
        ("<?xml version='1.0' encoding='utf-16'?><feed/>".encode("utf-16"), "", "feed"),
        (b'<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss version="0.91"/>', "", "feed"),
        (
            b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><foaf:Person/></rdf:RDF>",
            "",
            None,
        ),
        (b"<?xml version='1.0'?><!-- " + b"x" * 4000 + b" --><rss/>", "application/rss+xml", "feed"),
        (b"<?xml version='1.0'?><!-- " + b"x" * 4000 + b" --><rss/>", "text/xml", None),
        (b"", "application/rss+xml", None),
        (b"Service Unavailable", "application/rss+xml", None),
        (b"\x1f\x8b\x08\x00corrupt", "application/x-gzip", None),
    ],
)
def test_looks_like_feed(content: bytes, content_type: str, kind: str | None) -> None:
    assert looks_like_feed(content, content_type) == kind
