"""The full-text index: new articles are indexed with their poll, edits re-index, other updates do not
(migrations 0008 and 0009, D36); an archive made before 0008 is indexed again and gains the new behaviour."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlite_utils import Database

from monitor.models import Article, PollOutcome, Recheck, SearchQuery, Source
from monitor.store import SQLiteArchive
from monitor.store.schema import MIGRATIONS
from tests.support.builders import T0
from tests.support.builders import article as built_article

WORDS = [
    "harbour",
    "lantern",
    "quarry",
    "meadow",
    "falcon",
    "granite",
    "orchard",
    "tundra",
    "willow",
    "zephyr",
]


def _body(n: int) -> str:
    return f"Story number {n} is about the {WORDS[n % len(WORDS)]} and nothing else at all."


article = partial(built_article, body=_body)


def commit(archive: SQLiteArchive, *articles: Article, rechecks: tuple[Recheck, ...] = ()) -> list[int]:
    outcome = PollOutcome(
        source="outlet", polled_at=T0 + timedelta(hours=1), articles=articles, rechecks=rechecks, status=200
    )
    return archive.commit_poll(outcome).inserted


def hits(archive: SQLiteArchive, query: str) -> list[str]:
    return sorted(hit.url for hit in archive.search(SearchQuery(query=query, limit=50)))


def index_state(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        db.execute(
            "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')"
        )  # raises if out of sync
        row = db.execute("SELECT count(*), sum(length(block)) FROM articles_fts_data").fetchone()
        return int(row[0]), int(row[1])
    finally:
        db.close()


def triggers(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    finally:
        db.close()


def open_archive(path: Path) -> SQLiteArchive:
    archive = SQLiteArchive(path)
    archive.sync_sources(
        [Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0)]
    )
    return archive


def test_a_poll_indexes_its_new_articles_and_only_text_edits_reindex(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    archive = open_archive(path)
    ids = commit(archive, *(article(n) for n in range(6)))
    assert len(ids) == 6
    assert hits(archive, "falcon") == ["https://outlet.example/news/4.html"]
    assert hits(archive, "headline") == [f"https://outlet.example/news/{n}.html" for n in range(6)]
    before = index_state(path)

    # updates that do not touch title or text (story re-pointing, re-check schedule) leave the index alone
    archive.db.execute("UPDATE articles SET story_id = ?, checks = 3 WHERE id != ?", [ids[0], ids[0]])
    archive.db.conn.commit()
    assert index_state(path) == before

    # an edit found by a re-check re-indexes the new text, and the old words stop matching
    edited = article(4, text="Story number 4 is now about the glacier, after an editor rewrote it.")
    commit(archive, rechecks=(Recheck(article_id=ids[4], article=edited, checks=1),))
    assert hits(archive, "glacier") == ["https://outlet.example/news/4.html"]
    assert hits(archive, "falcon") == []
    index_state(path)
    archive.close()


def test_an_archive_from_before_0008_is_indexed_again_and_gains_per_poll_indexing(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    MIGRATIONS.apply(db, stop_before="0008_fts_written_per_poll")
    assert "articles_ai" in triggers(path)  # the old schema indexed through an insert trigger
    db.execute(
        "INSERT INTO articles (url, source, title, fetched_at, text, extraction, content_hash, story_id) "
        "VALUES ('https://outlet.example/old.html', 'outlet', 'Old', ?, 'an old story about a quarry', "
        "'page', 'h', 1)",
        [T0.isoformat()],
    )
    db.conn.commit()
    db.close()

    archive = open_archive(path)  # applies 0008 and 0009 (the normalised index, rebuilt from the articles)
    after = triggers(path)
    assert "articles_ai" not in after and "articles_au" not in after  # the store writes the index
    commit(archive, article(2))  # WORDS[2] == "quarry"
    assert hits(archive, "quarry") == [
        "https://outlet.example/news/2.html",
        "https://outlet.example/old.html",
    ]
    index_state(path)
    archive.close()
