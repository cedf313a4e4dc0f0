"""The PostgreSQL archive's reads give SQLite's records (issue 16): one archive is built through the real
SQLite writer (polls of three outlets: a story copied across two, an edit, a kept page, watches and their
alerts), its rows are copied to PostgreSQL with their ids, and every reader method is asked the same on both.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from monitor.errors import NotFoundError, QueryError
from monitor.models import Article, PollOutcome, RawPage, Recheck, SearchQuery, Source, Watch
from monitor.store import SQLiteArchive
from monitor.store.postgres import PostgresArchive, fts
from tests.support.builders import T0, article

pytestmark = pytest.mark.postgres

SOURCES = [
    Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0, tags=("news",)),
    Source(id="quiet", name="Quiet", url="https://quiet.example/feed", interval_s=900.0, enabled=False),
    Source(id="wire", name="Wire", url="https://wire.example/feed", interval_s=600.0, tags=("wire", "news")),
]
WATCHES = [
    Watch(id="falcons", query="falcon", channels=("log", "mail")),
    Watch(id="glaciers", query="glacier", sources=("outlet",), channels=("log",)),
]
NOW = T0 + timedelta(hours=6)
TABLES = [
    "sources",
    "articles",
    "article_urls",
    "entry_guids",
    "article_bands",
    "revisions",
    "raw_pages",
    "fetches",
    "heartbeat",
    "watches",
    "matches",
    "deliveries",
]


_Archive = PostgresArchive  # the poll writer and the reader are among its bases


def _on(source: str, n: int, text: str | None = None, **changes: Any) -> Article:
    """Article ``n`` of ``outlet`` (tests.support.builders) moved to ``source``."""
    base = article(n, text)
    url = f"https://{source}.example/news/{n}.html"
    return replace(base, source=source, url=url, urls=(url,), link=url, guid=f"{source}-{n}", **changes)


def _build(archive: SQLiteArchive) -> None:
    archive.sync_sources(SOURCES)
    archive.sync_watches(WATCHES)
    falcon = "A falcon was seen over the harbour at dawn, the first in years, said the coast guard today."
    page = RawPage(
        url="https://outlet.example/news/1.html",
        content_type="text/html",
        charset="utf-8",
        body=gzip.compress(b"<html><p>Story one</p></html>"),
        compression="gzip",
    )
    first = archive.commit_poll(
        PollOutcome(
            source="outlet",
            polled_at=T0 + timedelta(hours=1),
            status=200,
            articles=(
                _on("outlet", 1, raw=page, channel_title="Outlet news", channel_language="en"),
                _on("outlet", 2, falcon, title="Falcon returns"),
                _on("outlet", 3, "Le conseil municipal a voté le budget de la ville.", language="fr"),
                _on("outlet", 4, "Falcon numbers are down, a survey says; the glacier melts."),
            ),
        )
    ).inserted
    archive.commit_poll(
        PollOutcome(
            source="wire",
            polled_at=T0 + timedelta(hours=2),
            status=200,
            articles=(
                _on("wire", 5, falcon, title="Falcon back in the harbour"),  # a copy of outlet's story 2
                _on("wire", 6, "The wire reports on elections in the north, with turnout at a record high."),
            ),
        )
    )
    edited = _on("outlet", 1, "Story number 1 now speaks of a glacier, after an editor's rewrite.")
    archive.commit_poll(
        PollOutcome(
            source="outlet",
            polled_at=T0 + timedelta(hours=3),
            status=200,
            rechecks=(Recheck(article_id=first[0], article=edited, checks=1),),
        )
    )
    alerts = archive.pending_alerts(NOW)
    archive.delivered([alerts[0].delivery_id], NOW)
    archive.delivery_failed(alerts[1].delivery_id, "boom", retry_at=NOW + timedelta(hours=1), at=NOW)


def _copy(path: Path, conn: psycopg.Connection[Any]) -> None:
    """Every row of the SQLite file into PostgreSQL, ids kept, each value in the column's type."""
    db = sqlite3.connect(path)
    try:
        for table in TABLES:
            types = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
                    [table],
                ).fetchall()
            )
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description if d[0] in types]
            rows = [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor]
            values = [[_typed(types[name], row[name]) for name in names] for row in rows]
            if values:
                marks = ", ".join(["%s"] * len(names))
                conn.cursor().executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})".encode(), values
                )
        stored = db.execute("SELECT id, title, text, language FROM articles").fetchall()
        fts.index_many(conn, stored)
    finally:
        db.close()


def _typed(data_type: str, value: Any) -> Any:
    if value is None:
        return None
    if data_type == "timestamp with time zone":
        return datetime.fromisoformat(value)
    if data_type == "jsonb":
        return Jsonb(json.loads(value))
    if data_type == "boolean":
        return bool(value)
    return value


@pytest.fixture
def both(tmp_path: Path, postgres_db: str) -> Iterator[tuple[SQLiteArchive, _Archive]]:
    """The same archive on SQLite (built by its writer) and on PostgreSQL (copied)."""
    lite = SQLiteArchive(tmp_path / "a.db")
    _build(lite)
    pg = _Archive(postgres_db)
    with pg._transaction() as conn:
        _copy(tmp_path / "a.db", conn)
    try:
        yield lite, pg
    finally:
        pg.close()
        lite.close()


