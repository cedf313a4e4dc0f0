"""SQLite archive through sqlite-utils: schema, migrations, atomic poll commits, search.

WAL mode so that readers (``monitor search``, Datasette) never block the daemon and the daemon never blocks
them; ``busy_timeout`` for the moments two writers meet. Every poll is one transaction: after a crash
(``kill -9`` included) the archive holds each poll whole or not at all. Duplicates are refused by unique
indexes and ``ON CONFLICT`` clauses, never by check-then-insert.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.dedup import canonical_url, fold_text
from monitor.errors import NotFoundError, QueryError, StoreError
from monitor.models import Article, PollOutcome, PollState, SearchHit, SearchQuery, Source, SourceStatus

MIGRATIONS = Migrations("monitor")
P = ParamSpec("P")
R = TypeVar("R")
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


@MIGRATIONS(name="0002_poll_state")
def _poll_state(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN kind TEXT NOT NULL DEFAULT 'feed';
        ALTER TABLE sources ADD COLUMN config_url TEXT;
        ALTER TABLE sources ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN next_poll_at TEXT;
        ALTER TABLE sources ADD COLUMN etag TEXT;
        ALTER TABLE sources ADD COLUMN last_modified TEXT;
        ALTER TABLE sources ADD COLUMN body_hash TEXT;
        ALTER TABLE sources ADD COLUMN new_per_poll REAL;
        ALTER TABLE sources ADD COLUMN not_found_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN dead INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN poll_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN not_modified_count INTEGER NOT NULL DEFAULT 0;
        UPDATE sources SET config_url = feed;
        CREATE INDEX articles_fetched_at ON articles (fetched_at);
        """
    )


