"""The whole path against a real HTTP server on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.archive import EVERY_ARTICLE, articles, reader
from tests.support.newssite import (
    FIXTURE_PAGES,
    FIXTURES,
    NewsServer,
    add_fixture_outlet,
    add_outlets,
    article_text,
    reporter,
    write_config,
)

if TYPE_CHECKING:
    from conftest import MonitorCLI


@pytest.fixture
def six_outlets(server: NewsServer, tmp_path: Path) -> tuple[NewsServer, Path, Path]:
    sources = add_outlets(server, outlets=6, articles=20)
    config, archive = tmp_path / "config.yaml", tmp_path / "archive" / "monitor.db"
    write_config(config, sources, archive=archive)
    return server, config, archive


def page_hits(server: NewsServer) -> dict[str, int]:
    return {path: n for path, n in server.hits.items() if "/news/" in path}


def test_six_outlets_archived_once(
    six_outlets: tuple[NewsServer, Path, Path], monitor_cli: MonitorCLI
) -> None:
    server, config, archive = six_outlets
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0, err
    assert "polled 6 sources: 120 new articles, 0 sources failed" in err

    with reader(archive) as archived:
        rows = sorted(articles(archived), key=lambda article: (article.source, article.id))
        sources = archived.source_statuses()
    assert len(rows) == 120
    for row in rows:
        outlet, index = int(row.source.removeprefix("outlet")), int(row.guid.split("-")[1])
        assert row.extraction == "page"
        assert row.text.split("\n\n") == article_text(outlet, index)  # the whole body, nothing else
        assert row.title == f"Outlet {outlet} story {index}: " + row.title.split(": ", 1)[1]
        assert list(row.authors) == [reporter(outlet, index)]
        assert row.url == f"{server.base_url}/outlet{outlet}/news/" + row.url.rsplit("/", 1)[1]
        assert "utm_" not in row.url
        assert row.published_at.endswith("Z") and row.fetched_at.endswith("Z")
        assert row.language == "en"
        assert row.image == f"{server.base_url}/images/{outlet}/{index}.jpg"  # made absolute
        assert len(row.content_hash) == 64
        # every URL the article is known by: the feed link (canonicalised) and the final URL
        assert row.url in row.urls
    assert all(n == 1 for n in page_hits(server).values()) and len(page_hits(server)) == 120
    with sqlite3.connect(archive) as db:  # the fetch log: no reader shows it
        fetches = db.execute(
            "SELECT kind, count(*), sum(error IS NULL) FROM fetches GROUP BY kind"
        ).fetchall()
    assert {tuple(r) for r in fetches} == {("feed", 6, 6), ("page", 120, 120)}
    assert len(sources) == 6 and all(s.last_polled_at and s.last_error is None for s in sources)

    server.hits.clear()
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "0 new articles" in err
    assert page_hits(server) == {}  # no article page fetched again
    assert sum(server.hits.values()) == 6  # just the feeds
    with reader(archive) as again:
        assert again.count(EVERY_ARTICLE) == 120


def test_search_in_every_format(six_outlets: tuple[NewsServer, Path, Path], monitor_cli: MonitorCLI) -> None:
    _, config, _ = six_outlets
    assert monitor_cli(config, "run", "--once")[0] == 0

    code, out, _ = monitor_cli(config, "search", "OUT3ART7", "--format", "json")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 1
    assert set(hits[0]) == {"id", "url", "source", "title", "authors", "published_at", "language", "snippet"}
    assert hits[0]["source"] == "outlet3" and "OUT3ART7" in hits[0]["snippet"]

    code, out, _ = monitor_cli(config, "search", "talks", "--format", "jsonl", "--limit", "200")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 120
    dates = [line["published_at"] for line in lines]
    assert dates == sorted(dates, reverse=True)  # newest first

    code, out, _ = monitor_cli(
        config, "search", "talks", "--source", "outlet2", "--format", "csv", "--limit", "50"
    )
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 20 and {row["source"] for row in table} == {"outlet2"}

    code, out, _ = monitor_cli(config, "search", "OUT5ART2")
    assert code == 0 and "Outlet 5 story 2" in out

    code, out, _ = monitor_cli(
        config, "search", "talks", "--since", "2024-05-26", "--until", "2024-05-27", "--format", "json"
    )
    assert code == 0 and all("2024-05-26" <= hit["published_at"] < "2024-05-27" for hit in json.loads(out))
    assert json.loads(out)

    code, out, err = monitor_cli(config, "search", "talks AND (", "--format", "json")
    assert code == 2 and "position 10 is never closed" in err and out == ""


def test_show_and_sources(six_outlets: tuple[NewsServer, Path, Path], monitor_cli: MonitorCLI) -> None:
    _, config, _ = six_outlets
    assert monitor_cli(config, "run", "--once", "--source", "outlet1")[0] == 0
    code, out, _ = monitor_cli(config, "show", "1", "--format", "json")
    article = json.loads(out)
    assert code == 0 and article["id"] == 1 and article["text"]
    feed_link = article["url"] + "?utm_source=rss&utm_medium=feed"
    code, out, _ = monitor_cli(config, "show", feed_link)
    assert code == 0 and article["title"] in out and article["text"].split("\n\n")[0] in out
    assert monitor_cli(config, "show", "99999")[0] == 1

    code, out, _ = monitor_cli(config, "sources", "--format", "json")
    states = {row["id"]: row for row in json.loads(out)}
    assert states["outlet1"]["articles"] == 20 and states["outlet1"]["last_polled_at"]
    assert states["outlet2"]["articles"] == 0 and states["outlet2"]["last_polled_at"] is None
    code, out, _ = monitor_cli(config, "sources")
    assert code == 0 and "never polled" in out


def test_failures_are_recorded_and_others_still_polled(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=2, articles=3)
    server.add("/broken/feed.xml", "<html><body>Not a feed</body></html>")
    server.add(
        "/missing-page/feed.xml",
        """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
        <item><title>Gone</title><link>/gone/1</link><guid>g1</guid><description>Teaser text of the story.</description></item>
        <item><title>Binary</title><link>/bin/2</link><guid>g2</guid><description>Second teaser.</description></item>
        </channel></rss>""",
        content_type="application/rss+xml",
    )
    server.add("/bin/2", b"\x89PNG....", content_type="image/png")
    sources += [
        {"id": "broken", "feed": server.url("/broken/feed.xml")},
        {"id": "dead", "feed": server.url("/nothing-here.xml")},
        {"id": "pageless", "feed": server.url("/missing-page/feed.xml")},
    ]
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0
    assert "2 sources failed" in err
    with reader(archive) as archived:
        statuses = archived.source_statuses()
        pageless = list(archived.iter_articles(replace(EVERY_ARTICLE, sources=("pageless",))))
    errors = {status.id: status.last_error for status in statuses}
    assert "not a" in errors["broken"] and "feed" in errors["broken"]
    assert "HTTP 404" in errors["dead"]
    assert errors["outlet1"] is None and errors["pageless"] is None
    assert sum(status.articles for status in statuses if status.id.startswith("outlet")) == 6
    kept = {article.title: f"{article.extraction}:{article.text}" for article in pageless}
    assert kept == {"Gone": "feed:Teaser text of the story.", "Binary": "feed:Second teaser."}
    db = sqlite3.connect(archive)  # the fetch log: no reader shows it
    logged = dict(db.execute("SELECT url, error FROM fetches WHERE source = 'pageless' AND kind = 'page'"))
    assert "HTTP 404" in logged[server.url("/gone/1")]
    assert "not an HTML page" in logged[server.url("/bin/2")]
    assert (
        db.execute("SELECT error FROM fetches WHERE source = 'dead'")
        .fetchone()[0]
        .startswith("fetcher: HTTP 404")
    )
    db.close()
    sources_out = monitor_cli(config, "sources")[1]
    assert "HTTP 404" in sources_out and "error" in sources_out


def test_same_url_in_two_sources_is_fetched_and_stored_once(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=4)
    sources.append({"id": "mirror", "feed": sources[0]["feed"]})
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    assert monitor_cli(config, "run", "--once")[0] == 0
    assert monitor_cli(config, "run", "--once")[0] == 0
    assert all(n == 1 for n in page_hits(server).values()) and len(page_hits(server)) == 4
    with reader(archive) as archived:
        assert archived.count(EVERY_ARTICLE) == 4
    with sqlite3.connect(archive) as db:  # the GUIDs each source lists: no reader shows them
        # whichever source fetched first, the other one recorded its GUIDs on its next poll
        guids = dict(db.execute("SELECT source, count(*) FROM entry_guids GROUP BY source").fetchall())
        assert guids == {"outlet1": 4, "mirror": 4}


def test_unknown_source_is_a_usage_error(
    six_outlets: tuple[NewsServer, Path, Path], monitor_cli: MonitorCLI
) -> None:
    _, config, _ = six_outlets
    code, _, err = monitor_cli(config, "run", "--once", "--source", "nope")
    assert code == 2 and "unknown source nope" in err and "outlet1" in err


def test_golden_pages_through_the_whole_path(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    """The seed article and two other outlets' pages, served with lying charsets, land with their metadata."""
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [add_fixture_outlet(server)], archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "3 new articles" in err
    with reader(archive) as archived:
        by_url = {article.url: article for article in articles(archived)}
    for path, (name, _) in FIXTURE_PAGES.items():
        want = json.loads(
            (FIXTURES / "pages" / name.replace(".html", ".expected.json")).read_text(encoding="utf-8")
        )
        row = by_url.get(server.url(path))
        assert row is not None, path  # the tracking parameters of the feed link are gone
        assert row.extraction == "page"
        assert row.title == want["title"]
        assert list(row.authors) == want["authors"]
        assert row.published_at == want["published_at"]
        assert row.language == want["language"]
        for fragment in want["text_must_contain"]:
            assert fragment in row.text
        for fragment in want["text_must_not_contain"]:
            assert fragment not in row.text
    seed = next(article.text for article in by_url.values() if "Khamenei" in article.text)
    assert seed.endswith("Source » almayadeen")
    code, out, _ = monitor_cli(config, "search", "almayadeen", "--format", "json")
    assert code == 0 and [hit["title"] for hit in json.loads(out)] == [
        "Khamenei to Maduro: Resistance is the only way to face US pressure"
    ]


