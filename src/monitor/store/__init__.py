"""The archive: the only package that speaks SQL.

:class:`ArchiveReader` and :class:`ArchiveWriter` (:mod:`.base`) are everything the rest of monitor asks of
an archive; :func:`open_archive` is the one place that chooses and names a backend (SQLite through
sqlite-utils, or PostgreSQL through psycopg, imported only for a PostgreSQL URL).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Literal, overload

from monitor.config import POSTGRES_SCHEMES, PostgresURL
from monitor.lock import archive_lock
from monitor.store.base import ArchiveReader, ArchiveStore, ArchiveWriter
from monitor.store.common import iso
from monitor.store.sqlite import SQLiteArchive


@overload
def open_archive(location: Path | str | PostgresURL, *, readonly: Literal[True]) -> ArchiveReader: ...
@overload
def open_archive(location: Path | str | PostgresURL, *, readonly: Literal[False] = False) -> ArchiveStore: ...
def open_archive(
    location: Path | str | PostgresURL, *, readonly: bool = False
) -> ArchiveStore | ArchiveReader:
    """The archive at ``location`` (a file path, or the config's :class:`PostgresURL`), opened for writing
    (the daemon, ``reextract``: applies pending migrations; it reads too) or, with ``readonly``, for reading
    only (never blocks the daemon, never migrates; raises ``StoreError`` when there is no archive or its
    schema is older)."""
    location = _location(location)
    if isinstance(location, PostgresURL):
        from monitor.store.postgres import PostgresArchive  # psycopg is an extra: imported only for a URL

        return PostgresArchive(location, readonly=readonly)
    return SQLiteArchive(Path(location), readonly=readonly)


def _location(location: Path | str | PostgresURL) -> Path | str | PostgresURL:
    if isinstance(location, str) and location.lower().startswith(tuple(f"{s}://" for s in POSTGRES_SCHEMES)):
        return PostgresURL(location)
    return location


def single_daemon(location: Path | str | PostgresURL) -> AbstractContextManager[None]:
    """The lock a writer holds for its life, so that a second one on the same archive is refused: a file
    lock beside a SQLite archive (:mod:`monitor.lock`; its daemon), a session advisory lock on a PostgreSQL
    one (:mod:`monitor.store.postgres.lock`; ``monitor copy`` into it: its workers share it by leases)."""
    location = _location(location)
    if isinstance(location, PostgresURL):
        from monitor.store.postgres.lock import daemon_lock  # psycopg is an extra: imported only for a URL

        return daemon_lock(location.url, display=location.display)
    return archive_lock(Path(location))


__all__ = [
    "ArchiveReader",
    "ArchiveStore",
    "ArchiveWriter",
    "SQLiteArchive",
    "iso",
    "open_archive",
    "single_daemon",
]
