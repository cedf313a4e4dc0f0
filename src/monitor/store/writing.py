"""Writing a poll (mixed into :class:`~monitor.store.sqlite.SQLiteArchive`): what is known already, what is
due a re-check, and the poll's commits, each one transaction: new articles placed (D22) and linked into
their stories (:mod:`monitor.stories` decides, D20), revisions (D21), URL aliases, the fetch log, and the
source's state last.
"""

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database

from monitor.articles import diff_stats
from monitor.dedup import StoryCandidate, band_keys
from monitor.errors import StoreError
from monitor.extract import EXTRACTOR_VERSION
from monitor.models import (
    Article,
    ArticleBatch,
    CommitResult,
    DueRecheck,
    FetchRecord,
    KnownEntry,
    PollOutcome,
    Recheck,
)
from monitor.schedule import next_recheck
from monitor.store import fts
from monitor.store.common import _attribution_json, _time, _translated, iso
from monitor.stories import JoinStory, LeadStory, StoredVersion, is_revision, is_same_article, story_for

MAX_CANDIDATES = 50


class PollWriter:
    db: Database

    if TYPE_CHECKING:  # provided by SQLiteArchive and WatchStore

        def _write(self) -> contextlib.AbstractContextManager[None]: ...

        def _match_watches(self, article_ids: Sequence[int], at: str) -> None: ...

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
