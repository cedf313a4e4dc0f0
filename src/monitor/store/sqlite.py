"""SQLite archive through sqlite-utils: schema, migrations, atomic commits, search.

WAL mode so that readers (``monitor search``, Datasette) never block the daemon and the daemon never blocks
them; ``busy_timeout`` for the moments two writers meet. A poll writes its new articles in batches
(``commit_batch``) and its source's state last (``commit_poll``), each one transaction: after a crash
(``kill -9`` included) the archive holds each commit whole or not at all, and a poll keeps the batches it
wrote. Duplicates are refused by unique indexes and ``ON CONFLICT`` clauses, never by check-then-insert.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from monitor.articles import diff_stats
from monitor.dedup import StoryCandidate, band_keys
from monitor.errors import StoreError
from monitor.extract import EXTRACTOR_VERSION
from monitor.models import (
    Article,
    ArticleBatch,
    ArticleFields,
    Channel,
    CommitResult,
    DueRecheck,
    FetchRecord,
    KnownEntry,
    PollOutcome,
    PollState,
    Recheck,
    Reextraction,
    Source,
    SourceKnowledge,
    StoredPage,
    field_names,
)
from monitor.schedule import next_recheck
from monitor.store import fts
from monitor.store.common import _attribution_json, _credit, _strings, _time, _translated, iso
from monitor.store.queries import ArchiveQueries
from monitor.store.schema import MIGRATIONS
from monitor.store.watching import WatchStore
from monitor.stories import JoinStory, LeadStory, StoredVersion, is_revision, is_same_article, story_for

BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 10_000
MAX_CANDIDATES = 50

log = logging.getLogger("monitor.store")


def _log_index_progress(done: int, total: int) -> None:
    """The search index rebuild's progress, on stderr through the log (a line per ~5%)."""
    step = max(total // 20, 1)
    if done == total or done % step < fts.BATCH:
        log.info("store: building the search index: %d/%d articles", done, total)


class SQLiteArchive(ArchiveQueries, WatchStore):
    """The archive in one SQLite file. One instance per thread; not shared across processes."""

    def __init__(
        self, path: Path | str, *, readonly: bool = False, index_progress: fts.Progress | None = None
    ) -> None:
        """``index_progress`` hears how a rebuild of the search index goes (a new archive schema or
        normaliser); by default it is logged."""
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
                # Fold the WAL back every ~40 MB rather than every 4 MB: a page dirtied by many polls is
                # written back once, and commits pay fewer checkpoints (-20% per article at 10k and 1M, D36).
                self.db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
                self.db.execute("PRAGMA foreign_keys = ON")
                fts.register(self.db.conn)
                MIGRATIONS.apply(self.db)
                fts.rebuild_if_stale(self.db.conn, self._write, index_progress or _log_index_progress)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot open archive {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"store: cannot create archive folder for {self.path}: {exc}") from exc
        if readonly and MIGRATIONS.pending(self.db):
            raise StoreError(
                f"store: archive {self.path} has an older schema; run `monitor run --once` to upgrade it"
            )
        if readonly and not fts.is_current(self.db.conn):
            log.warning(
                "store: the search index of %s is being rebuilt (by `monitor run`); until it is done, "
                "searches find only the articles indexed so far",
                self.path,
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

    _STATE_COLUMNS = (
        "id, interval_s, error_count, not_found_count, new_per_poll, last_polled_at, next_poll_at, etag, "
        "last_modified, body_hash, feed, dead, site_name, template_language, page_samples"
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
            knowledge=_knowledge(row[12], row[13], row[14]),
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
    def due_rechecks(self, source: str, now: datetime, *, limit: int) -> list[DueRecheck]:
        rows = self.db.execute(
            "SELECT a.id, a.url, a.checks, "
            "(SELECT min(first_seen_at) FROM article_urls WHERE article_id = a.id) FROM articles AS a "
            "WHERE a.source = ? AND a.next_check_at IS NOT NULL AND a.next_check_at <= ? "
            "ORDER BY a.next_check_at LIMIT ?",
            [source, iso(now), limit],
        )
        return [DueRecheck(row[0], row[1], row[2], _time(row[3])) for row in rows]

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
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET url = excluded.url, "
            "fetched_at = excluded.fetched_at, content_type = excluded.content_type, "
            "charset = excluded.charset, compression = excluded.compression, body = excluded.body",
            [
                article_id,
                raw.url,
                iso(article.fetched_at),
                raw.content_type,
                raw.charset,
                raw.compression,
                raw.body,
            ],
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

    def _candidate_ids(self, keys: Sequence[int], *, exclude: int, limit: int = MAX_CANDIDATES) -> list[int]:
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
        story when this article turns out to be older than its original (:func:`monitor.stories.story_for`
        decides)."""
        exact = [
            row[0]
            for row in self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? AND id != ? AND text != '' LIMIT ?",
                [article.content_hash, article_id, MAX_CANDIDATES],
            )
        ]
        ids = list(dict.fromkeys(exact + self._candidate_ids(article.bands, exclude=article_id)))
        if not ids or not article.text:
            return
        marks = ",".join("?" * len(ids))
        candidates = [
            StoryCandidate(id=r[0], story_id=r[1] or r[0], text=r[2], published_at=_time(r[3]))
            for r in self.db.execute(
                f"SELECT id, story_id, text, published_at FROM articles WHERE id IN ({marks})", ids
            )
        ]
        story_ids = sorted({c.story_id for c in candidates})
        originals = {
            r[0]: _time(r[1])
            for r in self.db.execute(
                f"SELECT id, published_at FROM articles WHERE id IN ({','.join('?' * len(story_ids))})",
                story_ids,
            )
        }
        intent = story_for(article_id, article.published_at, article.text, candidates, originals)
        if isinstance(intent, LeadStory):
            # this copy is the oldest: it becomes the original, the rest of the story points at it
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = ?, "
                "duplicate_score = coalesce(duplicate_score, ?) WHERE story_id = ?",
                [article_id, article_id, intent.score, intent.story_id],
            )
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = NULL, duplicate_score = NULL WHERE id = ?",
                [article_id, article_id],
            )
        elif isinstance(intent, JoinStory):
            self.db.execute(
                "UPDATE articles SET story_id = ?, duplicate_of = ?, duplicate_score = ? WHERE id = ?",
                [intent.original, intent.original, intent.score, article_id],
            )

    def _matches(self, article_id: int, article: Article, *, headline: bool) -> bool:
        row = self.db.execute(
            "SELECT content_hash, feed_title FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        return row is not None and is_same_article(row[0], row[1], article, headline=headline)

    def _insert_article(
        self, article: Article, *, url: str, next_check_at: datetime | None = None
    ) -> int | None:
        row = self.db.execute(
            """
            INSERT INTO articles (url, source, guid, title, authors, published_at, fetched_at, text, summary,
                                  language, image, extraction, content_hash, feed_title, attribution,
                                  modified_at, entry_hash, checks, next_check_at, section, keywords,
                                  outlet_name, extractor, published_local, entry_published_at,
                                  entry_language, channel_title, channel_language, id, story_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                    (SELECT coalesce(max(id), 0) + 1 FROM articles),
                    (SELECT coalesce(max(id), 0) + 1 FROM articles))
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
                article.published_local,
                iso(article.entry_published_at),
                article.entry_language,
                article.channel_title,
                article.channel_language,
            ],
        ).fetchone()
        # A new article is its own story. story_id is set in the INSERT (the id is the one SQLite would
        # choose; this transaction is the only writer). The caller adds the row to the full-text index
        # with the rest of the batch (``_index_new``).
        if row is None:
            return None
        return int(row[0])

    def commit_batch(self, batch: ArticleBatch) -> CommitResult:
        """Write new articles of a running poll in one transaction: their URLs and GUIDs, story links, search
        index rows, watch matches and the fetch log so far. The source's state is left to ``commit_poll``."""
        at = iso(batch.polled_at) or ""
        try:
            with self._write():
                inserted = self._write_articles(batch.articles, batch.recheck_s, at)
                self._match_watches(inserted, at)
                self._write_fetches(batch.fetches)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot record new articles of {batch.source}: {exc}") from exc
        return CommitResult(inserted=inserted, revised=[])

    def commit_poll(self, outcome: PollOutcome) -> CommitResult:
        at = iso(outcome.polled_at)
        revised: list[int] = []
        try:
            with self._write():
                inserted = self._write_articles(outcome.articles, outcome.recheck_s, at or "")
                for recheck in outcome.rechecks:
                    if self._apply_recheck(recheck, at or ""):
                        revised.append(recheck.article_id)
                fts.reindex(self.db.conn, revised)
                self._match_watches([*inserted, *revised], at or "")
                for alias in outcome.aliases:
                    if (alias_id := self._article_id_for([alias.url])) is not None:
                        self._remember(alias_id, alias.source, alias.guid, [alias.url], at or "")
                self._write_fetches(outcome.fetches)
                self._update_source(outcome, at)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot record poll of {outcome.source}: {exc}") from exc
        return CommitResult(inserted=inserted, revised=revised)

    def _write_articles(self, articles: Sequence[Article], recheck_s: float, at: str) -> list[int]:
        """Place each article (new, or another URL of one archived, in this batch or before), remember the
        URLs and GUID it is known by, and index the new ones; their ids."""
        inserted: list[int] = []
        for article in articles:
            article_id, is_new = self._place(article, recheck_s)
            if is_new:
                inserted.append(article_id)
            urls = list(dict.fromkeys((article.url, article.link, *article.urls)))
            self._remember(article_id, article.source, article.guid, [u for u in urls if u], at)
        self._index_new(inserted)
        return inserted

    def _write_fetches(self, fetches: Iterable[FetchRecord]) -> None:
        self.db.conn.executemany(
            "INSERT INTO fetches (source, url, kind, status, bytes, duration_ms, error, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (f.source, f.url, f.kind, f.status, f.bytes, f.duration_ms, f.error, iso(f.at))
                for f in fetches
            ],
        )

    def _index_new(self, article_ids: Sequence[int]) -> None:
        """Add a commit's new articles to the (normalised) full-text index in one statement: one FTS5
        segment per batch rather than one per article (migrations 0008 and 0009, D36). Runs before re-checks
        and watch matching, which need the rows indexed."""
        fts.index(self.db.conn, article_ids)

    def _apply_recheck(self, recheck: Recheck, at: str) -> bool:
        """Store a new version of an article if its text or title changed (the old one goes to
        ``revisions``); move its re-check schedule on either way. True when a revision was recorded."""
        row = self.db.execute(
            "SELECT title, text, fetched_at, content_hash, extraction FROM articles WHERE id = ?",
            [recheck.article_id],
        ).fetchone()
        new = recheck.article
        revised = False
        stored = None if row is None else StoredVersion(row[0], row[1], row[3], row[4])
        if new is not None and row is not None and is_revision(stored, new):
            # the replaced version goes to revisions; the article row takes the new one (D21)
            title, text, fetched_at = row[0], row[1], row[2]
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
        knowledge = outcome.knowledge
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
                feed = coalesce(:moved_to, feed),
                site_name = CASE WHEN :learned THEN :site_name ELSE site_name END,
                template_language = CASE WHEN :learned THEN :template_language ELSE template_language END,
                page_samples = CASE WHEN :learned THEN :page_samples ELSE page_samples END
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
                "learned": knowledge is not None,
                "site_name": knowledge.site_name if knowledge else None,
                "template_language": knowledge.template_language if knowledge else None,
                "page_samples": json.dumps(
                    {"titles": list(knowledge.titles), "languages": [list(x) for x in knowledge.languages]},
                    ensure_ascii=False,
                )
                if knowledge
                else None,
            },
        )

    # -- reading -----------------------------------------------------------------------------------

    @_translated
    def channel(self, source: str) -> Channel:
        """The title and language the source's feed channel last declared (``extract --explain``)."""
        row = self.db.execute(
            "SELECT channel_title, channel_language FROM articles WHERE source = ? "
            "AND (channel_title IS NOT NULL OR channel_language IS NOT NULL) ORDER BY id DESC LIMIT 1",
            [source],
        ).fetchone()
        return Channel(row[0], row[1]) if row is not None else Channel(None, None)

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
    def raw_pages(self, ids: Sequence[int]) -> list[StoredPage]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT a.id, a.source, r.url, r.content_type, r.charset, r.compression, r.body, "
            f"{', '.join(f'a.{column}' for column in _FIELD_COLUMNS)}, a.feed_title, a.entry_published_at, "
            f"a.entry_language, a.channel_title, a.channel_language "
            f"FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
            f"WHERE a.id IN ({marks}) ORDER BY a.id",
            list(ids),
        ).fetchall()
        pages = []
        for row in rows:
            fields = dict(zip(_FIELD_COLUMNS, row[7 : 7 + len(_FIELD_COLUMNS)], strict=True))
            current = ArticleFields(
                **fields
                | {
                    "authors": _strings(fields["authors"]),
                    "keywords": _strings(fields["keywords"]),
                    "attribution": _credit(fields["attribution"]),
                }
            )
            feed = row[7 + len(_FIELD_COLUMNS) :]
            pages.append(
                StoredPage(
                    article_id=row[0],
                    source=row[1],
                    url=row[2],
                    content_type=row[3],
                    charset=row[4],
                    compression=row[5],
                    body=row[6],
                    current=current,
                    feed_title=feed[0],
                    entry_published_at=feed[1],
                    entry_language=feed[2],
                    channel_title=feed[3],
                    channel_language=feed[4],
                )
            )
        return pages

    @_translated
    def apply_reextraction(self, changes: Sequence[Reextraction], *, version: str) -> int:
        changed = 0
        searchable: list[int] = []
        with self._write():
            for change in changes:
                article_id = change.article_id
                columns = _field_values(change)
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
                    if {"title", "text", "language"} & set(columns):
                        searchable.append(article_id)
                    changed += 1
                self.db.execute("UPDATE articles SET extractor = ? WHERE id = ?", [version, article_id])
            fts.reindex(self.db.conn, searchable)
        return changed

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