@MIGRATIONS(name="0003_feed_title")
def _feed_title(db: Database) -> None:
    db.execute("ALTER TABLE articles ADD COLUMN feed_title TEXT")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _translated(method: Callable[P, R]) -> Callable[P, R]:
    """Turn sqlite3 errors into :class:`StoreError` at the boundary."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"store: {method.__name__} failed: {exc}") from exc

    return wrapper


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

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction that takes the write lock at once (``BEGIN IMMEDIATE``), so it waits for
        another writer through ``busy_timeout`` instead of failing later on a stale snapshot."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")

    # -- sources -----------------------------------------------------------------------------------

    @_translated
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Keep poll state across restarts; a source whose configured address changed starts afresh."""
        with self._write():
            self.db.execute("UPDATE sources SET in_config = 0")
            for source in sources:
                self.db.execute(
                    """
                    INSERT INTO sources (id, name, kind, feed, config_url, tags, language, enabled, pinned,
                                         interval_s, in_config)
                    VALUES (:id, :name, :kind, :url, :url, :tags, :language, :enabled, :pinned, :interval, 1)
                    ON CONFLICT (id) DO UPDATE SET
                        name = excluded.name, kind = excluded.kind, tags = excluded.tags,
                        language = excluded.language, enabled = excluded.enabled, pinned = excluded.pinned,
                        in_config = 1,
                        interval_s = CASE WHEN excluded.pinned OR sources.pinned THEN excluded.interval_s
                                          ELSE sources.interval_s END,
                        -- a changed pinned interval takes effect now, not after the old one runs out
                        next_poll_at = CASE
                            WHEN sources.pinned != excluded.pinned THEN NULL
                            WHEN excluded.pinned AND sources.interval_s != excluded.interval_s THEN NULL
                            ELSE sources.next_poll_at END
                    """,
                    {
                        "id": source.id,
                        "name": source.name,
                        "kind": source.kind,
                        "url": source.url,
                        "tags": json.dumps(list(source.tags)),
                        "language": source.language,
                        "enabled": int(source.enabled),
                        "pinned": int(source.pinned),
                        "interval": source.interval_s,
                    },
                )
                # A new address in the config is a new feed: forget what was learnt about the old one.
                self.db.execute(
                    """
                    UPDATE sources SET feed = :url, config_url = :url, etag = NULL, last_modified = NULL,
                                       body_hash = NULL, dead = 0, not_found_count = 0, next_poll_at = NULL
                    WHERE id = :id AND config_url IS NOT :url
                    """,
                    {"id": source.id, "url": source.url},
                )

    @_translated
    def poll_states(self) -> dict[str, PollState]:
        rows = self.db.execute(
            """
            SELECT id, interval_s, error_count, not_found_count, new_per_poll, last_polled_at, next_poll_at,
                   etag, last_modified, body_hash, feed, dead
            FROM sources WHERE in_config = 1
            """
        ).fetchall()
        return {
            row[0]: PollState(
                interval_s=row[1],
                error_count=row[2],
                not_found_count=row[3],
                new_per_poll=row[4],
                last_polled_at=_time(row[5]),
                next_poll_at=_time(row[6]),
                etag=row[7],
                last_modified=row[8],
                body_hash=row[9],
                url=row[10],
                dead=bool(row[11]),
            )
            for row in rows
        }

    def poll_state(self, source: str) -> PollState:
        return self.poll_states().get(source) or PollState()

    @_translated
    def reschedule(self, next_polls: Mapping[str, datetime]) -> None:
        with self._write():
            for source, when in next_polls.items():
                self.db.execute("UPDATE sources SET next_poll_at = ? WHERE id = ?", [iso(when), source])

    @_translated
    def due_sources(self, now: datetime) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM sources WHERE in_config = 1 AND enabled = 1 "
            "AND (next_poll_at IS NULL OR next_poll_at <= ?) ORDER BY next_poll_at IS NOT NULL, next_poll_at",
            [iso(now)],
        )
        return [row[0] for row in rows]

    # -- dedup lookups -----------------------------------------------------------------------------

    @staticmethod
    def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
        for start in range(0, len(values), size):
            yield values[start : start + size]

    @_translated
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

    def _place(self, article: Article) -> tuple[int, bool]:
        """The id this article is stored under, and whether it is new.

        Found under its own feed link: the same article. Found under the page's own ``rel=canonical`` with
        the same text: the same article (another link to it). Found only under the URL a redirect landed
        on: the same article only if the text *and* the feed's headline match, because consent walls and
        paywalls send many articles to one URL with one text, and merging there would keep only the first.
        Anything else is a new article, stored under its URL or, if that is taken, its feed link.
        """
        if article.link and (found := self._article_id_for([article.link])) is not None:
            return found, False
        found = self._article_id_for([article.url]) if article.url_from_page else None
        if found is not None and self._matches(found, article, headline=False):
            return found, False
        if article.landed and article.landed != article.link:
            found = self._article_id_for([article.landed])
            if found is not None and self._matches(found, article, headline=True):
                return found, False
        new_id = self._insert_article(article, url=article.url)
        if new_id is None and article.link:  # the URL belongs to a different article
            new_id = self._insert_article(article, url=article.link)
        if new_id is None:
            raise StoreError(f"store: cannot place article {article.link or article.url}: every URL is taken")
        return new_id, True

    def _matches(self, article_id: int, article: Article, *, headline: bool) -> bool:
        row = self.db.execute(
            "SELECT content_hash, feed_title FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        if row is None or row[0] != article.content_hash:
            return False
        if headline and row[1] and article.feed_title:
            return bool(fold_text(row[1]) == fold_text(article.feed_title))
        return True

    def _insert_article(self, article: Article, *, url: str) -> int | None:
        row = self.db.execute(
            """
            INSERT INTO articles (url, source, guid, title, authors, published_at, fetched_at, text, summary,
                                  language, image, extraction, content_hash, feed_title)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (url) DO NOTHING
            RETURNING id
            """,
            [
                url,
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
                article.feed_title,
            ],
        ).fetchone()
        return int(row[0]) if row is not None else None

    def commit_poll(self, outcome: PollOutcome) -> list[int]:
        at = iso(outcome.polled_at)
        inserted: list[int] = []
        try:
            with self._write():
                for article in outcome.articles:
                    article_id, is_new = self._place(article)
                    if is_new:
                        inserted.append(article_id)
                    urls = list(dict.fromkeys((article.url, article.link, *article.urls)))
                    self._remember(article_id, article.source, article.guid, [u for u in urls if u], at or "")
                for alias in outcome.aliases:
                    if (alias_id := self._article_id_for([alias.url])) is not None:
                        self._remember(alias_id, alias.source, alias.guid, [alias.url], at or "")
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
                self._update_source(outcome, at)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot record poll of {outcome.source}: {exc}") from exc
        return inserted

    def _update_source(self, outcome: PollOutcome, at: str | None) -> None:
        ok = outcome.error is None
        plan = outcome.schedule
        self.db.execute(
            """
            UPDATE sources SET
                last_polled_at = :at,
                last_success_at = CASE WHEN :ok THEN :at ELSE last_success_at END,
                last_status = :status,
                last_error = :error,
                error_count = coalesce(:error_count, CASE WHEN :ok THEN 0 ELSE error_count + 1 END),
                not_found_count = coalesce(:not_found_count, not_found_count),
                dead = coalesce(:dead, dead),
                next_poll_at = coalesce(:next_poll_at, next_poll_at),
                interval_s = coalesce(:interval_s, interval_s),
                new_per_poll = coalesce(:new_per_poll, new_per_poll),
                poll_count = poll_count + 1,
                not_modified_count = not_modified_count + :not_modified,
                etag = CASE WHEN :keep THEN etag ELSE :etag END,
                last_modified = CASE WHEN :keep THEN last_modified ELSE :last_modified END,
                body_hash = CASE WHEN :keep THEN body_hash ELSE :body_hash END,
                feed = coalesce(:moved_to, feed)
            WHERE id = :source
            """,
            {
                "at": at,
                "ok": ok,
                "status": outcome.status,
                "error": outcome.error,
                "error_count": plan.error_count if plan else None,
                "not_found_count": plan.not_found_count if plan else None,
                "dead": int(plan.dead) if plan else None,
                "next_poll_at": iso(plan.next_poll_at) if plan else None,
                "interval_s": plan.interval_s if plan else None,
                "new_per_poll": plan.new_per_poll if plan else None,
                "not_modified": int(outcome.not_modified),
                "keep": outcome.validators is None,
                "etag": outcome.validators.etag if outcome.validators else None,
                "last_modified": outcome.validators.last_modified if outcome.validators else None,
                "body_hash": outcome.validators.body_hash if outcome.validators else None,
                "moved_to": outcome.moved_to,
                "source": outcome.source,
            },
        )

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
            if any(word in message for word in ("locked", "busy", "disk", "I/O", "readonly", "corrupt")):
                raise StoreError(f"store: search failed: {message}") from exc
            raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({message})") from None
        except sqlite3.Error as exc:
            raise StoreError(f"store: search failed: {exc}") from exc
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

    @_translated
    def get_article(self, id_or_url: str) -> dict[str, Any]:
        cursor = None
        if id_or_url.isdigit():
            if int(id_or_url) > 2**63 - 1:
                raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
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

    @_translated
    def source_statuses(self, now: datetime | None = None) -> list[SourceStatus]:
        since = iso((now or datetime.now(UTC)) - timedelta(hours=24))
        rows = self.db.execute(
            """
            SELECT s.id, s.name, s.kind, s.feed, s.enabled,
                   (SELECT count(*) FROM articles AS a WHERE a.source = s.id),
                   (SELECT count(*) FROM articles AS a WHERE a.source = s.id AND a.fetched_at >= :since),
                   s.last_polled_at, s.next_poll_at, s.last_success_at, s.interval_s, s.last_status,
                   s.last_error, s.error_count, s.poll_count, s.not_modified_count, s.dead, s.config_url
            FROM sources AS s ORDER BY s.rowid
            """,
            {"since": since},
        ).fetchall()
        statuses = []
        for r in rows:
            enabled, dead, last_polled, error = bool(r[4]), bool(r[16]), r[7], r[12]
            state = (
                "disabled"
                if not enabled
                else "dead"
                if dead
                else "erroring"
                if error
                else "ok"
                if last_polled
                else "never polled"
            )
            statuses.append(
                SourceStatus(
                    id=r[0],
                    name=r[1],
                    kind=r[2],
                    url=r[3],
                    enabled=enabled,
                    state=state,
                    articles=r[5],
                    articles_24h=r[6],
                    last_polled_at=last_polled,
                    next_poll_at=r[8],
                    last_success_at=r[9],
                    interval_s=r[10],
                    last_status=r[11],
                    last_error=error,
                    error_count=r[13],
                    polls=r[14],
                    not_modified_share=round(r[15] / r[14], 3) if r[14] else None,
                    moved_from=r[17] if r[17] != r[3] else None,
                )
            )
        return statuses
