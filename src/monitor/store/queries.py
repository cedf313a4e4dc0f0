"""Reading the archive: search, stories, statistics, exports (mixed into :class:`SQLiteArchive`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from monitor.dedup import canonical_url
from monitor.errors import NotFoundError, QueryError, StoreError
from monitor.models import (
    AlertRecord,
    ArchiveSizes,
    CopiedStory,
    ExportedArticle,
    Facet,
    Heartbeat,
    LatestArticle,
    Revision,
    SearchHit,
    SearchQuery,
    SourceStatus,
    StoredArticle,
    StoryMember,
    WatchStatus,
    field_names,
)
from monitor.query import parse
from monitor.snippets import Terms, best_snippet, terms_of
from monitor.store import fts
from monitor.store.common import _collapsed, _credit, _same, _source_status, _strings, _translated, iso

_EXPORT_COLUMNS = tuple(field_names(ExportedArticle))
_STORED_COLUMNS = tuple(name for name in field_names(StoredArticle) if name != "urls")


def _hit(row: Sequence[Any], *, snippet: str, copies: int | None = None) -> SearchHit:
    """A search hit from the columns id, url, source, title, authors, published_at, language."""
    return SearchHit(
        id=row[0],
        url=row[1],
        source=row[2],
        title=row[3],
        authors=tuple(json.loads(row[4])),
        published_at=row[5],
        language=row[6],
        snippet=" ".join(snippet.split()),
        copies=copies,
    )


def _snippet(row: Sequence[Any], terms: Terms, marks: tuple[str, str]) -> str:
    """From the columns of :meth:`ArchiveQueries._hit_rows`: title 3, language 6, text 7, and the text's
    normal form in the index 8 (None while the index is rebuilt)."""
    return best_snippet(row[3], row[7] or "", row[6], terms, marks, indexed=row[8])


def _searched(query: str, exc: sqlite3.Error) -> StoreError:
    message = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and not any(
        word in message for word in ("locked", "busy", "disk", "I/O", "readonly", "corrupt")
    ):
        return QueryError(f"search: {query!r} cannot be searched ({message})")
    return StoreError(f"store: search failed: {message}")


class ArchiveQueries:
    db: Database

    def search(self, query: SearchQuery) -> list[SearchHit]:
        where, params = self._filters(query)  # raises QueryError (naming the position) for a bad query
        terms = terms_of(parse(query.query))
        # bm25 with the title weighted ten times the body: a word in the headline says more
        order = (
            "bm25(articles_fts, 10.0, 1.0)"
            if query.sort == "rank"
            else "coalesce(a.published_at, a.fetched_at) DESC"
        )
        # collapsing keeps one row per story (its best-placed match): read more rows to fill the limit
        limit = query.limit * 20 if query.collapse else query.limit
        # Two steps: pick the page of ids, then read those rows and cut their snippets from the original text
        # (the index holds the normalised copy; monitor.snippets). Reading every match's text before sorting
        # made a common word's newest-first p95 ~380 ms at 1M articles (benchmarks/archive.py).
        sql = f"""
            SELECT a.id, coalesce(a.story_id, a.id)
            FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid
            WHERE {" AND ".join(where)}
            ORDER BY {order}, a.id DESC
            LIMIT ?
        """
        try:
            page: list[tuple[int, int]] = self.db.execute(sql, [*params, limit]).fetchall()
            if query.collapse:
                return self._collapse(page, query.limit, terms, query.highlight)
            rows = self._hit_rows([article_id for article_id, _ in page])
        except sqlite3.Error as exc:
            raise _searched(query.query, exc) from exc
        return [
            _hit(rows[article_id], snippet=_snippet(rows[article_id], terms, query.highlight))
            for article_id, _ in page
        ]

    def _hit_rows(self, ids: Sequence[int]) -> dict[int, Sequence[Any]]:
        """The columns of :func:`_hit`, then the text and its normal form in the index (when the index is
        current: it locates snippets cheaply), by id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        indexed = "f.text" if fts.is_current(self.db.conn) else "NULL"
        return {
            row[0]: row
            for row in self.db.execute(
                "SELECT a.id, a.url, a.source, a.title, a.authors, a.published_at, a.language, a.text, "
                f"{indexed} FROM articles AS a LEFT JOIN articles_fts AS f ON f.rowid = a.id "
                f"WHERE a.id IN ({marks})",
                list(ids),
            )
        }

    @staticmethod
    def _filters(query: SearchQuery) -> tuple[list[str], list[Any]]:
        """The WHERE terms of a query's filters (the FTS match only when it has a query), over ``a``."""
        where: list[str] = []
        params: list[Any] = []
        if query.query:
            where.append("articles_fts MATCH ?")
            params.append(fts.match_string(query.query))
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

    def _collapse(
        self, page: list[tuple[int, int]], limit: int, terms: Terms, highlight: tuple[str, str]
    ) -> list[SearchHit]:
        def copies_of(stories: list[int]) -> dict[int, int]:
            marks = ",".join("?" * len(stories))
            return dict(
                self.db.execute(
                    f"SELECT story_id, count(*) - 1 FROM articles WHERE story_id IN ({marks}) "
                    "GROUP BY story_id",
                    stories,
                ).fetchall()
            )

        return _collapsed(
            page,
            limit,
            self._hit_rows,
            copies_of,
            lambda original, matching, copies: _hit(
                original, snippet=_snippet(matching, terms, highlight), copies=copies
            ),
        )

    @_translated
    def get_article(self, id_or_url: str) -> StoredArticle:
        columns = ", ".join(f"a.{c}" for c in _STORED_COLUMNS)
        if id_or_url.isdigit():
            if int(id_or_url) > 2**63 - 1:
                raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
            row = self.db.execute(
                f"SELECT {columns} FROM articles AS a WHERE a.id = ?", [int(id_or_url)]
            ).fetchone()
        else:
            row = self.db.execute(
                f"SELECT {columns} FROM articles AS a JOIN article_urls AS u ON u.article_id = a.id "
                "WHERE u.url IN (?, ?) LIMIT 1",
                [id_or_url, canonical_url(id_or_url)],
            ).fetchone()
        if row is None:
            raise NotFoundError(f"store: no article {id_or_url!r} in the archive")
        values = dict(zip(_STORED_COLUMNS, row, strict=True))
        urls = tuple(
            r[0]
            for r in self.db.execute(
                "SELECT url FROM article_urls WHERE article_id = ? ORDER BY first_seen_at, url",
                [values["id"]],
            )
        )
        return StoredArticle(
            **values
            | {
                "authors": _strings(values["authors"]),
                "keywords": _strings(values["keywords"]),
                "attribution": _credit(values["attribution"]),
                "urls": urls,
            }
        )

    def count(self, query: SearchQuery) -> int:
        """How many articles match the filters (and the query, if any; no limit): what `search --count` says
        and what `export` writes. Without a query every article counts, indexed for search yet or not."""
        sql, params = self._export_sql(query, "count(*)")
        try:
            return int(self.db.execute(sql, params).fetchone()[0])
        except sqlite3.Error as exc:
            raise _searched(query.query, exc) from exc

    def iter_articles(self, query: SearchQuery) -> Iterator[ExportedArticle]:
        """Every article matching the filters (and the FTS query, if any), oldest first, one at a time:
        constant memory whatever the archive's size."""
        sql, params = self._export_sql(query, ", ".join(f"a.{c}" for c in _EXPORT_COLUMNS))
        cursor = self.db.conn.cursor()
        try:
            cursor.execute(sql + " ORDER BY a.id", params)
            while rows := cursor.fetchmany(500):
                for row in rows:
                    record = dict(zip(_EXPORT_COLUMNS, row, strict=True))
                    yield ExportedArticle(
                        **record
                        | {
                            "authors": _strings(record["authors"]),
                            "keywords": _strings(record["keywords"]),
                            "attribution": _credit(record["attribution"]),
                        }
                    )
        except sqlite3.Error as exc:
            raise _searched(query.query, exc) from exc
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
    def facets(self, by: str, *, query: str | None = None, limit: int = 1000) -> list[Facet]:
        """Article counts per ``source``, ``day`` (of publication) or ``lang``: all, or a query's matches."""
        key = {
            "source": "a.source",
            "day": "substr(coalesce(a.published_at, a.fetched_at), 1, 10)",
            "lang": "coalesce(a.language, '(none)')",
        }[by]
        order = "key DESC" if by == "day" else "count DESC, key"
        if query:
            where, params = self._filters(SearchQuery(query=query))
            sql = (
                f"SELECT {key} AS key, count(*) AS count FROM articles_fts "
                f"JOIN articles AS a ON a.id = articles_fts.rowid WHERE {' AND '.join(where)} "
                f"GROUP BY key ORDER BY {order} LIMIT ?"
            )
            params.append(limit)
        else:
            sql = (
                f"SELECT {key} AS key, count(*) AS count FROM articles AS a "
                f"GROUP BY key ORDER BY {order} LIMIT ?"
            )
            params = [limit]
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise _searched(query or "", exc) from exc
        return [Facet(key=row[0], count=row[1]) for row in rows]

    @_translated
    def latest(self, *, after_id: int | None, limit: int, sources: Sequence[str] = ()) -> list[LatestArticle]:
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
        return [LatestArticle(*row) for row in rows]

    @_translated
    def heartbeat(self) -> Heartbeat | None:
        row = self.db.execute(
            "SELECT pid, started_at, beat_at, version FROM heartbeat WHERE id = 1"
        ).fetchone()
        if row is None:
            return None
        return Heartbeat(pid=row[0], started_at=row[1], beat_at=row[2], version=row[3])

    @_translated
    def sizes(self) -> ArchiveSizes:
        """Articles, stories, revisions, raw pages, and bytes on disk in all and in raw pages."""
        counts = self.db.execute(
            "SELECT (SELECT count(*) FROM articles), "
            "(SELECT count(*) FROM articles WHERE duplicate_of IS NULL), (SELECT count(*) FROM revisions), "
            "(SELECT count(*) FROM raw_pages), (SELECT count(*) FROM sources)"
        ).fetchone()
        pages = dict(self.db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        raw = sum(size for name, size in pages.items() if "raw_pages" in name)
        return ArchiveSizes(
            articles=counts[0],
            stories=counts[1],
            revisions=counts[2],
            raw_pages=counts[3],
            sources=counts[4],
            bytes=sum(pages.values()),
            raw_bytes=raw,
        )

    @_translated
    def story(self, article_id: int) -> list[StoryMember]:
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
            StoryMember(
                id=r[0],
                source=r[1],
                url=r[2],
                title=r[3],
                published_at=r[4],
                duplicate_of=r[5],
                duplicate_score=r[6],
                attribution=_credit(r[7]),
            )
            for r in rows
        ]

    @_translated
    def revisions(self, article_id: int) -> list[Revision]:
        """Earlier versions of an article, oldest first (the article row holds the newest)."""
        rows = self.db.execute(
            "SELECT id, fetched_at, title, text, diff_stats, replaced_at FROM revisions "
            "WHERE article_id = ? ORDER BY id",
            [article_id],
        )
        return [
            Revision(
                id=r[0],
                fetched_at=r[1],
                title=r[2],
                text=r[3],
                diff_stats=json.loads(r[4]) if r[4] else None,
                replaced_at=r[5],
            )
            for r in rows
        ]

    @_translated
    def duplicates(self, *, since: datetime | None = None, limit: int = 50) -> list[CopiedStory]:
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
            CopiedStory(
                id=r[0],
                source=r[1],
                url=r[2],
                title=r[3],
                published_at=r[4],
                copies=r[5],
                outlets=r[6],
                sources=tuple(sorted(r[7].split(","))),
                latest=r[8],
            )
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
        return [_source_status(r, _same) for r in rows]

    @_translated
    def watch_statuses(self, now: datetime) -> list[WatchStatus]:
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
        return [WatchStatus(*r) for r in rows]

    @_translated
    def alerts(self, *, watch: str | None = None, limit: int = 50) -> list[AlertRecord]:
        rows = self.db.execute(
            "SELECT m.id, m.watch, m.article_id, a.title, a.url, a.source, m.matched_at, m.notify, "
            "m.delivered_at, m.attempts, m.last_error "
            "FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
            "WHERE ? IS NULL OR m.watch = ? ORDER BY m.id DESC LIMIT ?",
            [watch, watch, limit],
        )
        return [AlertRecord(*row) for row in rows]
