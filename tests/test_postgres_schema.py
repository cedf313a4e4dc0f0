"""The PostgreSQL archive's schema and migrations (issue 16), on a real server (tests/support/postgres.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from monitor.store.postgres.schema import MIGRATIONS, migrate, pending
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

TABLES = {
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
    "articles_fts",
    "search_index",
    "schema_migrations",
}
SHARING = {"workers", "host_leases", "worker_polls", "host_slots", "host_pace"}
"""Tables of workers sharing the archive (0004): SQLite's one daemon has none."""
TABLES |= SHARING
NAMES = [name for name, _ in MIGRATIONS]


def _tables(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def test_the_server_answers(postgres_server: PostgresServer, postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        row = conn.execute("SELECT current_setting('server_version_num')::int, current_database()").fetchone()
    assert row is not None
    assert row[0] >= 130000
    assert row[1].startswith(postgres_server.prefix)


def test_each_test_has_a_database_of_its_own(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        assert _tables(conn) == set()  # cloned from the empty template, whatever other tests migrated


def test_migrate_creates_every_table(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        assert pending(conn) == NAMES
        assert migrate(conn) == NAMES
        assert _tables(conn) == TABLES
        assert pending(conn) == []


POSTGRES_ONLY = {"deliveries": {"claimed_by", "claimed_until"}, "sources": {"seq"}, "watches": {"seq"}}
"""Columns only the PostgreSQL archive has: workers' claims on deliveries (0002; one SQLite daemon needs none)."""


def test_the_same_columns_as_sqlite(postgres_db: str) -> None:
    import sqlite3

    from sqlite_utils import Database

    from monitor.store.schema import MIGRATIONS as SQLITE

    lite = Database(sqlite3.connect(":memory:"))
    SQLITE.apply(lite)
    with psycopg.connect(postgres_db) as conn:
        migrate(conn)
        for table in TABLES - {"schema_migrations", "articles_fts"} - SHARING:
            columns = {
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table]
                )
            }
            assert columns - POSTGRES_ONLY.get(table, set()) == set(lite[table].columns_dict), table


def test_migrate_is_idempotent(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        migrate(conn)
        assert migrate(conn) == []
        assert migrate(conn) == []
        rows = conn.execute(
            "SELECT name, count(*) FROM schema_migrations GROUP BY name ORDER BY name"
        ).fetchall()
    assert rows == [(name, 1) for name in NAMES]


def test_ten_workers_starting_together_migrate_once(postgres_db: str) -> None:
    workers = 10
    barrier = threading.Barrier(workers)
    applied: list[list[str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            with psycopg.connect(postgres_db) as conn:
                barrier.wait(timeout=10)
                names = migrate(conn)
            with lock:
                applied.append(names)
        except BaseException as exc:  # reported by the assertion below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(applied, key=len) == [[]] * (workers - 1) + [NAMES]  # one applied, nine found it done
    with psycopg.connect(postgres_db) as conn:
        rows = conn.execute(
            "SELECT name, count(*) FROM schema_migrations GROUP BY name ORDER BY name"
        ).fetchall()
        assert _tables(conn) == TABLES
    assert rows == [(name, 1) for name in NAMES]


def test_one_article_per_url(postgres_db: str) -> None:
    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    with psycopg.connect(postgres_db) as conn:
        migrate(conn)
        ids = [
            conn.execute(
                "INSERT INTO articles (url, source, fetched_at, extraction, content_hash) "
                "VALUES (%s, 's', %s, 'page', 'h') RETURNING id",
                ["https://example.org/a", at],
            ).fetchone()
            for _ in range(2)
        ]
        first, second = (row[0] for row in ids if row is not None)
        insert = "INSERT INTO article_urls (url, article_id, source, first_seen_at) VALUES (%s, %s, 's', %s)"
        conn.execute(insert, ["https://example.org/a", first, at])
        conn.commit()
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, ["https://example.org/a", second, at])
        conn.rollback()
        claimed = conn.execute(
            insert + " ON CONFLICT (url) DO NOTHING RETURNING article_id",
            ["https://example.org/a", second, at],
        ).fetchone()
        assert claimed is None  # the writer's way: the second claim finds the URL taken
        owner = conn.execute("SELECT article_id FROM article_urls WHERE url = %s", ["https://example.org/a"])
        assert owner.fetchone() == (first,)


def test_a_url_cannot_point_to_no_article(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        migrate(conn)
        conn.execute(
            "INSERT INTO article_urls (url, article_id, first_seen_at) VALUES ('https://x/', 99, now())"
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.commit()  # deferred: checked at commit, so a writer may claim the URL before the article


def test_search_document_is_gin_indexed(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        migrate(conn)
        row = conn.execute(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE c.relname = 'articles_fts_document'"
        ).fetchone()
        kind = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'articles_fts' AND column_name = 'document'"
        ).fetchone()
    assert row == ("gin",)
    assert kind == ("tsvector",)
