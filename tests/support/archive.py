"""Reading back what a test archived as monitor's own readers do: through the reader Protocol
(:class:`monitor.store.ArchiveReader`, opened read-only by :func:`monitor.store.open_archive`) rather than
through tables, so that a test checks what was archived and not how one backend lays it out. Tests about the
SQL itself (schema, migrations, the search index, durability) keep reading the file directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from monitor.errors import StoreError
from monitor.models import SearchQuery, SourceStatus, StoredArticle
from monitor.store import ArchiveReader, open_archive

T = TypeVar("T")

EVERY_ARTICLE = SearchQuery(query="")
"""No words, no filter: every article, indexed for search yet or not."""


@contextmanager
def reader(path: Path) -> Iterator[ArchiveReader]:
    """The archive at ``path`` opened for reading only (as ``monitor search`` opens it), closed after."""
    archive = open_archive(path, readonly=True)
    try:
        yield archive
    finally:
        archive.close()


def articles(archive: ArchiveReader, *sources: str) -> list[StoredArticle]:
    """Every article (of these sources, or all), oldest first, with every stored field and every URL it is
    known by."""
    ids = [found.id for found in archive.iter_articles(SearchQuery(query="", sources=sources))]
    return [archive.get_article(str(article_id)) for article_id in ids]


def source_status(archive: ArchiveReader, source_id: str) -> SourceStatus:
    """The one source ``source_id``, with its poll health (``monitor sources``)."""
    (status,) = [status for status in archive.source_statuses() if status.id == source_id]
    return status


def peek(path: Path, look: Callable[[ArchiveReader], T], default: T) -> T:
    """What ``look`` reads in the archive at ``path``, or ``default`` while there is nothing to read yet (a
    daemon still creating or migrating it): for waiting on a daemon in another process."""
    try:
        with reader(path) as archive:
            return look(archive)
    except StoreError:
        return default
