"""The PostgreSQL archive (issue 16): its schema and migrations (:mod:`.schema`), and
:class:`PostgresArchive` (:mod:`.archive`), which implements part of
:class:`~monitor.store.base.ArchiveWriter` and :class:`~monitor.store.base.ArchiveReader` so far and is not
opened by :func:`monitor.store.open_archive` until it implements all of them. The only code that imports
psycopg, with :mod:`monitor.store`'s SQLite modules the only SQL.
"""

from __future__ import annotations

from monitor.store.postgres.archive import PostgresArchive
from monitor.store.postgres.schema import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "PostgresArchive", "migrate"]