def test_hostile_links_and_shared_urls_lose_no_article(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    """Malformed URLs in a feed or a page, a consent wall every article redirects to, and a template
    canonical pointing at the home page: each article is still stored, once, under its own URL."""
    items = "".join(
        f"<item><title>Story {i}</title><link>{server.url(f'/s/{i}')}</link><guid>g{i}</guid>"
        f"<description>Teaser {i}.</description></item>"
        for i in range(1, 5)
    )
    bad = "<item><title>Broken</title><link>http://[oops/x</link><guid>bad</guid></item>"
    server.add("/feed.xml", f"<rss version='2.0'><channel><title>T</title>{items}{bad}</channel></rss>",
               content_type="application/rss+xml")  # fmt: skip
    for i in (1, 2):  # a consent wall: both land on one URL, with one text
        server.add(f"/s/{i}", "", status=302, headers={"Location": "/consent"})
    wall = "We and our partners use cookies to store and access information on your device. " * 10
    server.add("/consent", f"<html><body><article><h1>Your privacy</h1><p>{wall}</p></article></body></html>")
    for i in (3, 4):  # template canonical to the home page, and a malformed og:image
        server.add(f"/s/{i}", f"<html><head><link rel=canonical href='/'><meta property='og:image' "
                   f"content='http://[x'></head><body><article><h1>Story {i}</h1>"
                   f"<p>{' '.join(['Distinct body of story', str(i)] * 20)}</p></article></body></html>")  # fmt: skip
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "hostile", "feed": server.url("/feed.xml")}], archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "4 new articles" in err and "0 sources failed" in err
    with reader(archive) as archived:
        rows = articles(archived)
        assert [status.last_error for status in archived.source_statuses()] == [None]
        # every feed link leads to its own article
        owners = {archived.get_article(server.url(f"/s/{i}")).id for i in range(1, 5)}
    assert len(rows) == 4 and all(r.image is None for r in rows)
    assert sorted(r.url for r in rows) == sorted(
        [server.url("/consent"), *(server.url(f"/s/{i}") for i in (2, 3, 4))]
    )
    assert len(owners) == 4
    code, _, err = monitor_cli(config, "run", "--once")
    assert "0 new articles" in err


