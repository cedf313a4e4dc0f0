"""The PostgreSQL archive (issue 16): its schema and migrations (:mod:`.schema`), and
:class:`PostgresArchive` (:mod:`.archive`), which implements :class:`~monitor.store.base.ArchiveWriter` and
:class:`~monitor.store.base.ArchiveReader` and is what :func:`monitor.store.open_archive` opens for a
PostgreSQL URL. The only code that imports psycopg, with :mod:`monitor.store`'s SQLite modules the only SQL.
"""

from __future__ import annotations

from monitor.store.postgres.archive import PostgresArchive
from monitor.store.postgres.schema import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "PostgresArchive", "migrate"]
