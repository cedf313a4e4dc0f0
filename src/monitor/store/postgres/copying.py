"""The PostgreSQL ends of ``monitor copy`` (issue 16): rows of :data:`monitor.store.copying.TABLES` read from
a PostgreSQL archive in one snapshot, and written into one with its search documents, chunk by chunk.

The archive is opened through :class:`~monitor.store.postgres.PostgresArchive` itself: a source read-only
(an empty database or an older schema refused as a reader refuses it), a target for writing (migrated). The
source's snapshot is one ``REPEATABLE READ, READ ONLY`` transaction on a connection held for the copy. In
the target each chunk is one transaction: the rows with their ids (identities are ``BY DEFAULT``, D52), the
search documents of its articles (:func:`.fts.index_many`, as the poll writer makes them), the identity
sequence set past the highest copied value, so that the next article, revision or match a daemon inserts
takes a new id, and the copy's progress in ``monitor_copy``. A finished copy ends with ``VACUUM (ANALYZE)``
(``settle``), so that the first searches are planned for the rows that are there (D71).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import Connection
from psycopg.types.json import Jsonb

from monitor.config import PostgresURL
from monitor.errors import ArchiveLockedError, StoreError
from monitor.store.copying import MARKER_TABLE, CopyFrom, CopyTo, Key, Kind, Row, Table, moment
from monitor.store.postgres import fts
from monitor.store.postgres.archive import PostgresArchive

T = TypeVar("T")
log = logging.getLogger("monitor.store")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(conn: Connection[Any], table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        [table],
    ).fetchall()
    return {str(row[0]) for row in rows}


def _count(conn: Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()
    return int(row[0]) if row else 0


def _read_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "moment":
        return moment(value)
    if kind == "blob":
        return bytes(value)
    if kind == "real":
        return float(value)
    return value


def _written_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "json":
        return Jsonb(value)
    if kind == "bool":
        return bool(value)
    return value


def _guarded(display: str, what: str, work: Callable[[], T]) -> T:
    """``work``, psycopg's errors as :class:`StoreError` naming the archive without its password."""
    try:
        return work()
    except psycopg.Error as exc:
        raise StoreError(f"store: copy: cannot {what} {display}: {exc}") from exc


def _refuse_live_workers(conn: Connection[Any], display: str) -> None:
    """Workers share a PostgreSQL archive by leases (no daemon lock): one that beat within its lease is
    running, and the copy must not write beside it."""
    if not _columns(conn, "workers"):
        return
    rows = conn.execute(
        "SELECT hostname, pid FROM workers WHERE stopped_at IS NULL "
        "AND beat_at > now() - lease_s * interval '1 second' ORDER BY started_at"
    ).fetchall()
    if rows:
        running = ", ".join(f"{host} pid {pid}" for host, pid in rows)
        raise ArchiveLockedError(f"monitor workers are writing to {display} ({running}); stop them first")


def copy_from(url: PostgresURL) -> CopyFrom:
    """The PostgreSQL archive at ``url`` as a copy's source, read in one snapshot until closed."""
    archive = PostgresArchive(url, readonly=True)
    stack = contextlib.ExitStack()
    stack.callback(archive.close)
    try:
        conn = stack.enter_context(archive._transaction())
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    except psycopg.Error as exc:
        stack.close()
        raise StoreError(f"store: copy: cannot read {archive.display}: {exc}") from exc
    except BaseException:
        stack.close()
        raise

    def read(table: Table, after: Key | None, limit: int) -> list[Row]:
        names = ", ".join(_quoted(column) for column in table.names)
        keys = ", ".join(_quoted(column) for column in table.key)
        where = f"WHERE ({keys}) > ({', '.join(['%s'] * len(table.key))})" if after is not None else ""
        sql = f"SELECT {names} FROM {_quoted(table.name)} {where} ORDER BY {keys} LIMIT %s"
        rows = _guarded(
            archive.display,
            f"read {table.name} from",
            lambda: conn.execute(sql.encode(), [*(after or ()), limit]).fetchall(),
        )
        kinds = [kind for _, kind in table.columns]
        return [tuple(_read_value(k, v) for k, v in zip(kinds, row, strict=True)) for row in rows]

    def close() -> None:
        stack.close()

    return CopyFrom(
        display=archive.display,
        columns=lambda table: _guarded(archive.display, "read", lambda: _columns(conn, table)),
        count=lambda table: _guarded(archive.display, "read", lambda: _count(conn, table)),
        read=read,
        close=close,
    )


