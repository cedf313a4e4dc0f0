"""Polling that outlets tolerate: conditional requests, politeness, backoff, redirects, robots.txt, and the
sitemap and html kinds of source; all against a real local server and a real archive."""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from monitor.models import PollState, SourceStatus
from tests.support.archive import EVERY_ARTICLE, reader, source_status
from tests.support.newssite import NewsServer, add_outlets, article_page, rss_feed, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI


def source_state(archive: Path, source_id: str) -> tuple[PollState, SourceStatus]:
    """What the source remembers between polls, and its poll health as ``monitor sources`` shows it."""
    with reader(archive) as archived:
        return archived.poll_state(source_id), source_status(archived, source_id)


def configure(tmp_path: Path, sources: list[dict[str, object]], **http: object) -> tuple[Path, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    if http:
        data = yaml.safe_load(config.read_text())
        data["http"].update(http)
        config.write_text(yaml.safe_dump(data))
    return config, archive


def test_unchanged_feed_is_a_conditional_request_that_parses_nothing(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=3)
    config, archive = configure(tmp_path, sources)
    feed_path = str(sources[0]["feed"]).removeprefix(server.base_url)
    assert monitor_cli(config, "run", "--once")[0] == 0
    first, _ = source_state(archive, "outlet1")
    assert first.etag and first.body_hash and first.next_poll_at

    server.requests.clear()
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "not_modified=1" in err
    assert [path for path, _ in server.requests] == [feed_path]
    assert server.requests[0][1]["if-none-match"] == first.etag
    second, status = source_state(archive, "outlet1")
    assert status.last_status == 304 and status.not_modified_share == 0.5 and status.polls == 2  # 1 of 2
    assert first.interval_s == second.interval_s == 6 * 3600  # items from 2024: a quiet outlet

    # A server with bogus validators: it ignores If-None-Match, but the body is the same, so nothing is parsed.
    route = server.routes[feed_path]
    route.headers.clear()  # type: ignore[union-attr]
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "not_modified=1" in err
    _, status = source_state(archive, "outlet1")
    assert status.polls == 3 and status.not_modified_share == round(2 / 3, 3)  # 2 of 3


def test_conditional_false_sends_no_validators(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=2)
    sources[0]["conditional"] = False
    config, _ = configure(tmp_path, sources)
    monitor_cli(config, "run", "--once")
    server.requests.clear()
    monitor_cli(config, "run", "--once")
    assert "if-none-match" not in server.requests[0][1]


def test_no_host_sees_more_concurrent_requests_than_its_cap(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=3, articles=4)
    for path, route in server.routes.items():
        if "/news/" in path:
            route.delay_s = 0.5  # type: ignore[union-attr]
    config, _ = configure(tmp_path, sources, per_host=2, per_host_delay="0.2s")
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "12 new articles" in err
    assert server.peak_active == 2  # measured on the server, across all three sources on this one host
    starts = sorted(server.starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # the client spaces request starts 0.2 s apart; half of that leaves room for scheduling noise
    assert min(gaps) >= 0.1


def test_429_retry_after_pushes_next_poll_an_hour_out(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    server.add("/busy.xml", "slow down", status=429, headers={"Retry-After": "3600"})
    config, archive = configure(tmp_path, [{"id": "busy", "feed": server.url("/busy.xml")}])
    before = datetime.now(UTC)
    assert monitor_cli(config, "run", "--once")[0] == 0
    state, status = source_state(archive, "busy")
    assert state.next_poll_at is not None
    assert state.next_poll_at >= before + timedelta(hours=1) - timedelta(seconds=1)
    assert status.last_error is not None and "HTTP 429" in status.last_error and state.error_count == 1


def test_a_source_erroring_ten_times_is_still_scheduled_and_404s_make_it_dead(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    config, archive = configure(tmp_path, [{"id": "gone", "feed": server.url("/gone.xml")}])
    for _ in range(10):
        assert monitor_cli(config, "run", "--once")[0] == 0
    state, _ = source_state(archive, "gone")
    assert state.error_count == 10 and state.dead
    assert state.next_poll_at is not None and state.next_poll_at > datetime.now(UTC) + timedelta(hours=23)
    (status,) = json.loads(monitor_cli(config, "sources", "--format", "json")[1])
    assert status["state"] == "dead" and status["next_poll_at"] and status["error_count"] == 10
    assert "dead" in monitor_cli(config, "sources")[1]
    # the outlet comes back
    server.add(
        "/gone.xml", rss_feed([], title="Back", link=server.url("/")), content_type="application/rss+xml"
    )
    assert monitor_cli(config, "run", "--once")[0] == 0
    state, status = source_state(archive, "gone")
    assert (state.dead, state.error_count, status.last_error) == (False, 0, None)


def test_permanent_redirect_updates_the_feed_url(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=2)
    new_feed = str(sources[0]["feed"])
    server.add("/old-feed.xml", "", status=301, headers={"Location": new_feed})
    config, archive = configure(tmp_path, [{"id": "moved", "feed": server.url("/old-feed.xml")}])
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "moved permanently" in err and new_feed in err
    _, status = source_state(archive, "moved")
    assert status.url == new_feed and status.moved_from == server.url("/old-feed.xml")  # the configured URL
    server.hits.clear()
    monitor_cli(config, "run", "--once")
    assert (
        server.hits.get("/old-feed.xml") is None and server.hits[new_feed.removeprefix(server.base_url)] == 1
    )
    assert "moved from" in monitor_cli(config, "sources")[1]
    # a temporary redirect changes nothing
    server.add("/temp.xml", "", status=302, headers={"Location": new_feed})
    config2, archive2 = configure(tmp_path / "temp", [{"id": "temp", "feed": server.url("/temp.xml")}])
    monitor_cli(config2, "run", "--once")
    _, status = source_state(archive2, "temp")
    assert status.url == server.url("/temp.xml") and status.moved_from is None


def test_robots_disallowed_pages_are_not_fetched_and_keep_the_feed_text(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=4)
    server.add(
        "/robots.txt",
        "User-agent: *\nDisallow: /outlet1/news/2-\nDisallow: /outlet1/news/3-\n",
        content_type="text/plain",
    )
    config, archive = configure(tmp_path, sources)
    assert monitor_cli(config, "run", "--once")[0] == 0
    fetched = {path.split("?")[0] for path in server.hits if "/news/" in path}
    assert fetched == {"/outlet1/news/1-trade-story", "/outlet1/news/4-relief-story"}
    assert server.hits["/robots.txt"] == 1  # once per host, cached
    with reader(archive) as archived:
        rows = {article.url: article.extraction for article in archived.iter_articles(EVERY_ARTICLE)}
    with sqlite3.connect(archive) as db:  # the fetch log: no reader shows it
        notes = [r[0] for r in db.execute("SELECT error FROM fetches WHERE error LIKE 'robots:%'")]
    assert sorted(rows.values()) == ["feed", "feed", "page", "page"] and len(notes) == 2


def test_robots_403_forbids_and_respect_robots_false_ignores(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=2)
    server.add("/robots.txt", "no", status=403)
    config, _ = configure(tmp_path, sources)
    monitor_cli(config, "run", "--once")
    assert not [p for p in server.hits if "/news/" in p]
    config2, _ = configure(tmp_path / "ignoring", sources, respect_robots=False)
    monitor_cli(config2, "run", "--once")
    assert len([p for p in server.hits if "/news/" in p]) == 2


def _sitemap(server: NewsServer, paths: list[str], published: list[datetime]) -> str:
    urls = "".join(
        f"<url><loc>{server.url(p)}</loc><news:news><news:publication><news:name>Outlet</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>{d.isoformat()}"
        f"</news:publication_date><news:title>Title of {p}</news:title></news:news></url>"
        for p, d in zip(paths, published, strict=True)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


def test_sitemap_and_html_sources_archive_their_articles(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    now = datetime.now(UTC)
    paths = [f"/site/news/{i}" for i in range(1, 6)]
    for i, path in enumerate(paths, 1):
        server.add(
            path,
            article_page(
                7,
                i,
                title=f"Sitemap story {i}",
                published=now - timedelta(hours=i),
                canonical=server.url(path),
            ),
        )
    ages = [timedelta(hours=1), timedelta(hours=2), timedelta(days=1), timedelta(days=5), timedelta(days=9)]
    server.add(
        "/site/sitemap_news.xml",
        _sitemap(server, paths, [now - age for age in ages]),
        content_type="application/xml",
    )
    section = "".join(f'<h3><a href="/site/news/{i}?ref=section">Story {i}</a></h3>' for i in (1, 2))
    server.add(
        "/site/world/",
        f'<html><body><nav><a href="/about">About</a></nav>{section}'
        f'<h3><a href="https://elsewhere.example/x">Off site</a></h3></body></html>',
    )
    config, archive = configure(
        tmp_path,
        [
            {"id": "map", "kind": "sitemap", "url": server.url("/site/sitemap_news.xml")},
            {"id": "section", "kind": "html", "url": server.url("/site/world/"), "links": "h3 a"},
        ],
    )
    code, _, err = monitor_cli(config, "run", "--once", "--source", "map")
    assert code == 0 and "3 new articles" in err  # two of the five are older than max_age (3 days)
    code, _, err = monitor_cli(config, "run", "--once", "--source", "section")
    assert code == 0 and "0 new articles" in err  # the section lists two the sitemap already brought
    with reader(archive) as archived:
        rows = sorted(archived.iter_articles(EVERY_ARTICLE), key=lambda article: article.url)
    with sqlite3.connect(archive) as db:  # which source listed each URL: no reader shows it
        section_guids = db.execute("SELECT count(*) FROM article_urls WHERE source = 'section'").fetchone()[0]
    assert [r.url for r in rows] == [server.url(p) for p in paths[:3]]
    assert [r.title for r in rows] == ["Sitemap story 1", "Sitemap story 2", "Sitemap story 3"]
    assert {r.extraction for r in rows} == {"page"} and {r.source for r in rows} == {"map"}
    # the section's "?ref=section" links were new URLs: fetched once, recognised by the page's canonical URL,
    # and remembered as aliases so they are never fetched again
    assert section_guids == 2 and server.hits["/site/news/1?ref=section"] == 1
    code, _, err = monitor_cli(config, "run", "--once", "--source", "section")
    assert "0 new articles" in err and server.hits["/site/news/1?ref=section"] == 1

    server.add("/site/world/", '<html><body><h3><a href="/site/news/4">Four</a></h3></body></html>')
    code, _, err = monitor_cli(config, "run", "--once", "--source", "section")
    assert code == 0 and "1 new articles" in err


def test_run_due_polls_only_what_is_due(server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    sources = add_outlets(server, outlets=2, articles=1)
    config, _ = configure(tmp_path, sources)
    assert monitor_cli(config, "run", "--due")[2].count("pipeline: polled") == 2  # never polled: due
    server.hits.clear()
    code, _, err = monitor_cli(config, "run", "--due")
    assert code == 0 and "polled 0 sources" in err and server.hits == {}
    code, _, err = monitor_cli(config, "run", "--once")
    assert "polled 2 sources" in err  # --once polls regardless of schedule
    assert monitor_cli(config, "run", "--once", "--due")[0] == 2


def test_sources_table_shows_schedule_and_traffic(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=2)
    config, _ = configure(tmp_path, [*sources, {"id": "off", "feed": server.url("/x.xml"), "enabled": False}])
    monitor_cli(config, "run", "--once")
    monitor_cli(config, "run", "--once")
    header, first, second = monitor_cli(config, "sources")[1].splitlines()
    for column in ("KIND", "STATE", "NEXT_POLL", "INTERVAL", "ERRORS", "304", "ARTICLES_24H", "LAST_ERROR"):
        assert column in header
    assert first.split()[:3] == ["outlet1", "feed", "ok"] and "50%" in first
    assert second.split()[:3] == ["off", "feed", "disabled"]
    status = json.loads(monitor_cli(config, "sources", "--format", "json")[1])[0]
    assert status["articles_24h"] == 2 and status["not_modified_share"] == 0.5 and status["polls"] == 2


def test_discover_lists_advertised_and_probed_feeds(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=1, articles=1)
    server.add(
        "/",
        f'<html><head><link rel="alternate" type="application/rss+xml" title="All news" '
        f'href="{sources[0]["feed"]}"></head><body>Home</body></html>',
    )
    server.add(
        "/sitemap_news.xml", _sitemap(server, ["/a"], [datetime.now(UTC)]), content_type="application/xml"
    )
    server.add("/feed", rss_feed([], title="Main", link=server.url("/")), content_type="application/rss+xml")
    config, _ = configure(tmp_path, [])
    code, out, err = monitor_cli(config, "sources", "discover", server.url("/"))
    assert code == 0, err
    snippet = yaml.safe_load(out)["sources"]
    assert snippet[0]["feed"] == sources[0]["feed"] and snippet[0]["id"]  # the advertised feed comes first
    urls = {s.get("feed") or s.get("url") for s in snippet}
    assert urls == {sources[0]["feed"], server.url("/feed"), server.url("/sitemap_news.xml")}
    assert any(s.get("kind") == "sitemap" for s in snippet)


def test_slow_hosts_do_not_block_other_hosts(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    """Two servers on 127.0.0.1 and 127.0.0.2 (two hosts), one cap each: every request to the fast host
    starts while the slow host is still serving its pages one at a time (order, not timing, is checked)."""
    with NewsServer() as fast, NewsServer(host="127.0.0.2") as slow:
        fast_sources = add_outlets(fast, outlets=1, articles=4)
        slow_sources = add_outlets(slow, outlets=1, articles=4)
        slow_sources[0]["id"] = "slowpoke"
        for path, route in slow.routes.items():
            if "/news/" in path:
                route.delay_s = 0.5  # type: ignore[union-attr]
        config, archive = configure(tmp_path, [*fast_sources, *slow_sources], per_host=1)
        assert monitor_cli(config, "run", "--once")[0] == 0
        assert fast.peak_active == 1 and slow.peak_active == 1
        slow_pages = sorted(
            t for t, (path, _) in zip(slow.starts, slow.requests, strict=True) if "/news/" in path
        )
        assert len(slow_pages) == 4 and max(fast.starts) < slow_pages[-1]
        with reader(archive) as archived:
            assert archived.count(EVERY_ARTICLE) == 8
