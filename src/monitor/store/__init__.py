"""The archive: the only module that speaks SQL.

:class:`Archive` is the small interface the rest of monitor uses; :class:`SQLiteArchive` implements it with
sqlite-utils. A second backend (PostgreSQL) can implement the same protocol.
"""

from monitor.store.base import Archive
from monitor.store.common import iso
from monitor.store.sqlite import SQLiteArchive

__all__ = ["Archive", "SQLiteArchive", "iso"]
