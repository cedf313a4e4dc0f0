"""SQLite archive through sqlite-utils: schema, migrations, atomic poll commits, search.

WAL mode so that readers (``monitor search``, Datasette) never block the daemon and the daemon never blocks
them; ``busy_timeout`` for the moments two writers meet. Every poll is one transaction: after a crash
(``kill -9`` included) the archive holds each poll whole or not at all. Duplicates are refused by unique
indexes and ``ON CONFLICT`` clauses, never by check-then-insert.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.dedup import canonical_url
from monitor.errors import NotFoundError, QueryError, StoreError
from monitor.models import Article, PollOutcome, SearchHit, SearchQuery, Source, SourceStatus

MIGRATIONS = Migrations("monitor")
BUSY_TIMEOUT_MS = 10_000


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``: the one time format stored in the archive."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@MIGRATIONS(name="0001_initial")
def _initial_schema(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            feed TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            interval_s REAL NOT NULL,
            in_config INTEGER NOT NULL DEFAULT 1,
            last_polled_at TEXT,
            last_success_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            error_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            guid TEXT,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            summary TEXT,
            language TEXT,
            image TEXT,
            extraction TEXT NOT NULL CHECK (extraction IN ('page', 'feed')),
            content_hash TEXT NOT NULL
        );
        CREATE INDEX articles_published_at ON articles (published_at);
        CREATE INDEX articles_source ON articles (source, published_at);
        CREATE INDEX articles_content_hash ON articles (content_hash);
        CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            source TEXT,
            first_seen_at TEXT NOT NULL
        );
        CREATE INDEX article_urls_article ON article_urls (article_id);
        CREATE TABLE entry_guids (
            source TEXT NOT NULL,
            guid TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            PRIMARY KEY (source, guid)
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source TEXT,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            status INTEGER,
            bytes INTEGER,
            duration_ms INTEGER,
            error TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX fetches_source_at ON fetches (source, at);
        """
    )
    db.table("articles").enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True)