def test_every_url_an_article_is_known_by_recognises_it(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    """A feed link that redirects (a feed proxy), the page's own canonical URL, and another source listing
    the canonical URL directly: one article, fetched once, known under all three."""
    body = " ".join(["The one true story text, long enough to be an article body."] * 15)
    server.add("/real/story", f"<html><head><link rel='canonical' href='/story-canonical'></head>"
               f"<body><article><h1>The story</h1><p>{body}</p></article></body></html>")  # fmt: skip
    server.add("/proxy/abc", "", status=302, headers={"Location": "/real/story"})
    feed = ("<rss version='2.0'><channel><title>T</title><item><title>The story</title>"
            "<link>{link}</link><guid isPermaLink='false'>{guid}</guid></item></channel></rss>")  # fmt: skip
    server.add(
        "/a.xml", feed.format(link=server.url("/proxy/abc"), guid="a1"), content_type="application/rss+xml"
    )
    server.add(
        "/b.xml",
        feed.format(link=server.url("/story-canonical"), guid="b1"),
        content_type="application/rss+xml",
    )
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "a", "feed": server.url("/a.xml")}], archive=archive)
    assert "1 new articles" in monitor_cli(config, "run", "--once")[2]
    write_config(config, [{"id": "a", "feed": server.url("/a.xml")}, {"id": "b", "feed": server.url("/b.xml")}],
                 archive=archive)  # fmt: skip
    assert "0 new articles" in monitor_cli(config, "run", "--once")[2]
    assert server.hits.get("/story-canonical") is None  # b's link was known before any fetch
    with reader(archive) as archived:
        stored = articles(archived)
    article_url = stored[0].url
    known = {url for article in stored for url in article.urls}
    with sqlite3.connect(archive) as db:  # the GUIDs each source lists: no reader shows them
        guids = set(db.execute("SELECT source, guid FROM entry_guids").fetchall())
    assert article_url == server.url("/story-canonical")
    assert known == {server.url(p) for p in ("/proxy/abc", "/real/story", "/story-canonical")}
    assert guids == {("a", "a1"), ("b", "b1")}
    assert (
        json.loads(monitor_cli(config, "show", server.url("/proxy/abc"), "--format", "json")[1])["url"]
        == article_url
    )