SEARCHES = [
    SearchQuery(query="falcon"),
    SearchQuery(query="falcon", limit=1),
    SearchQuery(query="falcon", collapse=True),
    SearchQuery(query="falcon", highlight=("[", "]")),
    SearchQuery(query="falcon OR glacier", sources=("outlet",)),
    SearchQuery(query="falcon", tags=("wire",)),
    SearchQuery(query="falcon OR budget", languages=("fr",)),
    SearchQuery(query="falcon", since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=5)),
    SearchQuery(query="nothingatall"),
]


@pytest.mark.parametrize("query", SEARCHES, ids=[repr(q)[12:60] for q in SEARCHES])
def test_search_and_count_find_the_same(both: tuple[SQLiteArchive, _Archive], query: SearchQuery) -> None:
    lite, pg = both
    assert pg.search(query) == lite.search(query)
    assert pg.count(query) == lite.count(query)


def test_rank_puts_title_matches_first_then_the_newest(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    query = SearchQuery(query="falcon", sort="rank")
    hits = pg.search(query)
    assert {hit.id for hit in hits} == {hit.id for hit in lite.search(query)}
    assert [hit.title for hit in hits[:2]] == ["Falcon back in the harbour", "Falcon returns"]


def test_bad_and_empty_queries_are_refused_alike(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for text in ("", "falcon AND", "---"):
        with pytest.raises(QueryError) as on_sqlite:
            lite.search(SearchQuery(query=text))
        with pytest.raises(QueryError) as on_postgres:
            pg.search(SearchQuery(query=text))
        assert str(on_postgres.value) == str(on_sqlite.value)
        with pytest.raises(QueryError):
            pg.check_query(text)
    pg.check_query("falcon")


def test_counts_and_exports_without_a_query(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for query in (
        SearchQuery(query=""),
        SearchQuery(query="", sources=("wire",)),
        SearchQuery(query="glacier"),
    ):
        assert pg.count(query) == lite.count(query)
        assert list(pg.iter_articles(query)) == list(lite.iter_articles(query))
    assert pg.count(SearchQuery(query="")) == 6


def test_articles_by_id_and_by_url(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    keys = [str(n) for n in range(1, 7)]
    keys += ["https://wire.example/news/5.html", "https://outlet.example/news/2.html?utm_source=x"]
    for key in keys:
        assert pg.get_article(key) == lite.get_article(key)
    for missing in ("99", "9" * 30, "https://nowhere.example/"):
        with pytest.raises(NotFoundError):
            pg.get_article(missing)


def test_latest_facets_sizes(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for after_id, limit, sources in ((None, 3, ()), (2, 10, ()), (None, 10, ("wire",))):
        kwargs: dict[str, Any] = {"after_id": after_id, "limit": limit, "sources": sources}
        assert pg.latest(**kwargs) == lite.latest(**kwargs)
    for by in ("source", "day", "lang"):
        assert pg.facets(by) == lite.facets(by)
        assert pg.facets(by, query="falcon") == lite.facets(by, query="falcon")
    assert pg.facets("source", limit=1) == lite.facets("source", limit=1)
    pg_sizes, lite_sizes = pg.sizes(), lite.sizes()
    assert replace(pg_sizes, bytes=0, raw_bytes=0) == replace(lite_sizes, bytes=0, raw_bytes=0)
    assert pg_sizes.bytes > pg_sizes.raw_bytes > 0


def test_stories_revisions_duplicates(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for article_id in range(1, 8):
        assert pg.story(article_id) == lite.story(article_id)
        assert pg.revisions(article_id) == lite.revisions(article_id)
    assert len(pg.story(2)) == 2
    assert len(pg.revisions(1)) == 1
    assert pg.duplicates() == lite.duplicates()
    assert len(pg.duplicates()) == 1
    for since in (T0, T0 + timedelta(days=1)):
        assert pg.duplicates(since=since) == lite.duplicates(since=since)


def test_sources_watches_alerts(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for now in (NOW, T0 + timedelta(days=3)):
        assert pg.source_statuses(now) == lite.source_statuses(now)
        assert pg.watch_statuses(now) == lite.watch_statuses(now)
    assert [status.state for status in pg.source_statuses(NOW)] == ["ok", "disabled", "ok"]
    for watch in (None, "falcons", "glaciers", "unknown"):
        assert pg.alerts(watch=watch) == lite.alerts(watch=watch)
    assert pg.alerts(limit=1) == lite.alerts(limit=1)
    assert {alert.last_error for alert in pg.alerts()} == {None, "boom"}


def test_channel_and_reextraction_reads(both: tuple[SQLiteArchive, _Archive]) -> None:
    lite, pg = both
    for source in ("outlet", "wire", "unknown"):
        assert pg.channel(source) == lite.channel(source)
    assert pg.channel("outlet").title == "Outlet news"
    for kwargs in ({}, {"sources": ("wire",)}, {"since": NOW}, {"version": "v0"}):
        assert pg.reextract_ids(**kwargs) == lite.reextract_ids(**kwargs)
    ids = lite.reextract_ids()
    assert ids == [1]
    assert pg.raw_pages([*ids, 2]) == lite.raw_pages([*ids, 2])
    assert pg.raw_pages([]) == []
