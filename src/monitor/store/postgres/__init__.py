"""The PostgreSQL archive (issue 16): its schema and migrations (:mod:`.schema`) so far; the archive class
implementing :class:`~monitor.store.base.ArchiveWriter` and :class:`~monitor.store.base.ArchiveReader`
comes next. The only code that imports psycopg, with :mod:`monitor.store`'s SQLite modules the only SQL.
"""

from __future__ import annotations

from monitor.store.postgres.schema import MIGRATIONS, migrate

__all__ = ["MIGRATIONS", "migrate"]
