"""Reading a PostgreSQL archive (issue 16): :class:`~monitor.store.base.ArchiveReader`'s methods with the
records of :class:`~monitor.store.queries.ArchiveQueries` and its siblings, mixed into
:class:`~monitor.store.postgres.archive.PostgresArchive`; which matches a search shows, and in what order,
is :mod:`.searching`'s.

The SQL is SQLite's, PostgreSQL's types read back as SQLite's records carry them: moments (``timestamptz``)
as :func:`monitor.timefmt.utc_iso` text, ``jsonb`` lists as tuples, the credit as an
:class:`~monitor.models.Attribution`. Search matches with :data:`.fts.MATCH` and ranks with :data:`.fts.RANK`
(higher is better, ties newest first); its snippets are cut from the original text by :mod:`monitor.snippets`,
as SQLite's are. Text keys sort with ``COLLATE "C"`` (bytewise, as SQLite sorts), never the server's locale.
Where SQLite orders by ``rowid`` (sources, watches: the order first configured), PostgreSQL has none and
orders by id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from monitor import textnorm
from monitor.dedup import canonical_url
from monitor.errors import NotFoundError, StoreError
from monitor.models import (
    AlertRecord,
    ArchiveSizes,
    ArticleFields,
    Attribution,
    Channel,
    CopiedStory,
    ExportedArticle,
    Facet,
    LatestArticle,
    Revision,
    SearchHit,
    SearchQuery,
    SourceStatus,
    StoredArticle,
    StoredPage,
    StoryMember,
    WatchStatus,
    field_names,
)
from monitor.query import parse
from monitor.snippets import Terms, best_snippet, terms_of
from monitor.store.common import RAW_PAGE_COLUMNS, _collapsed, _source_status, _stored_page
from monitor.store.postgres import fts, searching
from monitor.store.postgres.common import moment as _moment
from monitor.store.postgres.common import translated as _translated
from monitor.timefmt import utc_iso

_STORED_COLUMNS = tuple(name for name in field_names(StoredArticle) if name != "urls")
_EXPORT_COLUMNS = tuple(field_names(ExportedArticle))
_FIELD_COLUMNS = tuple(field_names(ArticleFields))
_NEWEST = "coalesce(a.published_at, a.fetched_at)"
_EXPORT_BATCH = 500


def _text(value: Any) -> Any:
    """A column as SQLite's records carry it: a moment as UTC ISO text, anything else as it is."""
    return utc_iso(value) if isinstance(value, datetime) else value


def _by_the_index(conn: psycopg.Connection[Any], query: str | None) -> None:
    """A text match reads the search index, never every document: PostgreSQL's planner costs a sequential
    scan of ``articles_fts`` by its small heap and not by the documents it would detoast and test one by
    one, so for a word in a thousand of 100,000 articles it chose the scan (300 ms) over the GIN index. And
    each statement is planned for its own words: psycopg prepares a statement its connection runs a fifth
    time, after which PostgreSQL may keep one generic plan for any word, which read every document for a
    rare one (2 -> 90 ms a search at 30,000 articles under a long-lived reader such as ``monitor serve``;
    D71). For this transaction only; the server's settings are not touched."""
    if query:
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


def _credit(value: Any) -> Attribution | None:
    if not value:
        return None
    return Attribution(name=value.get("name"), line=value.get("line"), url=value.get("url"))


def _decoded(values: dict[str, Any]) -> dict[str, Any]:
    """A row of article columns by name, moments as text, lists as tuples, the credit decoded."""
    decoded = {name: _text(value) for name, value in values.items()}
    for name in ("authors", "keywords"):
        if name in decoded:
            decoded[name] = tuple(decoded[name] or ())
    if "attribution" in decoded:
        decoded["attribution"] = _credit(decoded["attribution"])
    return decoded


def _hit(row: Sequence[Any], *, snippet: str, copies: int | None = None) -> SearchHit:
    """A search hit from the columns id, url, source, title, authors, published_at, language."""
    return SearchHit(
        id=row[0],
        url=row[1],
        source=row[2],
        title=row[3],
        authors=tuple(row[4] or ()),
        published_at=_text(row[5]),
        language=row[6],
        snippet=" ".join(snippet.split()),
        copies=copies,
    )


