"""The Python API: read an archive from a notebook or a script with the functions the CLI uses.

    >>> from monitor import Archive
    >>> with Archive("data/monitor.db") as archive:
    ...     for hit in archive.search("Maduro AND Iran", since="7d", limit=5):
    ...         print(hit.published_at, hit.source, hit.title)

Read-only: it never blocks the daemon, and the daemon never blocks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.models import SearchHit, SearchQuery, as_row
from monitor.moments import parse_moment
from monitor.store import open_archive

When = datetime | str | None


def _moment(value: When) -> datetime | None:
    """A datetime (naive: UTC), or a string as ``--since`` reads it (:func:`monitor.moments.parse_moment`)."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
    return parse_moment(value, now=datetime.now(UTC))


class Archive:
    """A monitor archive opened for reading."""

    def __init__(self, path: str | Path = "data/monitor.db") -> None:
        """``path``: the archive's file, or a ``postgresql://`` URL (its password never shown)."""
        self._store = open_archive(path, readonly=True)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._store.close()

    def _query(
        self, query: str, sources: Sequence[str], since: When, until: When, **options: Any
    ) -> SearchQuery:
        return SearchQuery(
            query=query, sources=tuple(sources), since=_moment(since), until=_moment(until), **options
        )

    def search(
        self,
        query: str,
        *,
        sources: Sequence[str] = (),
        since: When = None,
        until: When = None,
        languages: Sequence[str] = (),
        tags: Sequence[str] = (),
        sort: str = "date",
        limit: int = 20,
        collapse: bool = False,
    ) -> list[SearchHit]:
        """Full-text search in monitor's query language, as `monitor search`; typed :class:`SearchHit`
        records (``QueryError``, with the position, for a query that does not parse)."""
        return self._store.search(
            self._query(
                query,
                sources,
                since,
                until,
                languages=tuple(languages),
                tags=tuple(tags),
                sort=sort,
                limit=limit,
                collapse=collapse,
            )
        )

    def count(
        self, query: str, *, sources: Sequence[str] = (), since: When = None, until: When = None
    ) -> int:
        return self._store.count(self._query(query, sources, since, until))

    def article(self, id_or_url: int | str) -> dict[str, Any]:
        """One article with its text and every URL it is known by (raises ``NotFoundError``); its authors,
        keywords and credit decoded, as in :meth:`story`."""
        return as_row(self._store.get_article(str(id_or_url)))

    def story(self, article_id: int) -> list[dict[str, Any]]:
        """Every copy of the article's story, the original first."""
        return [as_row(member) for member in self._store.story(article_id)]

    def revisions(self, article_id: int) -> list[dict[str, Any]]:
        return [as_row(revision) for revision in self._store.revisions(article_id)]

    def articles(
        self, query: str = "", *, sources: Sequence[str] = (), since: When = None, until: When = None
    ) -> Iterator[dict[str, Any]]:
        """Every matching article, full text included, one at a time (constant memory)."""
        return (
            as_row(record) for record in self._store.iter_articles(self._query(query, sources, since, until))
        )

    def stats(self, by: str, *, query: str | None = None) -> list[dict[str, Any]]:
        """Article counts by ``source``, ``day`` or ``lang``."""
        return [as_row(facet) for facet in self._store.facets(by, query=query)]
