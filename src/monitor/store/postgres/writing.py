"""Writing a poll on PostgreSQL (a mixin of :class:`~monitor.store.postgres.PostgresArchive`, issue 16), with
the behaviour of the SQLite writer (:mod:`monitor.store.writing`): each call one transaction; new articles
placed (D22) and linked into their stories (:mod:`monitor.stories` decides, D20), revisions (D21), URL
aliases, entry GUIDs, the fetch log, watch matches, the search document, and the source's state last.

Many workers write at once. One article per URL is ``article_urls``' primary key: a new article claims its
URL there first; a claim lost to another worker is a URL taken, as in SQLite (the article is looked up again,
the winner has committed). Before any lookup a transaction takes the advisory locks of every key its articles
could meet another writer's under (:mod:`.locking`), so copies of one story are serialised (the second joins
the first's story) without deadlocks between writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import Connection
from psycopg.types.json import Jsonb

from monitor.articles import diff_stats
from monitor.dedup import StoryCandidate, band_keys
from monitor.errors import QueryError, StoreError
from monitor.extract import EXTRACTOR_VERSION
from monitor.models import (
    Article,
    ArticleBatch,
    Attribution,
    CommitResult,
    DueRecheck,
    FetchRecord,
    PollOutcome,
    Recheck,
)
from monitor.schedule import next_recheck
from monitor.store.postgres import fts
from monitor.store.postgres.locking import lock_keys
from monitor.stories import JoinStory, LeadStory, StoredVersion, is_revision, is_same_article, story_for

MAX_CANDIDATES = 50
"""As the SQLite writer: at most this many near-duplicate candidates are compared."""
DEADLOCK_ATTEMPTS = 3
"""How many times a commit PostgreSQL ended as a deadlock is tried in all."""
T = TypeVar("T")


def _moment(value: datetime | None) -> datetime | None:
    """A moment as the archive keeps it: UTC, to the second (as ``PostgresArchive`` and SQLite store it)."""
    return value.astimezone(UTC).replace(microsecond=0) if value is not None else None


def _attribution(attribution: Attribution | None) -> Jsonb | None:
    if attribution is None:
        return None
    return Jsonb({"name": attribution.name, "url": attribution.url, "line": attribution.line})


class PostgresPollWriter:
    """``commit_batch``, ``commit_poll`` and ``due_rechecks`` of :class:`ArchiveWriter` on PostgreSQL."""

    if TYPE_CHECKING:  # provided by PostgresArchive
        display: str

        def _transaction(self) -> AbstractContextManager[Connection[Any]]: ...

    # -- the transaction ----------------------------------------------------------------------------

    def _run(self, what: str, work: Callable[[Connection[Any]], T]) -> T:
        """``work`` in one transaction, again from the start if PostgreSQL ended it as a deadlock; psycopg's
        errors as :class:`StoreError` naming ``what`` (as the SQLite writer's messages do)."""
        for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
            try:
                with self._transaction() as conn:
                    return work(conn)
            except psycopg.errors.DeadlockDetected as exc:
                if attempt == DEADLOCK_ATTEMPTS:
                    raise StoreError(f"store: cannot record {what} on {self.display}: {exc}") from exc
            except psycopg.Error as exc:
                raise StoreError(f"store: cannot record {what} on {self.display}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- reading ------------------------------------------------------------------------------------

    def due_rechecks(self, source: str, now: datetime, *, limit: int) -> list[DueRecheck]:
        def read(conn: Connection[Any]) -> list[DueRecheck]:
            rows = conn.execute(
                "SELECT a.id, a.url, a.checks, "
                "(SELECT min(first_seen_at) FROM article_urls WHERE article_id = a.id) FROM articles AS a "
                "WHERE a.source = %s AND a.next_check_at IS NOT NULL AND a.next_check_at <= %s "
                "ORDER BY a.next_check_at, a.id LIMIT %s",
                [source, _moment(now), limit],
            ).fetchall()
            return [DueRecheck(row[0], row[1], row[2], _moment(row[3])) for row in rows]

        return self._run(f"re-checks due of {source}", read)

    # -- the commits --------------------------------------------------------------------------------

    def commit_batch(self, batch: ArticleBatch) -> CommitResult:
        """Write new articles of a running poll in one transaction: their URLs and GUIDs, story links, search
        documents, watch matches and the fetch log so far. The source's state is left to ``commit_poll``."""
        at = _moment(batch.polled_at)
        assert at is not None

        def write(conn: Connection[Any]) -> CommitResult:
            lock_keys(conn, batch.articles)
            inserted = self._write_articles(conn, batch.articles, batch.recheck_s, at)
            self._match_new(conn, inserted, at)
            self._write_fetches(conn, batch.fetches)
            return CommitResult(inserted=inserted, revised=[])

        return self._run(f"new articles of {batch.source}", write)

    def commit_poll(self, outcome: PollOutcome) -> CommitResult:
        at = _moment(outcome.polled_at)
        assert at is not None

        def write(conn: Connection[Any]) -> CommitResult:
            lock_keys(conn, outcome.articles, outcome.aliases)
            inserted = self._write_articles(conn, outcome.articles, outcome.recheck_s, at)
            revised = [r.article_id for r in outcome.rechecks if self._apply_recheck(conn, r, at)]
            fts.index_many(
                conn,
                [
                    (r.article_id, r.article.title, r.article.text, r.article.language)
                    for r in outcome.rechecks
                    if r.article is not None and r.article_id in revised
                ],
            )
            self._match_new(conn, [*inserted, *revised], at)
            for alias in outcome.aliases:
                if (alias_id := self._article_id_for(conn, [alias.url])) is not None:
                    self._remember(conn, alias_id, alias.source, alias.guid, [alias.url], at)
            self._write_fetches(conn, outcome.fetches)
            self._update_source(conn, outcome, at)
            return CommitResult(inserted=inserted, revised=revised)

        return self._run(f"poll of {outcome.source}", write)

    def _write_articles(
        self, conn: Connection[Any], articles: Sequence[Article], recheck_s: float, at: datetime
    ) -> list[int]:
        """Place each article (new, or another URL of one archived, in this batch or before), remember the
        URLs and GUID it is known by, and index the new ones; their ids."""
        inserted: list[int] = []
        indexed: list[tuple[int, str | None, str | None, str | None]] = []
        for article in articles:
            article_id, is_new = self._place(conn, article, recheck_s, at)
            if is_new:
                inserted.append(article_id)
                indexed.append((article_id, article.title, article.text, article.language))
            urls = list(dict.fromkeys((article.url, article.link, *article.urls)))
            self._remember(conn, article_id, article.source, article.guid, [u for u in urls if u], at)
        fts.index_many(conn, indexed)
        return inserted

    def _write_fetches(self, conn: Connection[Any], fetches: Iterable[FetchRecord]) -> None:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO fetches (source, url, kind, status, bytes, duration_ms, error, at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (f.source, f.url, f.kind, f.status, f.bytes, f.duration_ms, f.error, _moment(f.at))
                    for f in fetches
                ],
            )

    # -- placing an article -------------------------------------------------------------------------

    @staticmethod
    def _article_id_for(conn: Connection[Any], urls: Sequence[str]) -> int | None:
        for url in urls:
            row = conn.execute("SELECT article_id FROM article_urls WHERE url = %s", [url]).fetchone()
            if row is not None:
                return int(row[0])
        return None

    @staticmethod
    def _remember(
        conn: Connection[Any],
        article_id: int,
        source: str,
        guid: str | None,
        urls: Iterable[str],
        at: datetime,
    ) -> None:
        conn.execute(
            "INSERT INTO article_urls (url, article_id, source, first_seen_at) SELECT url, %s, %s, %s "
            "FROM unnest(%s::text[]) AS url ON CONFLICT (url) DO NOTHING",
            [article_id, source, at, list(urls)],
        )
        if guid:
            conn.execute(
                "INSERT INTO entry_guids (source, guid, article_id) VALUES (%s, %s, %s) "
                "ON CONFLICT (source, guid) DO NOTHING",
                [source, guid, article_id],
            )

    def _found(self, conn: Connection[Any], article: Article) -> int | None:
        """The archived article this one is (SQLite's ``_place`` rules, D22), if any."""
        if article.link and (found := self._article_id_for(conn, [article.link])) is not None:
            return found
        found = self._article_id_for(conn, [article.url]) if article.url_from_page else None
        if found is not None and self._matches(conn, found, article, headline=False):
            return found
        if article.landed and article.landed != article.link:
            found = self._article_id_for(conn, [article.landed])
            if found is not None and self._matches(conn, found, article, headline=True):
                return found
        return None

    def _place(
        self, conn: Connection[Any], article: Article, recheck_s: float, at: datetime
    ) -> tuple[int, bool]:
        """The id this article is stored under, and whether it is new (SQLite's rules, D22): an archived one
        it is, else a new article under its URL or, if that is taken, its feed link."""
        if (found := self._found(conn, article)) is not None:
            return found, False
        check_at = next_recheck(article.fetched_at, checks_done=0, recheck_s=recheck_s)
        new_id = self._insert_article(conn, article, url=article.url, next_check_at=check_at, at=at)
        if new_id is None and (found := self._found(conn, article)) is not None:
            return found, False  # another writer archived it first
        if new_id is None and article.link:  # the URL belongs to a different article
            new_id = self._insert_article(conn, article, url=article.link, next_check_at=check_at, at=at)
        if new_id is None:
            raise StoreError(f"store: cannot place article {article.link or article.url}: every URL is taken")
        self._file_bands(conn, new_id, article.bands)
        self._link_story(conn, new_id, article)
        self._save_raw(conn, new_id, article)
        return new_id, True

    @staticmethod
    def _matches(conn: Connection[Any], article_id: int, article: Article, *, headline: bool) -> bool:
        row = conn.execute(
            "SELECT content_hash, feed_title FROM articles WHERE id = %s", [article_id]
        ).fetchone()
        return row is not None and is_same_article(row[0], row[1], article, headline=headline)

    @staticmethod
    def _insert_article(
        conn: Connection[Any], article: Article, *, url: str, next_check_at: datetime | None, at: datetime
    ) -> int | None:
        """Claim ``url`` for a new article and write its row (its own story); None when the URL is taken.
        The id is drawn only once the URL looks free, so that one writer numbers as SQLite does."""
        if conn.execute("SELECT 1 FROM article_urls WHERE url = %s", [url]).fetchone() is not None:
            return None
        row = conn.execute("SELECT nextval(pg_get_serial_sequence('articles', 'id'))").fetchone()
        assert row is not None
        new_id = int(row[0])
        claimed = conn.execute(
            "INSERT INTO article_urls (url, article_id, source, first_seen_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (url) DO NOTHING RETURNING url",
            [url, new_id, article.source, at],
        ).fetchone()
        if claimed is None:  # lost to a writer that committed it meanwhile
            return None
        conn.execute(
            """
            INSERT INTO articles (id, story_id, url, source, guid, title, authors, published_at, fetched_at,
                                  text, summary, language, image, extraction, content_hash, feed_title,
                                  attribution, modified_at, entry_hash, checks, next_check_at, section,
                                  keywords, outlet_name, extractor, published_local, entry_published_at,
                                  entry_language, channel_title, channel_language)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s, %s, %s,
                    %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                new_id,
                new_id,
                url,
                article.source,
                article.guid,
                article.title,
                Jsonb(list(article.authors)),
                _moment(article.published_at),
                _moment(article.fetched_at),
                article.text,
                article.summary,
                article.language,
                article.image,
                article.extraction,
                article.content_hash,
                article.feed_title,
                _attribution(article.attribution),
                _moment(article.modified_at),
                article.entry_hash,
                _moment(next_check_at),
                article.section,
                Jsonb(list(article.keywords)),
                article.outlet_name,
                EXTRACTOR_VERSION if article.extraction == "page" else None,
                article.published_local,
                _moment(article.entry_published_at),
                article.entry_language,
                article.channel_title,
                article.channel_language,
            ],
        )
        return new_id

    @staticmethod
    def _save_raw(conn: Connection[Any], article_id: int, article: Article) -> None:
        raw = article.raw
        if raw is None:
            return
        conn.execute(
            "INSERT INTO raw_pages (article_id, url, fetched_at, content_type, charset, compression, body) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (article_id) DO UPDATE SET url = excluded.url, "
            "fetched_at = excluded.fetched_at, content_type = excluded.content_type, "
            "charset = excluded.charset, compression = excluded.compression, body = excluded.body",
            [
                article_id,
                raw.url,
                _moment(article.fetched_at),
                raw.content_type,
                raw.charset,
                raw.compression,
                raw.body,
            ],
        )

    # -- stories ------------------------------------------------------------------------------------

    @staticmethod
    def _file_bands(conn: Connection[Any], article_id: int, keys: Iterable[int]) -> None:
        conn.execute(
            "INSERT INTO article_bands (key, article_id) SELECT unnest(%s::bigint[]), %s "
            "ON CONFLICT DO NOTHING",
            [list(keys), article_id],
        )

    @staticmethod
    def _unfile_bands(conn: Connection[Any], article_id: int, keys: Iterable[int]) -> None:
        conn.execute(
            "DELETE FROM article_bands WHERE key = ANY(%s::bigint[]) AND article_id = %s",
            [list(keys), article_id],
        )

    @staticmethod
    def _link_story(conn: Connection[Any], article_id: int, article: Article) -> None:
        """Join the story of the best-matching archived article, if any reaches the threshold; re-point the
        story when this article is older than its original (:func:`monitor.stories.story_for` decides). The
        caller holds this article's key locks: a concurrent copy is committed and found here, or waits."""
        exact = conn.execute(
            "SELECT id FROM articles WHERE content_hash = %s AND id != %s AND text != '' "
            "ORDER BY id LIMIT %s",
            [article.content_hash, article_id, MAX_CANDIDATES],
        ).fetchall()
        near = (
            conn.execute(
                "SELECT DISTINCT article_id FROM article_bands "
                "WHERE key = ANY(%s::bigint[]) AND article_id != %s LIMIT %s",
                [list(article.bands), article_id, MAX_CANDIDATES],
            ).fetchall()
            if article.bands
            else []
        )
        ids = list(dict.fromkeys([row[0] for row in exact] + [row[0] for row in near]))
        if not ids or not article.text:
            return
        candidates = [
            StoryCandidate(id=r[0], story_id=r[1] or r[0], text=r[2], published_at=_moment(r[3]))
            for r in conn.execute(
                "SELECT id, story_id, text, published_at FROM articles "
                "WHERE id = ANY(%s::bigint[]) ORDER BY id",
                [ids],
            )
        ]
        originals = {
            r[0]: _moment(r[1])
            for r in conn.execute(
                "SELECT id, published_at FROM articles WHERE id = ANY(%s::bigint[])",
                [sorted({c.story_id for c in candidates})],
            )
        }
        intent = story_for(article_id, _moment(article.published_at), article.text, candidates, originals)
        if isinstance(intent, LeadStory):
            # this copy is the oldest: it becomes the original, the rest of the story points at it
            conn.execute(
                "UPDATE articles SET story_id = %s, duplicate_of = %s, "
                "duplicate_score = coalesce(duplicate_score, %s) WHERE story_id = %s",
                [article_id, article_id, intent.score, intent.story_id],
            )
            conn.execute(
                "UPDATE articles SET story_id = %s, duplicate_of = NULL, duplicate_score = NULL "
                "WHERE id = %s",
                [article_id, article_id],
            )
        elif isinstance(intent, JoinStory):
            conn.execute(
                "UPDATE articles SET story_id = %s, duplicate_of = %s, duplicate_score = %s WHERE id = %s",
                [intent.original, intent.original, intent.score, article_id],
            )

    # -- re-checks ----------------------------------------------------------------------------------

    def _apply_recheck(self, conn: Connection[Any], recheck: Recheck, at: datetime) -> bool:
        """Store a new version of an article if its text or title changed (the old one goes to
        ``revisions``); move its re-check schedule on either way. True when a revision was recorded."""
        row = conn.execute(
            "SELECT title, text, fetched_at, content_hash, extraction FROM articles WHERE id = %s FOR UPDATE",
            [recheck.article_id],
        ).fetchone()
        new = recheck.article
        revised = False
        stored = None if row is None else StoredVersion(row[0], row[1], row[3], row[4])
        if new is not None and row is not None and is_revision(stored, new):
            title, text, fetched_at = row[0], row[1], row[2]
            conn.execute(
                "INSERT INTO revisions (article_id, fetched_at, title, text, diff_stats, replaced_at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [recheck.article_id, fetched_at, title, text, Jsonb(diff_stats(text, new.text)), at],
            )
            conn.execute(
                """
                UPDATE articles SET title = %s, text = %s, authors = %s, summary = %s, language = %s,
                    image = %s, content_hash = %s, fetched_at = %s, modified_at = %s, attribution = %s,
                    extraction = %s
                WHERE id = %s
                """,
                [
                    new.title,
                    new.text,
                    Jsonb(list(new.authors)),
                    new.summary,
                    new.language,
                    new.image,
                    new.content_hash,
                    _moment(new.fetched_at),
                    _moment(new.modified_at),
                    _attribution(new.attribution),
                    new.extraction,
                    recheck.article_id,
                ],
            )
            self._unfile_bands(conn, recheck.article_id, band_keys(text))
            self._file_bands(conn, recheck.article_id, new.bands)
            self._save_raw(conn, recheck.article_id, new)
            revised = True
        if recheck.reschedule:
            conn.execute(
                "UPDATE articles SET checks = %s, next_check_at = %s WHERE id = %s",
                [recheck.checks, _moment(recheck.next_check_at), recheck.article_id],
            )
        if new is not None and new.entry_hash and new.guid is not None:
            conn.execute(
                "UPDATE articles SET entry_hash = %s WHERE id = %s", [new.entry_hash, recheck.article_id]
            )
        return revised

    # -- watches ------------------------------------------------------------------------------------

    @staticmethod
    def _match_new(conn: Connection[Any], article_ids: Sequence[int], at: datetime) -> None:
        """Record which watches these (new or revised) articles match, inside the poll's transaction (as
        SQLite's ``_match_watches``: the search documents are written first); a copy of a story the watch
        already matched is recorded without being notified again."""
        if not article_ids:
            return
        watches = conn.execute(
            "SELECT id, query, sources, tags, languages, channels FROM watches WHERE in_config ORDER BY id"
        ).fetchall()
        if not watches:
            return
        info = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT a.id, a.source, a.language, a.story_id, s.tags FROM articles AS a "
                "LEFT JOIN sources AS s ON s.id = a.source WHERE a.id = ANY(%s::bigint[])",
                [list(article_ids)],
            )
        }
        for watch_id, query, wanted_sources, wanted_tags, wanted_languages, channels in watches:
            try:
                tsquery = fts.tsquery_string(query)
            except QueryError as exc:
                raise QueryError(f"watch {watch_id}: {exc}") from None
            hits = [
                row[0]
                for row in conn.execute(
                    f"SELECT article_id FROM articles_fts WHERE {fts.MATCH} "
                    "AND article_id = ANY(%s::bigint[]) ORDER BY article_id",
                    [tsquery, list(article_ids)],
                )
            ]
            for article_id in hits:
                source, language, story_id, source_tags = info[article_id]
                if wanted_sources and source not in wanted_sources:
                    continue
                if wanted_languages and language not in wanted_languages:
                    continue
                if wanted_tags and not set(wanted_tags) & set(source_tags or []):
                    continue
                seen_story = conn.execute(
                    "SELECT 1 FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
                    "WHERE m.watch = %s AND a.story_id = %s AND m.notify LIMIT 1",
                    [watch_id, story_id],
                ).fetchone()
                row = conn.execute(
                    "INSERT INTO matches (watch, article_id, matched_at, notify) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (watch, article_id) DO NOTHING RETURNING id",
                    [watch_id, article_id, at, seen_story is None],
                ).fetchone()
                if row is not None and seen_story is None:
                    conn.execute(
                        "INSERT INTO deliveries (match_id, channel) SELECT %s, unnest(%s::text[]) "
                        "ON CONFLICT DO NOTHING",
                        [row[0], list(channels)],
                    )

    # -- the source's state -------------------------------------------------------------------------

    @staticmethod
    def _update_source(conn: Connection[Any], outcome: PollOutcome, at: datetime) -> None:
        ok = outcome.error is None
        knowledge = outcome.knowledge
        plan = outcome.schedule
        validators = outcome.validators
        conn.execute(
            """
            UPDATE sources SET
                last_polled_at = %(at)s,
                last_success_at = CASE WHEN %(ok)s THEN %(at)s ELSE last_success_at END,
                last_status = %(status)s,
                last_error = %(error)s,
                error_count = coalesce(%(error_count)s::integer,
                                       CASE WHEN %(ok)s THEN 0 ELSE error_count + 1 END),
                not_found_count = coalesce(%(not_found_count)s::integer, not_found_count),
                dead = coalesce(%(dead)s::boolean, dead),
                next_poll_at = coalesce(%(next_poll_at)s::timestamptz, next_poll_at),
                interval_s = coalesce(%(interval_s)s::double precision, interval_s),
                new_per_poll = coalesce(%(new_per_poll)s::double precision, new_per_poll),
                poll_count = poll_count + 1,
                not_modified_count = not_modified_count + %(not_modified)s,
                etag = CASE WHEN %(keep)s THEN etag ELSE %(etag)s END,
                last_modified = CASE WHEN %(keep)s THEN last_modified ELSE %(last_modified)s END,
                body_hash = CASE WHEN %(keep)s THEN body_hash ELSE %(body_hash)s END,
                feed = coalesce(%(moved_to)s::text, feed),
                site_name = CASE WHEN %(learned)s THEN %(site_name)s ELSE site_name END,
                template_language = CASE WHEN %(learned)s THEN %(template_language)s
                                         ELSE template_language END,
                page_samples = CASE WHEN %(learned)s THEN %(page_samples)s::jsonb ELSE page_samples END
            WHERE id = %(source)s
            """,
            {
                "at": at,
                "ok": ok,
                "status": outcome.status,
                "error": outcome.error,
                "error_count": plan.error_count if plan else None,
                "not_found_count": plan.not_found_count if plan else None,
                "dead": plan.dead if plan else None,
                "next_poll_at": _moment(plan.next_poll_at) if plan else None,
                "interval_s": plan.interval_s if plan else None,
                "new_per_poll": plan.new_per_poll if plan else None,
                "not_modified": int(outcome.not_modified),
                "keep": validators is None,
                "etag": validators.etag if validators else None,
                "last_modified": validators.last_modified if validators else None,
                "body_hash": validators.body_hash if validators else None,
                "moved_to": outcome.moved_to,
                "source": outcome.source,
                "learned": knowledge is not None,
                "site_name": knowledge.site_name if knowledge else None,
                "template_language": knowledge.template_language if knowledge else None,
                "page_samples": Jsonb(
                    {"titles": list(knowledge.titles), "languages": [list(x) for x in knowledge.languages]}
                )
                if knowledge
                else None,
            },
        )
