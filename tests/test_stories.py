"""Duplicates, syndication and revisions through the whole path: a real local server, a real archive."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.models import Revision, SearchQuery, StoredArticle
from tests.support.archive import articles, reader
from tests.support.newssite import NewsServer, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI

SEED_PARAGRAPHS = [
    "In a meeting between the Iranian leader and the Venezuelan President in Tehran, the two sides agreed "
    "that resistance was the only way to face pressure from the United States and its sanctions.",
    "The Iranian leader praised the people of Venezuela for their resistance, saying it enhanced the dignity "
    "of a nation, and pointed to the victory of the Venezuelan government in a multi-faceted economic war.",
    "He also spoke of the scientific and technological progress Iran had made in recent years, maintaining "
    "that it came at a time when the toughest sanctions were imposed on the country.",
    "The two presidents signed a twenty-year cooperation plan covering energy, science, technology, "
    "agriculture and trade, and agreed to follow up on its implementation within months.",
    "The Venezuelan President thanked Iran for its support and said the situation in his country was now "
    "better than it was a few years ago, despite the war of attrition waged against it.",
]
OTHER_STORY = [
    "Venezuela and Iran opened a new direct air route between Caracas and Tehran on Monday, officials at "
    "the transport ministry announced, with two weekly flights planned for the coming season.",
    "Airline executives said demand from business travellers and students had grown since the countries "
    "signed several trade agreements, and that cargo capacity would also be expanded next year.",
    "The ministry said tickets would go on sale next week, and that the first flight would carry a "
    "delegation of engineers working on a refinery project in the east of Venezuela.",
    "Critics in the opposition said the route served political rather than economic goals, pointing to "
    "the low number of passengers on a similar route that was closed several years ago.",
]


def page(
    title: str, paragraphs: list[str], *, header: str = "", footer: str = "", published: str = ""
) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    return (
        f"<html lang='en'><head><title>{title}</title>{meta}</head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>{title}</h1>{header}{body}{footer}</article>"
        "<footer>All rights reserved.</footer></body></html>"
    )


def atom(server: NewsServer, entries: list[tuple[str, str, str]]) -> str:
    """entries: (path, title, updated)"""
    items = "".join(
        f"<entry><id>urn:{path}</id><title>{title}</title><link href='{server.url(path)}'/>"
        f"<published>2024-06-11T08:00:00Z</published><updated>{updated}</updated></entry>"
        for path, title, updated in entries
    )
    return f"<feed xmlns='http://www.w3.org/2005/Atom'><title>F</title><id>urn:f</id>{items}</feed>"


def stored(archive: Path) -> list[StoredArticle]:
    with reader(archive) as archived:
        return articles(archived)


def revisions(archive: Path) -> list[Revision]:
    """Every earlier version of every article."""
    with reader(archive) as archived:
        return [revision for article in articles(archived) for revision in archived.revisions(article.id)]


def test_copies_across_urls_and_outlets_form_one_story(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    seed = page("Resistance is the only way", SEED_PARAGRAPHS, published="2024-06-11T08:00:00Z")
    server.add("/origin/story", seed)
    server.add("/origin/print/story", seed)  # the same article under a second URL, no canonical
    republished = page(
        "Leader: resistance is the only way",
        SEED_PARAGRAPHS[:4],  # trimmed
        header="<p>Editor's note: we republish this report in full for our readers in the region.</p>",
        footer="<p>Share this article with your friends.</p><p>Source » almayadeen</p>",
        published="2024-06-11T12:00:00Z",
    )
    server.add("/mirror/story", republished)
    server.add("/origin/flights", page("New air route", OTHER_STORY, published="2024-06-11T09:00:00Z"))
    server.add("/origin/feed.xml", atom(server, [("/origin/story", "Resistance", "2024-06-11T08:00:00Z"),
                                                ("/origin/print/story", "Resistance (print)", "2024-06-11T08:00:00Z"),
                                                ("/origin/flights", "Flights", "2024-06-11T09:00:00Z")]),
               content_type="application/atom+xml")  # fmt: skip
    server.add("/mirror/feed.xml", atom(server, [("/mirror/story", "Leader: resistance", "2024-06-11T12:00:00Z")]),
               content_type="application/atom+xml")  # fmt: skip
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "mirror", "feed": server.url("/mirror/feed.xml")}], archive=archive)
    assert monitor_cli(config, "run", "--once")[0] == 0  # the copy is archived first
    write_config(config, [{"id": "origin", "feed": server.url("/origin/feed.xml")},
                          {"id": "mirror", "feed": server.url("/mirror/feed.xml")}], archive=archive)  # fmt: skip
    assert monitor_cli(config, "run", "--once", "--source", "origin")[0] == 0

    by_url = {r.url.removeprefix(server.base_url): r for r in stored(archive)}
    original, print_copy, mirror, flights = (
        by_url["/origin/story"], by_url["/origin/print/story"], by_url["/mirror/story"], by_url["/origin/flights"]
    )  # fmt: skip
    # the older article archived later became the story's original: the story was re-pointed
    assert original.story_id == original.id and original.duplicate_of is None
    assert print_copy.story_id == original.id and print_copy.duplicate_score == 1.0
    assert mirror.story_id == original.id and mirror.duplicate_of == original.id
    assert mirror.duplicate_score is not None and 0.6 <= mirror.duplicate_score < 1.0
    assert mirror.attribution is not None and mirror.attribution.name == "almayadeen"
    assert flights.story_id == flights.id and flights.duplicate_of is None  # same topic, not a copy

    code, out, _ = monitor_cli(config, "show", str(original.id))
    assert code == 0 and "Story: 3 copies" in out and "credits almayadeen" in out and "original" in out
    shown = json.loads(monitor_cli(config, "show", str(mirror.id), "--format", "json")[1])
    assert shown["attribution"]["name"] == "almayadeen" and {c["id"] for c in shown["copies"]} == {
        original.id, print_copy.id}  # fmt: skip

    hits = json.loads(monitor_cli(config, "search", "resistance", "--collapse", "--format", "json")[1])
    assert [(h["id"], h["copies"]) for h in hits] == [(original.id, 2)]
    assert len(json.loads(monitor_cli(config, "search", "resistance", "--format", "json")[1])) == 3

    stories = json.loads(monitor_cli(config, "duplicates", "--format", "json")[1])
    assert [(s["id"], s["copies"], s["sources"]) for s in stories] == [(original.id, 2, ["mirror", "origin"])]
    assert "no stories" in monitor_cli(config, "duplicates", "--since", "2030-01-01")[1]


def test_an_edited_article_gets_a_revision_and_an_unchanged_refetch_adds_nothing(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    server.add("/news/1", page("Talks resume", SEED_PARAGRAPHS))
    feed = lambda updated: atom(server, [("/news/1", "Talks resume", updated)])  # noqa: E731
    server.add("/feed.xml", feed("2024-06-11T08:00:00Z"), content_type="application/atom+xml")
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "s", "feed": server.url("/feed.xml")}], archive=archive)
    assert monitor_cli(config, "run", "--once")[0] == 0
    (article,) = stored(archive)
    assert article.entry_hash and article.next_check_at  # decaying re-checks are scheduled

    # the feed says the entry was updated, but the page is the same: re-fetched, nothing stored
    server.add("/feed.xml", feed("2024-06-11T09:00:00Z"), content_type="application/atom+xml")
    server.hits.clear()
    assert monitor_cli(config, "run", "--once")[0] == 0
    assert server.hits["/news/1"] == 1 and revisions(archive) == []

    # a stealth edit: a paragraph rewritten, one added; the entry's updated date moves
    edited = [*SEED_PARAGRAPHS[:2], SEED_PARAGRAPHS[2].replace("recent years", "the last decade"),
              *SEED_PARAGRAPHS[3:], "Officials later said the plan would be reviewed every year."]  # fmt: skip
    server.add("/news/1", page("Talks resume, plan to be reviewed yearly", edited))
    server.add("/feed.xml", feed("2024-06-11T10:00:00Z"), content_type="application/atom+xml")
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "revised=1" in err
    (revision,) = revisions(archive)
    (article,) = stored(archive)
    assert revision.text.split("\n\n") == SEED_PARAGRAPHS and revision.title == "Talks resume"
    assert article.title == "Talks resume, plan to be reviewed yearly" and "last decade" in article.text
    assert revision.diff_stats is not None
    assert revision.diff_stats["paragraphs_added"] == 2 and revision.diff_stats["paragraphs_removed"] == 1
    with reader(archive) as archived:  # the index follows the edit (it holds normalised text: stems)
        assert archived.count(SearchQuery(query="decade")) == 1

    code, out, _ = monitor_cli(config, "show", str(article.id), "--revisions")
    assert code == 0 and "revisions:  1" in out
    assert "-He also spoke of the scientific and technological progress Iran had made in recent years" in out
    assert "+Officials later said the plan would be reviewed every year." in out
    assert "-# Talks resume" in out and "+# Talks resume, plan to be reviewed yearly" in out


def test_decaying_rechecks_catch_edits_the_feed_never_mentions(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    server.add("/news/1", page("Quiet edit", SEED_PARAGRAPHS))
    server.add("/feed.xml", atom(server, [("/news/1", "Quiet edit", "2024-06-11T08:00:00Z")]),
               content_type="application/atom+xml")  # fmt: skip
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "s", "feed": server.url("/feed.xml")}], archive=archive)
    assert monitor_cli(config, "run", "--once")[0] == 0
    server.add("/news/1", page("Quiet edit", [*SEED_PARAGRAPHS[:-1], "The last paragraph was rewritten."]))
    # an hour passes: move the schedule instead of the clock
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with sqlite3.connect(archive) as db:
        db.execute("UPDATE articles SET next_check_at = ?", [past])
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "not_modified=1" in err and "revised=1" in err
    (article,) = stored(archive)
    assert article.next_check_at is not None
    assert article.checks == 1 and article.next_check_at > past  # next check: 6h after first sight
    assert len(revisions(archive)) == 1
