"""The archive: the only package that speaks SQL.

:class:`Archive` is the interface the rest of monitor uses; :func:`open_archive` is the one place that
chooses and names a backend (today SQLite through sqlite-utils; a PostgreSQL backend implements the same
protocol).
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import StoreError
from monitor.store.base import Archive
from monitor.store.common import iso
from monitor.store.sqlite import SQLiteArchive


def open_archive(location: Path | str, *, readonly: bool = False) -> SQLiteArchive:
    """The archive at ``location`` (a file path), opened for writing (the daemon, ``reextract``: applies
    pending migrations) or, with ``readonly``, for reading only (never blocks the daemon, never migrates)."""
    if isinstance(location, str) and location.startswith(("postgres://", "postgresql://")):
        raise StoreError(f"store: no PostgreSQL backend yet for {location.split('@')[-1]!r}")
    return SQLiteArchive(Path(location), readonly=readonly)


__all__ = ["Archive", "SQLiteArchive", "iso", "open_archive"]