def copy_to(url: PostgresURL) -> CopyTo:
    """The PostgreSQL archive at ``url`` as a copy's target: migrated (created) when it is not yet one."""
    archive = PostgresArchive(url)
    display = archive.display

    @contextlib.contextmanager
    def transaction(what: str) -> Iterator[Connection[Any]]:
        try:
            with archive._transaction() as conn:
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"store: copy: cannot {what} {display}: {exc}") from exc

    def set_marks(conn: Connection[Any], marks: dict[str, str]) -> None:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (key text PRIMARY KEY, value text)")
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {MARKER_TABLE} (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(marks.items()),
            )

    def marker() -> dict[str, str]:
        with transaction("read") as conn:
            if not _columns(conn, MARKER_TABLE):
                return {}
            rows = conn.execute(f"SELECT key, value FROM {MARKER_TABLE}").fetchall()
        return {str(key): str(value) for key, value in rows}

    def write(table: Table, rows: Sequence[Row], marks: dict[str, str]) -> None:
        names = ", ".join(_quoted(column) for column in table.names)
        placeholders = ", ".join(["%s"] * len(table.names))
        kinds = [kind for _, kind in table.columns]
        values = [[_written_value(k, v) for k, v in zip(kinds, row, strict=True)] for row in rows]
        with transaction(f"write {table.name} to") as conn:
            with conn.cursor() as cursor:
                sql = f"INSERT INTO {_quoted(table.name)} ({names}) VALUES ({placeholders})"
                cursor.executemany(sql.encode(), values)
            if table.name == "articles":
                at = {name: table.names.index(name) for name in ("id", "title", "text", "language")}
                fts.index_many(
                    conn,
                    [(row[at["id"]], row[at["title"]], row[at["text"]], row[at["language"]]) for row in rows],
                )
            if table.identity is not None and rows:
                column = _quoted(table.identity)
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, %s), max({column})) "
                    f"FROM {_quoted(table.name)}".encode(),
                    [table.name, table.identity],
                )
            set_marks(conn, marks)

    def mark(marks: dict[str, str]) -> None:
        with transaction("write to") as conn:
            set_marks(conn, marks)

    def count(table: str) -> int:
        with transaction("read") as conn:
            return _count(conn, table)

    def settle() -> None:
        """VACUUM (ANALYZE), as autovacuum would in its own time: until then the planner reads the copied
        rows through statistics of a near-empty archive (the search index's never-vacuumed GIN metapage
        above all) and chose to test every document for a rare word (~100 ms at 30,000 articles against
        ~15; D71). VACUUM runs outside a transaction, so on a connection of its own."""
        log.info("store: copy: updating %s's planner statistics (VACUUM ANALYZE)", display)
        try:
            with psycopg.connect(archive._conninfo, **archive._session, autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")
        except psycopg.Error as exc:
            raise StoreError(f"store: copy: cannot vacuum {display}: {exc}") from exc

    def columns(table: str) -> set[str]:
        with transaction("read") as conn:
            return _columns(conn, table)

    try:
        with transaction("read") as conn:
            _refuse_live_workers(conn, display)
    except BaseException:
        archive.close()
        raise
    return CopyTo(
        display=display,
        columns=columns,
        count=count,
        marker=marker,
        write=write,
        mark=mark,
        index_count=lambda: count("articles_fts"),
        settle=settle,
        close=archive.close,
    )
