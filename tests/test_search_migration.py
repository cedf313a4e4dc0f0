"""An archive written by monitor at schema 0008 (``tests/data/archives/archive-0008.db.gz``, built by that
code: see ``make_0008.py``) is migrated to the normalised search index (0009): rebuilt once, in batches, with
progress; then found with the new normalisation. A changed normaliser version rebuilds it again, and an
interrupted rebuild resumes."""

from __future__ import annotations

import gzip
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from monitor import textnorm
from monitor.models import SearchQuery
from monitor.store import SQLiteArchive

FIXTURE = Path(__file__).parent / "data" / "archives" / "archive-0008.db.gz"


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def state(path: Path) -> dict[str, object]:
    db = sqlite3.connect(path)
    try:
        db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
        return {
            "migrations": [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")],
            "indexed": db.execute("SELECT count(*) FROM articles_fts").fetchone()[0],
            "articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
            "meta": dict(db.execute("SELECT key, value FROM search_index").fetchall()),
            "triggers": sorted(
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ),
        }
    finally:
        db.close()


def urls(archive: SQLiteArchive, query: str) -> list[str]:
    return sorted(hit.url for hit in archive.search(SearchQuery(query=query, limit=50)))


def test_a_0008_archive_is_migrated_and_its_index_rebuilt_once(old_archive: Path) -> None:
    before = sqlite3.connect(old_archive)
    assert (
        before.execute("SELECT max(name) FROM _sqlite_migrations").fetchone()[0]
        == "0008_fts_written_per_poll"
    )
    before.close()
    with pytest.raises(Exception, match="older schema"):  # readers ask for the daemon to upgrade it first
        SQLiteArchive(old_archive, readonly=True)

    progress: list[tuple[int, int]] = []
    archive = SQLiteArchive(old_archive, index_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(9, 9)]
    after = state(old_archive)
    assert "0009_normalised_search_index" in after["migrations"]  # type: ignore[operator]
    assert after["indexed"] == after["articles"] == 9
    assert after["meta"] == {"normaliser": textnorm.NORMALISER_VERSION}
    assert after["triggers"] == ["articles_ad"]  # deletes only; writes are the store's
    assert urls(archive, "马杜罗") == ["https://outlet.example/zh/0.html"]  # a Chinese word inside a run
    assert urls(archive, "مقاومة") == ["https://outlet.example/ar/4.html"]  # without ال
    assert urls(archive, "flood") == ["https://outlet.example/en/8.html"]  # English stem
    assert urls(archive, "декабре") == ["https://outlet.example/ru/6.html"]  # the revised text
    assert urls(archive, "договорились AND новой") == []  # not the first version
    archive.close()

    progress.clear()
    SQLiteArchive(old_archive, index_progress=lambda done, total: progress.append((done, total))).close()
    assert progress == []  # once
    reader = SQLiteArchive(old_archive, readonly=True)
    assert urls(reader, "地震") == ["https://outlet.example/ja/1.html"]
    assert urls(reader, "집회") == ["https://outlet.example/ko/2.html"]
    reader.close()


def test_another_normaliser_version_rebuilds_and_an_interrupted_rebuild_resumes(
    old_archive: Path, caplog: pytest.LogCaptureFixture
) -> None:
    SQLiteArchive(old_archive).close()
    db = sqlite3.connect(old_archive)
    db.execute("UPDATE search_index SET value = 'an older normaliser' WHERE key = 'normaliser'")
    db.commit()
    db.close()
    progress: list[tuple[int, int]] = []
    SQLiteArchive(old_archive, index_progress=lambda done, total: progress.append((done, total))).close()
    assert progress == [(9, 9)]
    assert state(old_archive)["indexed"] == 9

    # a rebuild stopped after the first five articles: the next open indexes the other four
    db = sqlite3.connect(old_archive)
    db.execute("DELETE FROM articles_fts WHERE rowid > 5")
    db.execute("DELETE FROM search_index")
    db.executemany(
        "INSERT INTO search_index (key, value) VALUES (?, ?)",
        [("building", textnorm.NORMALISER_VERSION), ("built_to", "5")],
    )
    db.commit()
    db.close()
    with caplog.at_level(logging.WARNING, logger="monitor.store"):
        reader = SQLiteArchive(old_archive, readonly=True)  # readers keep working meanwhile, and say so
    assert urls(reader, "马杜罗") == ["https://outlet.example/zh/0.html"]  # indexed before the stop
    assert urls(reader, "बारिश") == []  # not yet
    reader.close()
    assert "search index" in caplog.text and "being rebuilt" in caplog.text
    progress.clear()
    archive = SQLiteArchive(old_archive, index_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(9, 9)]
    assert state(old_archive)["indexed"] == 9
    assert urls(archive, "बारिश") == ["https://outlet.example/hi/7.html"]
    archive.close()


def test_a_deleted_article_leaves_the_index(old_archive: Path) -> None:
    SQLiteArchive(old_archive).close()
    db = sqlite3.connect(old_archive)
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("DELETE FROM matches")
    db.execute("DELETE FROM revisions")
    db.execute("DELETE FROM articles WHERE url LIKE '%/zh/%'")
    db.commit()
    db.close()
    assert state(old_archive)["indexed"] == 8