def _snippet(row: Sequence[Any], terms: Terms, marks: tuple[str, str]) -> str:
    """From the columns of :meth:`PostgresQueries._hit_rows`: title 3, language 6, text 7. The text's normal
    form (what SQLite's index holds, made here in C-speed loops) lets :func:`best_snippet` tokenise only the
    window it shows, as it does on SQLite."""
    text = row[7] or ""
    return best_snippet(row[3], text, row[6], terms, marks, indexed=textnorm.index_text(text, row[6]))


class PostgresQueries:
    """The reading side of :class:`~monitor.store.postgres.archive.PostgresArchive` (a mixin)."""

    display: str

    if TYPE_CHECKING:  # provided by PostgresArchive

        @contextmanager
        def _transaction(self) -> Iterator[psycopg.Connection[Any]]: ...

    # -- search --------------------------------------------------------------------------------------

    @_translated
    def search(self, query: SearchQuery) -> list[SearchHit]:
        where, params = self._filters(query)  # raises QueryError (naming the position) for a bad query
        terms = terms_of(parse(query.query))
        # collapsing keeps one row per story (its best-placed match): up to 20 times the limit is read, as
        # SQLite reads, but newest first in pages, stopping as soon as the limit is filled
        most = query.limit * 20 if query.collapse else query.limit
        loose = fts.loose_tsquery(query.query) if query.query else None
        with self._transaction() as conn:
            _by_the_index(conn, query.query)
            if query.sort == "rank":
                tsquery = fts.tsquery_string(query.query)
                page = searching.ranked(conn, where, params, tsquery, most, loose)
            else:
                page = self._newest_page(
                    conn, (where, params, loose), most, query.limit if query.collapse else 0
                )
            found = [(article_id, story_id) for article_id, story_id, _ in page]
            if query.collapse:
                return self._collapse(conn, found, query.limit, terms, query.highlight)
            rows = self._hit_rows(conn, [article_id for article_id, _ in found])
        return [
            _hit(rows[article_id], snippet=_snippet(rows[article_id], terms, query.highlight))
            for article_id, _ in found
        ]

    @staticmethod
    def _newest_page(
        conn: psycopg.Connection[Any],
        matching: tuple[list[str], list[Any], str | None],
        most: int,
        stories: int,
    ) -> list[searching.Row]:
        """Up to ``most`` matches newest first; with ``stories``, read in pages (the first of that size, each
        next four times larger) until they hold that many stories."""
        where, params, loose = matching
        if not stories:
            return searching.newest(conn, where, params, most, loose=loose)
        page: list[searching.Row] = []
        size = stories
        while len(page) < most:
            more = searching.newest(
                conn,
                where,
                params,
                min(size, most - len(page)),
                (page[-1][2], page[-1][0]) if page else None,
                loose,
            )
            page += more
            if len(more) < size or len({story for _, story, _ in page}) >= stories:
                break
            size *= 4
        return page

    @staticmethod
    def _hit_rows(conn: psycopg.Connection[Any], ids: Sequence[int]) -> dict[int, Sequence[Any]]:
        """The columns of :func:`_hit`, then the text, by id."""
        if not ids:
            return {}
        rows = conn.execute(
            "SELECT a.id, a.url, a.source, a.title, a.authors, a.published_at, a.language, a.text "
            "FROM articles AS a WHERE a.id = ANY(%s)",
            [list(ids)],
        )
        return {row[0]: row for row in rows}

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        """The WHERE terms of a query's filters (the match only when it has a query), over ``a``."""
        where: list[str] = []
        params: list[Any] = []
        if query.query:
            where.append(fts.MATCH)
            params.append(fts.tsquery_string(query.query))
        if query.sources:
            where.append("a.source = ANY(%s)")
            params.append(list(query.sources))
        if query.since is not None:
            where.append(f"{_NEWEST} >= %s")
            params.append(_moment(query.since))
        if query.until is not None:
            where.append(f"{_NEWEST} < %s")
            params.append(_moment(query.until))
        if query.languages:
            where.append("a.language = ANY(%s)")
            params.append(list(query.languages))
        if query.tags:
            where.append("EXISTS (SELECT 1 FROM sources AS s WHERE s.id = a.source AND s.tags ?| %s)")
            params.append(list(query.tags))
        return where, params

    def _collapse(
        self,
        conn: psycopg.Connection[Any],
        page: list[tuple[int, int]],
        limit: int,
        terms: Terms,
        highlight: tuple[str, str],
    ) -> list[SearchHit]:
        def copies_of(stories: list[int]) -> dict[int, int]:
            rows = conn.execute(
                "SELECT story_id, count(*) - 1 FROM articles WHERE story_id = ANY(%s) GROUP BY story_id",
                [stories],
            )
            return {int(r[0]): int(r[1]) for r in rows}

        return _collapsed(
            page,
            limit,
            lambda ids: self._hit_rows(conn, ids),
            copies_of,
            lambda original, matching, copies: _hit(
                original, snippet=_snippet(matching, terms, highlight), copies=copies
            ),
        )

    def check_query(self, query: str) -> None:
        fts.tsquery_string(query)

    @classmethod
    def _export_sql(cls, query: SearchQuery, columns: str) -> tuple[str, list[Any]]:
        where, params = cls._filters(query)
        if query.query:
            source = "articles_fts JOIN articles AS a ON a.id = articles_fts.article_id"
        else:
            source = "articles AS a"
        return f"SELECT {columns} FROM {source} WHERE {' AND '.join(where) or 'true'}", params

    @_translated
    def count(self, query: SearchQuery) -> int:
        sql, params = self._export_sql(query, "count(*)")
        with self._transaction() as conn:
            _by_the_index(conn, query.query)
            row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def iter_articles(self, query: SearchQuery) -> Iterator[ExportedArticle]:
        """Oldest first, through a server-side cursor: constant memory whatever the archive's size."""
        sql, params = self._export_sql(query, ", ".join(f"a.{c}" for c in _EXPORT_COLUMNS))
        try:
            with self._transaction() as conn, conn.cursor(name="monitor_export") as cursor:
                _by_the_index(conn, query.query)
                cursor.execute(sql + " ORDER BY a.id", params)
                while rows := cursor.fetchmany(_EXPORT_BATCH):
                    for row in rows:
                        yield ExportedArticle(**_decoded(dict(zip(_EXPORT_COLUMNS, row, strict=True))))
        except psycopg.Error as exc:
            raise StoreError(f"store: iter_articles failed on {self.display}: {exc}") from exc

    # -- articles ------------------------------------------------------------------------------------

    @_translated
    def get_article(self, id_or_url: str) -> StoredArticle:
        columns = ", ".join(f"a.{c}" for c in _STORED_COLUMNS)
        with self._transaction() as conn:
            if id_or_url.isdigit():
                if int(id_or_url) > 2**63 - 1:
                    raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
                row = conn.execute(
                    f"SELECT {columns} FROM articles AS a WHERE a.id = %s", [int(id_or_url)]
                ).fetchone()
            else:
                row = conn.execute(
                    (
                        f"SELECT {columns} FROM articles AS a JOIN article_urls AS u "
                        "ON u.article_id = a.id WHERE u.url IN (%s, %s) LIMIT 1"
                    ),
                    [id_or_url, canonical_url(id_or_url)],
                ).fetchone()
            if row is None:
                raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
            values = _decoded(dict(zip(_STORED_COLUMNS, row, strict=True)))
            urls = tuple(
                r[0]
                for r in conn.execute(
                    "SELECT url FROM article_urls WHERE article_id = %s "
                    'ORDER BY first_seen_at, url COLLATE "C"',
                    [values["id"]],
                )
            )
        return StoredArticle(**values, urls=urls)

    @_translated
    def latest(self, *, after_id: int | None, limit: int, sources: Sequence[str] = ()) -> list[LatestArticle]:
        where, params = self._filters(SearchQuery(query="", sources=tuple(sources)))
        if after_id is not None:
            where.append("a.id > %s")
            params.append(after_id)
        with self._transaction() as conn:
            rows = conn.execute(
                (
                    "SELECT * FROM (SELECT a.id, a.fetched_at, a.published_at, a.source, a.language, "
                    f"a.title, a.url FROM articles AS a WHERE {' AND '.join(where) or 'true'} "
                    "ORDER BY a.id DESC LIMIT %s) AS newest ORDER BY id"
                ),
                [*params, limit],
            ).fetchall()
        return [LatestArticle(*(_text(value) for value in row)) for row in rows]

    @_translated
    def facets(self, by: str, *, query: str | None = None, limit: int = 1000) -> list[Facet]:
        key = {
            "source": "a.source",
            "day": f"to_char({_NEWEST} AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            "lang": "coalesce(a.language, '(none)')",
        }[by]
        order = f'({key}) COLLATE "C" DESC' if by == "day" else f'count(*) DESC, ({key}) COLLATE "C"'
        if query:
            where, params = self._filters(SearchQuery(query=query))
            source = "articles_fts JOIN articles AS a ON a.id = articles_fts.article_id"
        else:
            where, params, source = ["true"], [], "articles AS a"
        sql = (
            f"SELECT {key} AS key, count(*) AS count FROM {source} WHERE {' AND '.join(where)} "
            f"GROUP BY 1 ORDER BY {order} LIMIT %s"
        )
        with self._transaction() as conn:
            _by_the_index(conn, query)
            rows = conn.execute(sql, [*params, limit]).fetchall()
        return [Facet(key=row[0], count=int(row[1])) for row in rows]

    @_translated
    def sizes(self) -> ArchiveSizes:
        """Counts as SQLite's; bytes are the tables' and their indexes' (``pg_total_relation_size``)."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM articles), "
                "(SELECT count(*) FROM articles WHERE duplicate_of IS NULL), "
                "(SELECT count(*) FROM revisions), "
                "(SELECT count(*) FROM raw_pages), (SELECT count(*) FROM sources), "
                "(SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
                " JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'), "
                "pg_total_relation_size('raw_pages')"
            ).fetchone()
        assert row is not None
        return ArchiveSizes(*(int(value) for value in row))

    @_translated
    def story(self, article_id: int) -> list[StoryMember]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT m.id, m.source, m.url, m.title, m.published_at, m.duplicate_of, m.duplicate_score, "
                "m.attribution FROM articles AS a JOIN articles AS m ON m.story_id = a.story_id "
                "WHERE a.id = %s "
                "ORDER BY m.duplicate_of IS NOT NULL, coalesce(m.published_at, m.fetched_at), m.id",
                [article_id],
            ).fetchall()
        return [
            StoryMember(
                id=r[0],
                source=r[1],
                url=r[2],
                title=r[3],
                published_at=_text(r[4]),
                duplicate_of=r[5],
                duplicate_score=r[6],
                attribution=_credit(r[7]),
            )
            for r in rows
        ]

    @_translated
    def revisions(self, article_id: int) -> list[Revision]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, fetched_at, title, text, diff_stats, replaced_at FROM revisions "
                "WHERE article_id = %s ORDER BY id",
                [article_id],
            ).fetchall()
        return [
            Revision(
                id=r[0],
                fetched_at=_text(r[1]),
                title=r[2],
                text=r[3],
                diff_stats=r[4] or None,
                replaced_at=_text(r[5]),
            )
            for r in rows
        ]

    @_translated
    def duplicates(self, *, since: datetime | None = None, limit: int = 50) -> list[CopiedStory]:
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT o.id, o.source, o.url, o.title, o.published_at, s.copies, s.outlets, s.sources,
                       s.latest
                FROM (
                    SELECT story_id, count(*) - 1 AS copies, count(DISTINCT source) AS outlets,
                           array_agg(DISTINCT source) AS sources,
                           max(coalesce(published_at, fetched_at)) AS latest
                    FROM articles WHERE story_id IS NOT NULL
                    GROUP BY story_id HAVING count(DISTINCT source) > 1
                ) AS s JOIN articles AS o ON o.id = s.story_id
                WHERE %(since)s::timestamptz IS NULL OR s.latest >= %(since)s
                ORDER BY s.latest DESC, o.id DESC LIMIT %(limit)s
                """,
                {"since": _moment(since) if since is not None else None, "limit": limit},
            ).fetchall()
        return [
            CopiedStory(
                id=r[0],
                source=r[1],
                url=r[2],
                title=r[3],
                published_at=_text(r[4]),
                copies=int(r[5]),
                outlets=int(r[6]),
                sources=tuple(sorted(r[7])),
                latest=str(_text(r[8])),
            )
            for r in rows
        ]

    @_translated
    def channel(self, source: str) -> Channel:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT channel_title, channel_language FROM articles WHERE source = %s "
                "AND (channel_title IS NOT NULL OR channel_language IS NOT NULL) ORDER BY id DESC LIMIT 1",
                [source],
            ).fetchone()
        return Channel(row[0], row[1]) if row is not None else Channel(None, None)

    # -- sources, watches, alerts ----------------------------------------------------------------------

    @_translated
    def source_statuses(self, now: datetime | None = None) -> list[SourceStatus]:
        since = _moment((now or datetime.now(UTC)) - timedelta(hours=24))
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT s.id, s.name, s.kind, s.feed, s.enabled,
                       (SELECT count(*) FROM articles AS a WHERE a.source = s.id),
                       (SELECT count(*) FROM articles AS a WHERE a.source = s.id AND a.fetched_at >= %s),
                       s.last_polled_at, s.next_poll_at, s.last_success_at, s.interval_s, s.last_status,
                       s.last_error, s.error_count, s.poll_count, s.not_modified_count, s.dead, s.config_url
                FROM sources AS s ORDER BY s.seq
                """,
                [since],
            ).fetchall()
        return [_source_status(r, _text) for r in rows]

    @_translated
    def watch_statuses(self, now: datetime) -> list[WatchStatus]:
        with self._transaction() as conn:
            rows = conn.execute(
                """
                SELECT w.id, w.query,
                    (SELECT count(*) FROM matches WHERE watch = w.id AND matched_at >= %s),
                    (SELECT count(*) FROM matches WHERE watch = w.id AND matched_at >= %s),
                    (SELECT count(*) FROM matches WHERE watch = w.id),
                    (SELECT count(*) FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
                     WHERE m.watch = w.id AND d.delivered_at IS NULL AND d.attempts > 0),
                    (SELECT count(*) FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
                     WHERE m.watch = w.id AND d.delivered_at IS NULL)
                FROM watches AS w WHERE w.in_config ORDER BY w.seq
                """,
                [_moment(now - timedelta(days=1)), _moment(now - timedelta(days=7))],
            ).fetchall()
        return [WatchStatus(r[0], r[1], *(int(value) for value in r[2:])) for r in rows]

    @_translated
    def alerts(self, *, watch: str | None = None, limit: int = 50) -> list[AlertRecord]:
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT m.id, m.watch, m.article_id, a.title, a.url, a.source, m.matched_at, m.notify, "
                "m.delivered_at, m.attempts, m.last_error "
                "FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
                "WHERE %(watch)s::text IS NULL OR m.watch = %(watch)s ORDER BY m.id DESC LIMIT %(limit)s",
                {"watch": watch, "limit": limit},
            ).fetchall()
        return [
            AlertRecord(r[0], r[1], r[2], r[3], r[4], r[5], str(_text(r[6])), int(r[7]), _text(r[8]), *r[9:])
            for r in rows
        ]

    # -- re-extraction's reads -----------------------------------------------------------------------

    @_translated
    def reextract_ids(
        self, *, sources: Sequence[str] = (), since: datetime | None = None, version: str | None = None
    ) -> list[int]:
        where = ["true"]
        params: list[Any] = []
        if sources:
            where.append("a.source = ANY(%s)")
            params.append(list(sources))
        if since is not None:
            where.append("a.fetched_at >= %s")
            params.append(_moment(since))
        if version is not None:
            where.append("a.extractor IS DISTINCT FROM %s")
            params.append(version)
        with self._transaction() as conn:
            rows = conn.execute(
                (
                    "SELECT a.id FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
                    f"WHERE {' AND '.join(where)} ORDER BY a.id"
                ),
                params,
            ).fetchall()
        return [int(row[0]) for row in rows]

    @_translated
    def raw_pages(self, ids: Sequence[int]) -> list[StoredPage]:
        if not ids:
            return []
        fields = ", ".join(f"a.{column}" for column in _FIELD_COLUMNS)
        with self._transaction() as conn:
            rows = conn.execute(
                (
                    f"SELECT {RAW_PAGE_COLUMNS}, {fields}, a.feed_title, a.entry_published_at, "
                    "a.entry_language, a.channel_title, a.channel_language "
                    "FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
                    "WHERE a.id = ANY(%s) ORDER BY a.id"
                ),
                [list(ids)],
            ).fetchall()
        end = 7 + len(_FIELD_COLUMNS)
        return [
            _stored_page(
                row, ArticleFields(**_decoded(dict(zip(_FIELD_COLUMNS, row[7:end], strict=True)))), _text
            )
            for row in rows
        ]