class SQLiteArchive:
    """The archive in one SQLite file. One instance per thread; not shared across processes."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"store: no archive at {self.path} (run `monitor run` first)")
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self.db = Database(conn)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = Database(self.path)
                self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")
                self.db.execute("PRAGMA foreign_keys = ON")
                MIGRATIONS.apply(self.db)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot open archive {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"store: cannot create archive folder for {self.path}: {exc}") from exc
        if readonly and MIGRATIONS.pending(self.db):
            raise StoreError(
                f"store: archive {self.path} has an older schema; run `monitor run --once` to upgrade it"
            )

    def close(self) -> None:
        self.db.close()

    # -- sources -----------------------------------------------------------------------------------

    def sync_sources(self, sources: Sequence[Source]) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE sources SET in_config = 0")
            for source in sources:
                self.db.execute(
                    """
                    INSERT INTO sources (id, name, feed, tags, language, enabled, interval_s, in_config)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT (id) DO UPDATE SET
                        name = excluded.name, feed = excluded.feed, tags = excluded.tags,
                        language = excluded.language, enabled = excluded.enabled,
                        interval_s = excluded.interval_s, in_config = 1
                    """,
                    [
                        source.id,
                        source.name,
                        source.feed,
                        json.dumps(list(source.tags)),
                        source.language,
                        int(source.enabled),
                        source.interval_s,
                    ],
                )

    def last_polled(self) -> dict[str, str | None]:
        return {
            row[0]: row[1] for row in self.db.execute("SELECT id, last_polled_at FROM sources").fetchall()
        }

    # -- dedup lookups -----------------------------------------------------------------------------

    @staticmethod
    def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
        for start in range(0, len(values), size):
            yield values[start : start + size]

    def known_entries(
        self, source: str, guids: Iterable[str], urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        known_guids: set[str] = set()
        known_urls: set[str] = set()
        for chunk in self._chunks(sorted(set(guids))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT guid FROM entry_guids WHERE source = ? AND guid IN ({marks})", [source, *chunk]
            )
            known_guids.update(row[0] for row in rows)
        for chunk in self._chunks(sorted(set(urls))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT url FROM article_urls WHERE url IN ({marks})", list(chunk))
            known_urls.update(row[0] for row in rows)
        return known_guids, known_urls

    # -- writing a poll ----------------------------------------------------------------------------

    def _article_id_for(self, urls: Sequence[str]) -> int | None:
        for url in urls:
            row = self.db.execute("SELECT article_id FROM article_urls WHERE url = ?", [url]).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def _remember(self, article_id: int, source: str, guid: str | None, urls: Iterable[str], at: str) -> None:
        for url in urls:
            self.db.execute(
                "INSERT INTO article_urls (url, article_id, source, first_seen_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (url) DO NOTHING",
                [url, article_id, source, at],
            )
        if guid:
            self.db.execute(
                "INSERT INTO entry_guids (source, guid, article_id) VALUES (?, ?, ?) "
                "ON CONFLICT (source, guid) DO NOTHING",
                [source, guid, article_id],
            )

    def _insert_article(self, article: Article) -> int | None:
        row = self.db.execute(
            """
            INSERT INTO articles (url, source, guid, title, authors, published_at, fetched_at, text, summary,
                                  language, image, extraction, content_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (url) DO NOTHING
            RETURNING id
            """,
            [
                article.url,
                article.source,
                article.guid,
                article.title,
                json.dumps(list(article.authors), ensure_ascii=False),
                iso(article.published_at),
                iso(article.fetched_at),
                article.text,
                article.summary,
                article.language,
                article.image,
                article.extraction,
                article.content_hash,
            ],
        ).fetchone()
        return int(row[0]) if row is not None else None

    def commit_poll(self, outcome: PollOutcome) -> list[int]:
        at = iso(outcome.polled_at)
        inserted: list[int] = []
        try:
            with self.db.atomic():
                for article in outcome.articles:
                    urls = list(dict.fromkeys((article.url, *article.urls)))
                    article_id = self._article_id_for(urls)
                    if article_id is None:
                        article_id = self._insert_article(article)
                        if article_id is None:  # the canonical URL exists, under no alias yet
                            article_id = self._article_id_for([article.url])
                        else:
                            inserted.append(article_id)
                    if article_id is not None:
                        self._remember(article_id, article.source, article.guid, urls, at or "")
                for alias in outcome.aliases:
                    if (article_id := self._article_id_for([alias.url])) is not None:
                        self._remember(article_id, alias.source, alias.guid, [alias.url], at or "")
                for fetch in outcome.fetches:
                    self.db.execute(
                        "INSERT INTO fetches (source, url, kind, status, bytes, duration_ms, error, at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            fetch.source,
                            fetch.url,
                            fetch.kind,
                            fetch.status,
                            fetch.bytes,
                            fetch.duration_ms,
                            fetch.error,
                            iso(fetch.at),
                        ],
                    )
                if outcome.error is None:
                    self.db.execute(
                        "UPDATE sources SET last_polled_at = ?, last_success_at = ?, last_status = ?, "
                        "last_error = NULL, error_count = 0 WHERE id = ?",
                        [at, at, outcome.status, outcome.source],
                    )
                else:
                    self.db.execute(
                        "UPDATE sources SET last_polled_at = ?, last_status = ?, last_error = ?, "
                        "error_count = error_count + 1 WHERE id = ?",
                        [at, outcome.status, outcome.error, outcome.source],
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot record poll of {outcome.source}: {exc}") from exc
        return inserted

    # -- reading -----------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> list[SearchHit]:
        where = ["articles_fts MATCH ?"]
        params: list[Any] = [query.query]
        if query.sources:
            where.append(f"a.source IN ({','.join('?' * len(query.sources))})")
            params.extend(query.sources)
        if query.since is not None:
            where.append("coalesce(a.published_at, a.fetched_at) >= ?")
            params.append(iso(query.since))
        if query.until is not None:
            where.append("coalesce(a.published_at, a.fetched_at) < ?")
            params.append(iso(query.until))
        order = "articles_fts.rank" if query.sort == "rank" else "coalesce(a.published_at, a.fetched_at) DESC"
        sql = f"""
            SELECT a.id, a.url, a.source, a.title, a.authors, a.published_at, a.language,
                   snippet(articles_fts, -1, '', '', '…', 30)
            FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid
            WHERE {" AND ".join(where)}
            ORDER BY {order}, a.id DESC
            LIMIT ?
        """
        params.append(query.limit)
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if "fts5" in message or "no such column" in message or "syntax error" in message:
                raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({message})") from None
            raise StoreError(f"store: search failed: {message}") from exc
        return [
            SearchHit(
                id=row[0],
                url=row[1],
                source=row[2],
                title=row[3],
                authors=tuple(json.loads(row[4])),
                published_at=row[5],
                language=row[6],
                snippet=" ".join(row[7].split()),
            )
            for row in rows
        ]

    def get_article(self, id_or_url: str) -> dict[str, Any]:
        cursor = None
        if id_or_url.isdigit():
            cursor = self.db.execute("SELECT * FROM articles WHERE id = ?", [int(id_or_url)])
        else:
            cursor = self.db.execute(
                "SELECT a.* FROM articles AS a JOIN article_urls AS u ON u.article_id = a.id "
                "WHERE u.url IN (?, ?) LIMIT 1",
                [id_or_url, canonical_url(id_or_url)],
            )
        row = cursor.fetchone()
        if row is None:
            raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
        article = dict(zip([column[0] for column in cursor.description], row, strict=True))
        article["authors"] = json.loads(article["authors"])
        article["urls"] = [
            r[0]
            for r in self.db.execute(
                "SELECT url FROM article_urls WHERE article_id = ? ORDER BY first_seen_at, url",
                [article["id"]],
            )
        ]
        return article

    def source_statuses(self) -> list[SourceStatus]:
        rows = self.db.execute(
            """
            SELECT s.id, s.name, s.feed, s.enabled,
                   (SELECT count(*) FROM articles AS a WHERE a.source = s.id),
                   s.last_polled_at, s.last_success_at, s.last_status, s.last_error, s.error_count
            FROM sources AS s WHERE s.in_config = 1 ORDER BY s.rowid
            """
        ).fetchall()
        return [
            SourceStatus(
                id=r[0],
                name=r[1],
                feed=r[2],
                enabled=bool(r[3]),
                articles=r[4],
                last_polled_at=r[5],
                last_success_at=r[6],
                last_status=r[7],
                last_error=r[8],
                error_count=r[9],
            )
            for r in rows
        ]
