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

from monitor.articles import diff_stats
from monitor.dedup import StoryCandidate, band_keys, best_match, canonical_url, fold_text, is_older
from monitor.errors import NotFoundError, QueryError, StoreError
from monitor.extract import EXTRACTOR_VERSION
from monitor.models import (
    Alert,
    Article,
    Attribution,
    CommitResult,
    KnownEntry,
    PollOutcome,
    PollState,
    Recheck,
    SearchHit,
    SearchQuery,
    Source,
    SourceStatus,
    Watch,
)
from monitor.schedule import next_recheck
from monitor.store.schema import MIGRATIONS

P = ParamSpec("P")
R = TypeVar("R")
BUSY_TIMEOUT_MS = 10_000
MAX_CANDIDATES = 50


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``: the one time format stored in the archive."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _attribution_json(attribution: Attribution | None) -> str | None:
    if attribution is None:
        return None
    return json.dumps(
        {"name": attribution.name, "url": attribution.url, "line": attribution.line}, ensure_ascii=False
    )


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
    def sync_watches(self, watches: Sequence[Watch]) -> None:
        """Make the ``watches`` table hold the configured watches (their matches are kept)."""
        with self._write():
            self.db.execute("UPDATE watches SET in_config = 0")
            for watch in watches:
                self.db.execute(
                    "INSERT INTO watches (id, query, sources, tags, languages, channels, in_config) "
                    "VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (id) DO UPDATE SET query = excluded.query, "
                    "sources = excluded.sources, tags = excluded.tags, languages = excluded.languages, "
                    "channels = excluded.channels, in_config = 1",
                    [
                        watch.id,
                        watch.query,
                        json.dumps(list(watch.sources)),
                        json.dumps(list(watch.tags)),
                        json.dumps(list(watch.languages)),
                        json.dumps(list(watch.channels)),
                    ],
                )

    def check_query(self, query: str) -> None:
        """Raise :class:`QueryError` unless FTS5 accepts ``query``."""
        try:
            self.db.execute(
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", [query]
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(f"{query!r} is not a valid FTS5 query ({exc})") from None

    def _match_watches(self, article_ids: Sequence[int], at: str) -> None:
        """Record which watches these (new or revised) articles match, inside the poll's transaction, so a
        match is never lost between storing an article and alerting on it. A copy of a story the watch
        already matched is recorded without being notified again."""
        if not article_ids:
            return
        watches = self.db.execute(
            "SELECT id, query, sources, tags, languages, channels FROM watches WHERE in_config = 1"
        ).fetchall()
        if not watches:
            return
        marks = ",".join("?" * len(article_ids))
        info = {
            row[0]: row[1:]
            for row in self.db.execute(
                f"SELECT a.id, a.source, a.language, a.story_id, s.tags FROM articles AS a "
                f"LEFT JOIN sources AS s ON s.id = a.source WHERE a.id IN ({marks})",
                list(article_ids),
            )
        }
        for watch_id, query, sources, tags, languages, channels in watches:
            try:
                hits = [
                    row[0]
                    for row in self.db.execute(
                        f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({marks})",
                        [query, *article_ids],
                    )
                ]
            except sqlite3.OperationalError as exc:
                raise QueryError(f"watch {watch_id}: {query!r} is not a valid FTS5 query ({exc})") from None
            wanted_sources, wanted_tags, wanted_languages = (
                json.loads(sources),
                json.loads(tags),
                json.loads(languages),
            )
            for article_id in hits:
                source, language, story_id, source_tags = info[article_id]
                if wanted_sources and source not in wanted_sources:
                    continue
                if wanted_languages and language not in wanted_languages:
                    continue
                if wanted_tags and not set(wanted_tags) & set(json.loads(source_tags or "[]")):
                    continue
                seen_story = self.db.execute(
                    "SELECT 1 FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
                    "WHERE m.watch = ? AND a.story_id = ? AND m.notify = 1 LIMIT 1",
                    [watch_id, story_id],
                ).fetchone()
                row = self.db.execute(
                    "INSERT INTO matches (watch, article_id, matched_at, notify) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (watch, article_id) DO NOTHING RETURNING id",
                    [watch_id, article_id, at, 0 if seen_story else 1],
                ).fetchone()
                if row is not None and not seen_story:
                    self.db.conn.executemany(
                        "INSERT INTO deliveries (match_id, channel) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [(row[0], channel) for channel in json.loads(channels)],
                    )

    @_translated
    def pending_alerts(self, now: datetime, *, limit: int = 500) -> list[Alert]:
        rows = self.db.execute(
            """
            SELECT d.id, m.id, d.channel, m.watch, a.id, a.url, a.source, a.title, a.published_at,
                   m.matched_at, w.query, d.attempts
            FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
            JOIN articles AS a ON a.id = m.article_id JOIN watches AS w ON w.id = m.watch
            WHERE d.delivered_at IS NULL AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
            ORDER BY d.id LIMIT ?
            """,
            [iso(now), limit],
        ).fetchall()
        alerts = []
        for r in rows:
            snippet = self.db.execute(
                "SELECT snippet(articles_fts, -1, '', '', '…', 30) FROM articles_fts "
                "WHERE articles_fts MATCH ? AND rowid = ?",
                [r[10], r[4]],
            ).fetchone()
            alerts.append(
                Alert(
                    delivery_id=r[0],
                    match_id=r[1],
                    channel=r[2],
                    watch=r[3],
                    article_id=r[4],
                    url=r[5],
                    source=r[6],
                    title=r[7],
                    published_at=r[8],
                    matched_at=r[9],
                    snippet=" ".join(snippet[0].split()) if snippet else "",
                    attempts=r[11],
                )
            )
        return alerts

    @_translated
    def delivered(self, delivery_ids: Sequence[int], at: datetime) -> None:
        with self._write():
            for delivery_id in delivery_ids:
                self.db.execute(
                    "UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1, last_error = NULL "
                    "WHERE id = ?",
                    [iso(at), delivery_id],
                )
                self._settle_match(delivery_id, at)

    @_translated
    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime, at: datetime) -> None:
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                [error, iso(retry_at), delivery_id],
            )
            self._settle_match(delivery_id, at)

    def _settle_match(self, delivery_id: int, at: datetime) -> None:
        """A match is delivered when every channel of it is; its attempts and last error sum them up."""
        self.db.execute(
            """
            UPDATE matches SET
                attempts = (SELECT sum(attempts) FROM deliveries WHERE match_id = matches.id),
                last_error = (SELECT last_error FROM deliveries WHERE match_id = matches.id
                              AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1),
                delivered_at = CASE WHEN (SELECT count(*) FROM deliveries WHERE match_id = matches.id
                                          AND delivered_at IS NULL) = 0 THEN ? END
            WHERE id = (SELECT match_id FROM deliveries WHERE id = ?)
            """,
            [iso(at), delivery_id],
        )

    @_translated
    def watch_statuses(self, now: datetime) -> list[dict[str, Any]]:
        rows = self.db.execute(
            """
            SELECT w.id, w.query,
                (SELECT count(*) FROM matches WHERE watch = w.id AND matched_at >= ?),
                (SELECT count(*) FROM matches WHERE watch = w.id AND matched_at >= ?),
                (SELECT count(*) FROM matches WHERE watch = w.id),
                (SELECT count(*) FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
                 WHERE m.watch = w.id AND d.delivered_at IS NULL AND d.attempts > 0),
                (SELECT count(*) FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
                 WHERE m.watch = w.id AND d.delivered_at IS NULL)
            FROM watches AS w WHERE w.in_config = 1 ORDER BY w.rowid
            """,
            [iso(now - timedelta(days=1)), iso(now - timedelta(days=7))],
        ).fetchall()
        return [
            {
                "id": r[0],
                "query": r[1],
                "matches_24h": r[2],
                "matches_7d": r[3],
                "matches": r[4],
                "failing": r[5],
                "pending": r[6],
            }
            for r in rows
        ]

    @_translated
    def alerts(self, *, watch: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT m.id, m.watch, m.article_id, a.title, a.url, a.source, m.matched_at, m.notify, "
            "m.delivered_at, m.attempts, m.last_error "
            "FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
            "WHERE ? IS NULL OR m.watch = ? ORDER BY m.id DESC LIMIT ?",
            [watch, watch, limit],
        )
        names = [
            "id",
            "watch",
            "article_id",
            "title",
            "url",
            "source",
            "matched_at",
            "notify",
            "delivered_at",
            "attempts",
            "last_error",
        ]
        return [dict(zip(names, row, strict=True)) for row in rows]

    _STATE_COLUMNS = (
        "id, interval_s, error_count, not_found_count, new_per_poll, last_polled_at, next_poll_at, etag, "
        "last_modified, body_hash, feed, dead"
    )

    @staticmethod
    def _state(row: Sequence[Any]) -> PollState:
        return PollState(
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

    @_translated
    def poll_states(self) -> dict[str, PollState]:
        rows = self.db.execute(f"SELECT {self._STATE_COLUMNS} FROM sources WHERE in_config = 1").fetchall()
        return {row[0]: self._state(row) for row in rows}

    @_translated
    def poll_state(self, source: str) -> PollState:
        row = self.db.execute(f"SELECT {self._STATE_COLUMNS} FROM sources WHERE id = ?", [source]).fetchone()
        return self._state(row) if row is not None else PollState()

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
    ) -> tuple[dict[str, KnownEntry], dict[str, KnownEntry]]:
        known_guids: dict[str, KnownEntry] = {}
        known_urls: dict[str, KnownEntry] = {}
        for chunk in self._chunks(sorted(set(guids))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT g.guid, a.id, a.entry_hash FROM entry_guids AS g "
                f"JOIN articles AS a ON a.id = g.article_id WHERE g.source = ? AND g.guid IN ({marks})",
                [source, *chunk],
            )
            known_guids.update((row[0], KnownEntry(row[1], row[2])) for row in rows)
        for chunk in self._chunks(sorted(set(urls))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT u.url, a.id, a.entry_hash FROM article_urls AS u "
                f"JOIN articles AS a ON a.id = u.article_id WHERE u.url IN ({marks})",
                list(chunk),
            )
            known_urls.update((row[0], KnownEntry(row[1], row[2])) for row in rows)
        return known_guids, known_urls

    @_translated
    def due_rechecks(
        self, source: str, now: datetime, *, limit: int
    ) -> list[tuple[int, str, int, datetime | None]]:
        """(article id, URL, checks done, first seen) of this source's articles due a re-fetch for edits."""
        rows = self.db.execute(
            "SELECT a.id, a.url, a.checks, "
            "(SELECT min(first_seen_at) FROM article_urls WHERE article_id = a.id) FROM articles AS a "
            "WHERE a.source = ? AND a.next_check_at IS NOT NULL AND a.next_check_at <= ? "
            "ORDER BY a.next_check_at LIMIT ?",
            [source, iso(now), limit],
        )
        return [(row[0], row[1], row[2], _time(row[3])) for row in rows]

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

    def _place(self, article: Article, recheck_s: float = 0.0) -> tuple[int, bool]:
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
        check_at = next_recheck(article.fetched_at, checks_done=0, recheck_s=recheck_s)
        new_id = self._insert_article(article, url=article.url, next_check_at=check_at)
        if new_id is None and article.link:  # the URL belongs to a different article
            new_id = self._insert_article(article, url=article.link, next_check_at=check_at)
        if new_id is None:
            raise StoreError(f"store: cannot place article {article.link or article.url}: every URL is taken")
        self._file_bands(new_id, article.bands)
        self._link_story(new_id, article)
        self._save_raw(new_id, article)
        return new_id, True

    def _save_raw(self, article_id: int, article: Article) -> None:
        raw = article.raw
        if raw is None:
            return
        self.db.execute(
            "INSERT INTO raw_pages (article_id, url, fetched_at, content_type, charset, compression, body) "
            "VALUES (?, ?, ?, ?, ?, 'gzip', ?) ON CONFLICT (article_id) DO UPDATE SET url = excluded.url, "
            "fetched_at = excluded.fetched_at, content_type = excluded.content_type, "
            "charset = excluded.charset, body = excluded.body",
            [article_id, raw.url, iso(article.fetched_at), raw.content_type, raw.charset, raw.gzipped],
        )

    # -- stories -----------------------------------------------------------------------------------

    def _file_bands(self, article_id: int, keys: Iterable[int]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO article_bands (key, article_id) VALUES (?, ?)",
            [(k, article_id) for k in keys],
        )

    def _unfile_bands(self, article_id: int, keys: Iterable[int]) -> None:
        self.db.conn.executemany(
            "DELETE FROM article_bands WHERE key = ? AND article_id = ?", [(k, article_id) for k in keys]
        )

    def candidate_ids(self, keys: Sequence[int], *, exclude: int, limit: int = MAX_CANDIDATES) -> list[int]:
        """Articles sharing a near-duplicate band key: one index lookup per key at any archive size."""
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.db.execute(
            f"SELECT DISTINCT article_id FROM article_bands WHERE key IN ({marks}) AND article_id != ? "
            "LIMIT ?",
            [*keys, exclude, limit],
        )
        return [row[0] for row in rows]

    def _link_story(self, article_id: int, article: Article) -> None:
        """Join the story of the best-matching archived article, if any reaches the threshold; re-point the
        story when this article turns out to be older than its original."""
        exact = [
            row[0]
            for row in self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? AND id != ? AND text != '' LIMIT ?",
                [article.content_hash, article_id, MAX_CANDIDATES],
            )
        ]
        ids = list(dict.fromkeys(exact + self.candidate_ids(article.bands, exclude=article_id)))
        if not ids or not article.text:
            return
        marks = ",".join("?" * len(ids))
        candidates = [
            StoryCandidate(id=r[0], story_id=r[1] or r[0], text=r[2], published_at=_time(r[3]))
            for r in self.db.execute(
                f"SELECT id, story_id, text, published_at FROM articles WHERE id IN ({marks})", ids
            )
        ]
        match = best_match(article.text, candidates)
        if match is None:
            return
        candidate, score = match
        original = self.db.execute(
            "SELECT id, published_at FROM articles WHERE id = ?", [candidate.story_id]
        ).fetchone()
        if original is None:
            return
        if is_older(article.published_at, article_id, _time(original[1]), original[0]):
            # this copy is the oldest: it becomes the original, the rest of the story points at it
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = ?, "
                "duplicate_score = coalesce(duplicate_score, ?) WHERE story_id = ?",
                [article_id, article_id, score, original[0]],
            )
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = NULL, duplicate_score = NULL WHERE id = ?",
                [article_id, article_id],
            )
        else:
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = ?, duplicate_score = ? WHERE id = ?",
                [original[0], original[0], score, article_id],
            )

    def _matches(self, article_id: int, article: Article, *, headline: bool) -> bool:
        row = self.db.execute(
            "SELECT content_hash, feed_title FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        if row is None or row[0] != article.content_hash:
            return False
        if headline and row[1] and article.feed_title:
            return bool(fold_text(row[1]) == fold_text(article.feed_title))
        return True

    def _insert_article(
        self, article: Article, *, url: str, next_check_at: datetime | None = None
    ) -> int | None:
        row = self.db.execute(
            """
            INSERT INTO articles (url, source, guid, title, authors, published_at, fetched_at, text, summary,
                                  language, image, extraction, content_hash, feed_title, attribution,
                                  modified_at, entry_hash, checks, next_check_at, section, keywords,
                                  outlet_name, extractor)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
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
                _attribution_json(article.attribution),
                iso(article.modified_at),
                article.entry_hash,
                iso(next_check_at),
                article.section,
                json.dumps(list(article.keywords), ensure_ascii=False),
                article.outlet_name,
                EXTRACTOR_VERSION if article.extraction == "page" else None,
            ],
        ).fetchone()
        if row is None:
            return None
        self.db.execute("UPDATE articles SET story_id = id WHERE id = ?", [row[0]])
        return int(row[0])

    def commit_poll(self, outcome: PollOutcome) -> CommitResult:
        at = iso(outcome.polled_at)
        inserted: list[int] = []
        revised: list[int] = []
        try:
            with self._write():
                for article in outcome.articles:
                    article_id, is_new = self._place(article, outcome.recheck_s)
                    if is_new:
                        inserted.append(article_id)
                    urls = list(dict.fromkeys((article.url, article.link, *article.urls)))
                    self._remember(article_id, article.source, article.guid, [u for u in urls if u], at or "")
                for recheck in outcome.rechecks:
                    if self._apply_recheck(recheck, at or ""):
                        revised.append(recheck.article_id)
                self._match_watches([*inserted, *revised], at or "")
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
        return CommitResult(inserted=inserted, revised=revised)

    def _apply_recheck(self, recheck: Recheck, at: str) -> bool:
        """Store a new version of an article if its text or title changed (the old one goes to
        ``revisions``); move its re-check schedule on either way. True when a revision was recorded."""
        row = self.db.execute(
            "SELECT title, text, fetched_at, content_hash, extraction FROM articles WHERE id = ?",
            [recheck.article_id],
        ).fetchone()
        new = recheck.article
        revised = False
        if row is not None and new is not None and new.text:
            title, text, fetched_at, old_hash, extraction = row
            comparable = new.extraction == extraction or extraction == "feed"
            changed = new.content_hash != old_hash or fold_text(new.title or "") != fold_text(title or "")
            if comparable and changed:
                self.db.execute(
                    "INSERT INTO revisions (article_id, fetched_at, title, text, diff_stats, replaced_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [recheck.article_id, fetched_at, title, text, json.dumps(diff_stats(text, new.text)), at],
                )
                self.db.execute(
                    """
                    UPDATE articles SET title = ?, text = ?, authors = ?, summary = ?, language = ?,
                        image = ?, content_hash = ?, fetched_at = ?, modified_at = ?, attribution = ?,
                        extraction = ?
                    WHERE id = ?
                    """,
                    [
                        new.title,
                        new.text,
                        json.dumps(list(new.authors), ensure_ascii=False),
                        new.summary,
                        new.language,
                        new.image,
                        new.content_hash,
                        iso(new.fetched_at),
                        iso(new.modified_at),
                        _attribution_json(new.attribution),
                        new.extraction,
                        recheck.article_id,
                    ],
                )
                self._unfile_bands(recheck.article_id, band_keys(text))
                self._file_bands(recheck.article_id, new.bands)
                self._save_raw(recheck.article_id, new)
                revised = True
        if recheck.reschedule:
            self.db.execute(
                "UPDATE articles SET checks = ?, next_check_at = ? WHERE id = ?",
                [recheck.checks, iso(recheck.next_check_at), recheck.article_id],
            )
        if new is not None and new.entry_hash and new.guid is not None:
            self.db.execute(
                "UPDATE articles SET entry_hash = ? WHERE id = ?", [new.entry_hash, recheck.article_id]
            )
        return revised

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
        where, params = self._filters(query)
        # bm25 with the title weighted ten times the body: a word in the headline says more
        order = (
            "bm25(articles_fts, 10.0, 1.0)"
            if query.sort == "rank"
            else "coalesce(a.published_at, a.fetched_at) DESC"
        )
        # collapsing keeps one row per story (its best-placed match): read more rows to fill the limit
        limit = query.limit * 20 if query.collapse else query.limit
        sql = f"""
            SELECT a.id, a.url, a.source, a.title, a.authors, a.published_at, a.language,
                   snippet(articles_fts, -1, ?, ?, '…', 30), coalesce(a.story_id, a.id)
            FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid
            WHERE {" AND ".join(where)}
            ORDER BY {order}, a.id DESC
            LIMIT ?
        """
        params = [*query.highlight, *params, limit]  # the snippet's markers come first in the statement
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if any(word in message for word in ("locked", "busy", "disk", "I/O", "readonly", "corrupt")):
                raise StoreError(f"store: search failed: {message}") from exc
            raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({message})") from None
        except sqlite3.Error as exc:
            raise StoreError(f"store: search failed: {exc}") from exc
        if query.collapse:
            return self._collapse(rows, query.limit)
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

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        """The WHERE terms of a query's filters (the FTS match only when it has a query), over ``a``."""
        where: list[str] = []
        params: list[Any] = []
        if query.query:
            where.append("articles_fts MATCH ?")
            params.append(query.query)
        if query.sources:
            where.append(f"a.source IN ({','.join('?' * len(query.sources))})")
            params.extend(query.sources)
        if query.since is not None:
            where.append("coalesce(a.published_at, a.fetched_at) >= ?")
            params.append(iso(query.since))
        if query.until is not None:
            where.append("coalesce(a.published_at, a.fetched_at) < ?")
            params.append(iso(query.until))
        if query.languages:
            where.append(f"a.language IN ({','.join('?' * len(query.languages))})")
            params.extend(query.languages)
        if query.tags:
            where.append(
                "EXISTS (SELECT 1 FROM sources AS s, json_each(s.tags) AS t WHERE s.id = a.source "
                f"AND t.value IN ({','.join('?' * len(query.tags))}))"
            )
            params.extend(query.tags)
        return where, params

    @_translated
    def count(self, query: SearchQuery) -> int:
        """How many articles match (no limit)."""
        where, params = self._filters(query)
        sql = (
            "SELECT count(*) FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid "
            f"WHERE {' AND '.join(where)}"
        )
        try:
            return int(self.db.execute(sql, params).fetchone()[0])
        except sqlite3.OperationalError as exc:
            raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({exc})") from None

    def _collapse(self, rows: list[Any], limit: int) -> list[SearchHit]:
        """One hit per story, in the order the stories first matched: the story's original stands for it
        (with the matching copy's snippet), with the number of its copies."""
        firsts: dict[int, Any] = {}
        for row in rows:
            firsts.setdefault(row[8], row)
            if len(firsts) == limit:
                break
        if not firsts:
            return []
        marks = ",".join("?" * len(firsts))
        originals = {
            r[0]: r
            for r in self.db.execute(
                "SELECT id, url, source, title, authors, published_at, language FROM articles "
                f"WHERE id IN ({marks})",
                list(firsts),
            )
        }
        counts = dict(
            self.db.execute(
                f"SELECT story_id, count(*) - 1 FROM articles WHERE story_id IN ({marks}) GROUP BY story_id",
                list(firsts),
            ).fetchall()
        )
        hits = []
        for story_id, row in firsts.items():
            o = originals.get(story_id) or row
            hits.append(
                SearchHit(
                    id=o[0],
                    url=o[1],
                    source=o[2],
                    title=o[3],
                    authors=tuple(json.loads(o[4])),
                    published_at=o[5],
                    language=o[6],
                    snippet=" ".join(row[7].split()),
                    copies=counts.get(story_id, 0),
                )
            )
        return hits

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

    # -- re-extraction -------------------------------------------------------------------------------

    @_translated
    def reextract_ids(
        self, *, sources: Sequence[str] = (), since: datetime | None = None, version: str | None = None
    ) -> list[int]:
        """Ids of articles with a kept raw page (of these sources, fetched since), oldest first; with
        ``version``, only those a different extractor version made (what makes a re-run resumable)."""
        where = ["1 = 1"]
        params: list[Any] = []
        if sources:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if since is not None:
            where.append("a.fetched_at >= ?")
            params.append(iso(since))
        if version is not None:
            where.append("a.extractor IS NOT ?")
            params.append(version)
        rows = self.db.execute(
            f"SELECT a.id FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
            f"WHERE {' AND '.join(where)} ORDER BY a.id",
            params,
        )
        return [row[0] for row in rows]

    @_translated
    def raw_pages(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Kept pages with the article's current fields: what re-extraction compares against."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        cursor = self.db.execute(
            f"SELECT a.*, r.url AS raw_url, r.content_type AS raw_content_type, r.charset AS raw_charset, "
            f"r.body AS raw_body FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
            f"WHERE a.id IN ({marks}) ORDER BY a.id",
            list(ids),
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @_translated
    def apply_reextraction(self, changes: Mapping[int, Mapping[str, Any]], *, version: str) -> int:
        """Update re-extracted articles in one transaction (FTS follows through its triggers, band keys are
        refiled when the text changed); every listed article is marked with ``version``. Returns how many
        changed."""
        changed = 0
        with self._write():
            for article_id, columns in changes.items():
                if columns:
                    if "text" in columns:
                        old = self.db.execute(
                            "SELECT text FROM articles WHERE id = ?", [article_id]
                        ).fetchone()
                        if old is not None:
                            self._unfile_bands(article_id, band_keys(old[0]))
                        self._file_bands(article_id, band_keys(str(columns["text"])))
                    assignments = ", ".join(f"{column} = ?" for column in columns)
                    self.db.execute(
                        f"UPDATE articles SET {assignments} WHERE id = ?", [*columns.values(), article_id]
                    )
                    changed += 1
                self.db.execute("UPDATE articles SET extractor = ? WHERE id = ?", [version, article_id])
        return changed

    EXPORT_COLUMNS = (
        "id",
        "url",
        "source",
        "title",
        "authors",
        "published_at",
        "fetched_at",
        "modified_at",
        "language",
        "section",
        "keywords",
        "outlet_name",
        "image",
        "summary",
        "text",
        "extraction",
        "content_hash",
        "story_id",
        "duplicate_of",
        "duplicate_score",
        "attribution",
    )

    def count_articles(self, query: SearchQuery) -> int:
        sql, params = self._export_sql(query, "count(*)")
        try:
            return int(self.db.execute(sql, params).fetchone()[0])
        except sqlite3.OperationalError as exc:
            raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({exc})") from None

    def iter_articles(self, query: SearchQuery) -> Iterator[dict[str, Any]]:
        """Every article matching the filters (and the FTS query, if any), oldest first, one at a time:
        constant memory whatever the archive's size."""
        sql, params = self._export_sql(query, ", ".join(f"a.{c}" for c in self.EXPORT_COLUMNS))
        cursor = self.db.conn.cursor()
        try:
            cursor.execute(sql + " ORDER BY a.id", params)
            while rows := cursor.fetchmany(500):
                for row in rows:
                    record = dict(zip(self.EXPORT_COLUMNS, row, strict=True))
                    record["authors"] = json.loads(record["authors"])
                    record["keywords"] = json.loads(record["keywords"] or "[]")
                    record["attribution"] = (
                        json.loads(record["attribution"]) if record["attribution"] else None
                    )
                    yield record
        except sqlite3.OperationalError as exc:
            raise QueryError(f"search: {query.query!r} is not a valid FTS5 query ({exc})") from None
        finally:
            cursor.close()

    @classmethod
    def _export_sql(cls, query: SearchQuery, columns: str) -> tuple[str, list[Any]]:
        where, params = cls._filters(query)
        if query.query:
            source = "articles_fts JOIN articles AS a ON a.id = articles_fts.rowid"
        else:
            source = "articles AS a"
        return f"SELECT {columns} FROM {source} WHERE {' AND '.join(where) or '1 = 1'}", params

    @_translated
    def facets(self, by: str, *, query: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Article counts per ``source``, ``day`` (of publication) or ``lang``: all, or a query's matches."""
        key = {
            "source": "a.source",
            "day": "substr(coalesce(a.published_at, a.fetched_at), 1, 10)",
            "lang": "coalesce(a.language, '(none)')",
        }[by]
        order = "key DESC" if by == "day" else "count DESC, key"
        if query:
            sql = (
                f"SELECT {key} AS key, count(*) AS count FROM articles_fts "
                f"JOIN articles AS a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ? "
                f"GROUP BY key ORDER BY {order} LIMIT ?"
            )
            params: list[Any] = [query, limit]
        else:
            sql = (
                f"SELECT {key} AS key, count(*) AS count FROM articles AS a "
                f"GROUP BY key ORDER BY {order} LIMIT ?"
            )
            params = [limit]
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(f"search: {query!r} is not a valid FTS5 query ({exc})") from None
        return [{"key": row[0], "count": row[1]} for row in rows]

    @_translated
    def latest(
        self, *, after_id: int | None, limit: int, sources: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """The newest articles (``after_id``: only those archived after it), oldest first."""
        where, params = self._filters(SearchQuery(query="", sources=tuple(sources)))
        if after_id is not None:
            where.append("a.id > ?")
            params.append(after_id)
        rows = self.db.execute(
            "SELECT * FROM (SELECT a.id, a.fetched_at, a.published_at, a.source, a.language, a.title, a.url "
            f"FROM articles AS a WHERE {' AND '.join(where) or '1 = 1'} "
            "ORDER BY a.id DESC LIMIT ?) ORDER BY id",
            [*params, limit],
        )
        names = ["id", "fetched_at", "published_at", "source", "language", "title", "url"]
        return [dict(zip(names, row, strict=True)) for row in rows]

    @_translated
    def beat(self, *, pid: int, started_at: datetime, now: datetime, version: str) -> None:
        """The daemon's sign of life, read by `monitor check`."""
        with self._write():
            self.db.execute(
                "INSERT INTO heartbeat (id, pid, started_at, beat_at, version) VALUES (1, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
                "beat_at = excluded.beat_at, version = excluded.version",
                [pid, iso(started_at), iso(now), version],
            )

    @_translated
    def heartbeat(self) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT pid, started_at, beat_at, version FROM heartbeat WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return {"pid": row[0], "started_at": row[1], "beat_at": row[2], "version": row[3]}

    @_translated
    def sizes(self) -> dict[str, int]:
        """Articles, stories, revisions, raw pages, and bytes on disk in all and in raw pages."""
        counts = self.db.execute(
            "SELECT (SELECT count(*) FROM articles), "
            "(SELECT count(*) FROM articles WHERE duplicate_of IS NULL), (SELECT count(*) FROM revisions), "
            "(SELECT count(*) FROM raw_pages), (SELECT count(*) FROM sources)"
        ).fetchone()
        pages = dict(self.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        raw = sum(size for name, size in pages.items() if "raw_pages" in name)
        return {
            "articles": counts[0],
            "stories": counts[1],
            "revisions": counts[2],
            "raw_pages": counts[3],
            "sources": counts[4],
            "bytes": sum(pages.values()),
            "raw_bytes": raw,
        }

    @_translated
    def story(self, article_id: int) -> list[dict[str, Any]]:
        """Every article of this article's story, the original first."""
        rows = self.db.execute(
            """
            SELECT m.id, m.source, m.url, m.title, m.published_at, m.duplicate_of, m.duplicate_score,
                   m.attribution
            FROM articles AS a JOIN articles AS m ON m.story_id = a.story_id
            WHERE a.id = ?
            ORDER BY m.duplicate_of IS NOT NULL, coalesce(m.published_at, m.fetched_at), m.id
            """,
            [article_id],
        )
        return [
            {
                "id": r[0],
                "source": r[1],
                "url": r[2],
                "title": r[3],
                "published_at": r[4],
                "duplicate_of": r[5],
                "duplicate_score": r[6],
                "attribution": json.loads(r[7]) if r[7] else None,
            }
            for r in rows
        ]

    @_translated
    def revisions(self, article_id: int) -> list[dict[str, Any]]:
        """Earlier versions of an article, oldest first (the article row holds the newest)."""
        rows = self.db.execute(
            "SELECT id, fetched_at, title, text, diff_stats, replaced_at FROM revisions "
            "WHERE article_id = ? ORDER BY id",
            [article_id],
        )
        return [
            {
                "id": r[0],
                "fetched_at": r[1],
                "title": r[2],
                "text": r[3],
                "diff_stats": json.loads(r[4]) if r[4] else None,
                "replaced_at": r[5],
            }
            for r in rows
        ]

    @_translated
    def duplicates(self, *, since: datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Stories with copies in more than one outlet, newest first."""
        rows = self.db.execute(
            """
            SELECT o.id, o.source, o.url, o.title, o.published_at, s.copies, s.outlets, s.sources, s.latest
            FROM (
                SELECT story_id, count(*) - 1 AS copies, count(DISTINCT source) AS outlets,
                       group_concat(DISTINCT source) AS sources,
                       max(coalesce(published_at, fetched_at)) AS latest
                FROM articles WHERE story_id IS NOT NULL
                GROUP BY story_id HAVING count(DISTINCT source) > 1
            ) AS s JOIN articles AS o ON o.id = s.story_id
            WHERE s.latest >= coalesce(?, '')
            ORDER BY s.latest DESC LIMIT ?
            """,
            [iso(since), limit],
        )
        return [
            {
                "id": r[0],
                "source": r[1],
                "url": r[2],
                "title": r[3],
                "published_at": r[4],
                "copies": r[5],
                "outlets": r[6],
                "sources": sorted(r[7].split(",")),
                "latest": r[8],
            }
            for r in rows
        ]

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