_FIELD_COLUMNS = tuple(field_names(ArticleFields))
"""The columns of the re-extractable fields (named as the fields are)."""


def _field_values(change: Reextraction) -> dict[str, Any]:
    """A re-extraction's changed fields as column values (lists and the credit as JSON)."""
    values: dict[str, Any] = {}
    for name in sorted(change.changed, key=_FIELD_COLUMNS.index):
        value = getattr(change.fields, name)
        if name in ("authors", "keywords"):
            value = json.dumps(list(value), ensure_ascii=False)
        elif name == "attribution":
            value = _attribution_json(value)
        values[name] = value
    return values


def _knowledge(site_name: str | None, template_language: str | None, samples: str | None) -> SourceKnowledge:
    """A source's learned knowledge from its ``sources`` columns (samples kept as JSON)."""
    titles: tuple[str, ...] = ()
    languages: tuple[tuple[str | None, str | None, float], ...] = ()
    if samples:
        try:
            data = json.loads(samples)
            titles = tuple(str(t) for t in data.get("titles", []))
            languages = tuple((d, g, float(c)) for d, g, c in data.get("languages", []))
        except (ValueError, TypeError, AttributeError):
            pass  # samples are a cache: unreadable ones are learned again
    return SourceKnowledge(site_name, template_language, titles, languages)
