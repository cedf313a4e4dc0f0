"""The archive: the only package that speaks SQL.

:class:`ArchiveReader` and :class:`ArchiveWriter` (:mod:`.base`) are everything the rest of monitor asks of
an archive; :func:`open_archive` is the one place that chooses and names a backend (today SQLite through
sqlite-utils; a PostgreSQL backend implements the same protocols).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, overload

from monitor.config import POSTGRES_SCHEMES, PostgresURL
from monitor.errors import StoreError
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
    if isinstance(location, str) and location.lower().startswith(tuple(f"{s}://" for s in POSTGRES_SCHEMES)):
        location = PostgresURL(location)
    if isinstance(location, PostgresURL):
        raise StoreError(
            "store: the PostgreSQL archive is not available in this version yet (issue 16): "
            f"{location.display}"
        )
    return SQLiteArchive(Path(location), readonly=readonly)


__all__ = ["ArchiveReader", "ArchiveStore", "ArchiveWriter", "SQLiteArchive", "iso", "open_archive"]
