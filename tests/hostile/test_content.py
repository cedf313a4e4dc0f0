"""Bodies that are not what they claim: garbage, HTML, nothing; feeds with odd, huge or dangerous items."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.newssite import NewsServer, add_outlets

from .conftest import HEALTHY, HEALTHY_ARTICLES, Poll, assert_failed, poll_once

MANY = 10_000
LONG_TITLE = 1_000_000
REFUSED_LINKS = {
    "javascript": "javascript:alert(document.cookie)",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "mailto": "mailto:editor@example.com",
    "file": "file:///etc/passwd",
    "ftp": "ftp://127.0.0.1/pub/story.html",
    "vbscript": "vbscript:msgbox(1)",
}


def _rss(items: str, title: str = "T") -> bytes:
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>{items}</channel></rss>".encode()


def _item(title: str | None, link: str | None, guid: str, text: str = "The teaser.") -> str:
    return (
        "<item>"
        + (f"<title>{title}</title>" if title is not None else "")
        + (f"<link>{link}</link>" if link is not None else "")
        + f"<guid isPermaLink='false'>{guid}</guid><description>{text}</description></item>"
    )


def _story(title: str) -> str:
    body = " ".join([f"The full story of {title} told at length, with every detail that matters."] * 10)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"


@dataclass
class World:
    server: NewsServer
    poll: Poll
    seconds: float


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with NewsServer() as server:
        sources: list[dict[str, object]] = []

        def feed(
            source_id: str, body: bytes, content_type: str = "application/rss+xml", **extra: object
        ) -> None:
            server.add(f"/{source_id}.xml", body, content_type=content_type)
            sources.append({"id": source_id, "feed": server.url(f"/{source_id}.xml"), **extra})

        feed("garbage", random.Random(7).randbytes(64 * 1024))
        feed("garbage-gzip-header", b"\x1f\x8b\x08\x00" + random.Random(8).randbytes(4096))
        feed("html", _story("Not a feed").encode(), content_type="text/html")
        feed("html-as-rss", _story("Not a feed either").encode())
        feed("empty", b"")
        feed("whitespace", b"\n\n   \n")
        feed(
            "json-garbage",
            b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}',
            "application/feed+json",
        )

        server.add("/stories/untitled", _story("Title from the page"))
        server.add("/stories/titled", _story("Titled story"))
        feed(
            "incomplete",
            _rss(
                _item(None, server.url("/stories/untitled"), "no-title")
                + _item("No link at all", None, "no-link")
                + _item(None, None, "nothing", text="Neither title nor link.")
                + _item("", "", "empty-both")
                + _item("Titled", server.url("/stories/titled"), "complete")
            ),
        )
        long_title = "Breaking " + "very " * (LONG_TITLE // 5)
        feed(
            "long-title",
            _rss(
                _item(long_title, server.url("/long/1"), "l1", text="Teaser of the long one.")
                + _item("Short and sweet", server.url("/long/2"), "l2", text="Teaser of the short one.")
            ),
            fetch_articles=False,
        )
        server.add("/stories/good", _story("The one good link"))
        feed(
            "schemes",
            _rss(
                "".join(_item(f"Bad {name}", link, f"bad-{name}") for name, link in REFUSED_LINKS.items())
                + _item("The one good link", server.url("/stories/good"), "good")
            ),
        )
        yield World(server, poll_once(server, tmp_path_factory.mktemp("content"), sources), 0.0)


@pytest.mark.parametrize(
    "source_id",
    ["garbage", "garbage-gzip-header", "html", "html-as-rss", "empty", "whitespace", "json-garbage"],
)
def test_what_is_not_a_feed_is_a_parse_error(world: World, source_id: str) -> None:
    row = assert_failed(world.poll, source_id, "parser: ", parse=True)
    assert "feed" in row.last_error.lower(), row.last_error
    assert world.poll.articles(source_id) == []


def test_items_without_links_or_titles(world: World) -> None:
    assert world.poll.source("incomplete").last_error is None
    articles = {a.guid: a for a in world.poll.articles("incomplete")}
    assert set(articles) == {"no-title", "complete"}  # an item without a link has nowhere to point
    assert articles["no-title"].title == "Title from the page"
    assert articles["complete"].title == "Titled story"
    assert world.server.hits["/stories/untitled"] == world.server.hits["/stories/titled"] == 1


def test_a_one_megabyte_title_sinks_nothing(world: World) -> None:
    assert world.poll.source("long-title").last_error is None
    titles = {a.guid: a.title for a in world.poll.articles("long-title")}
    assert titles.get("l2") == "Short and sweet"
    if "l1" in titles:
        assert titles["l1"].startswith("Breaking very very")
        print(f"a {LONG_TITLE} byte title was stored with {len(titles['l1'])} characters")


def test_links_with_dangerous_schemes_are_never_followed(world: World) -> None:
    assert world.poll.source("schemes").last_error is None
    (article,) = world.poll.articles("schemes")
    assert article.title == "The one good link" and article.extraction == "page"
    archived = world.poll.everything()
    assert "root:" not in archived
    assert not any(link in archived for link in REFUSED_LINKS.values() if not link.startswith("ftp"))
    assert world.server.hits["/pub/story.html"] == 0
    for name in REFUSED_LINKS:
        assert "source=schemes" in world.poll.log and f"guid=bad-{name}" in world.poll.log, name


def test_refused_links_are_recorded_in_the_archive(world: World) -> None:
    refused = [f for f in world.poll.fetches("schemes") if f["kind"] == "page" and f["error"]]
    assert len(refused) == len(REFUSED_LINKS), refused
    assert all("scheme" in f["error"] for f in refused)


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A feed of ten thousand items, polled beside a healthy outlet and a source whose one article page
    takes half a second to arrive (in flight while the big feed is parsed; half the 1 s read timeout, so
    that only a stalled event loop, not the delay itself, can make it miss its 3 s deadline)."""
    with NewsServer() as server:
        many = "".join(
            _item(f"Item {i}", server.url(f"/many/{i}"), f"m{i}", text=f"Teaser number {i}.")
            for i in range(MANY)
        )
        server.add("/many.xml", _rss(many), content_type="application/rss+xml")
        server.add("/slow/story", _story("A slow page"), delay_s=0.5)
        server.add(
            "/slow.xml",
            _rss(_item("A slow page", server.url("/slow/story"), "s1")),
            content_type="application/rss+xml",
        )
        sources: list[dict[str, object]] = [
            {"id": "many", "feed": server.url("/many.xml"), "fetch_articles": False},
            {"id": "slow", "feed": server.url("/slow.xml")},
            *add_outlets(server, outlets=1, articles=HEALTHY_ARTICLES),
        ]
        started = time.monotonic()
        done = poll_once(server, tmp_path_factory.mktemp("crowd"), sources, healthy=False)
        seconds = time.monotonic() - started
        print(f"a run with a {MANY}-item feed took {seconds:.1f}s")
        yield World(server, done, seconds)


def test_a_feed_of_ten_thousand_items_is_archived_whole(crowd: World) -> None:
    assert crowd.poll.source("many").last_error is None
    articles = crowd.poll.articles("many")
    assert len(articles) == MANY
    assert {a.text for a in articles} == {f"Teaser number {i}." for i in range(MANY)}
    assert all(crowd.poll.source(s).last_polled_at for s in ("slow", HEALTHY))
    print(f"{MANY} items archived; the whole run took {crowd.seconds:.1f}s")


def test_a_big_feed_does_not_starve_other_sources(crowd: World) -> None:
    (slow,) = crowd.poll.articles("slow")
    pages = [f["error"] for f in crowd.poll.fetches("slow") if f["kind"] == "page"]
    assert slow.extraction == "page", pages
    assert crowd.poll.source(HEALTHY).last_error is None
    assert [a.extraction for a in crowd.poll.articles(HEALTHY)] == ["page"] * HEALTHY_ARTICLES
