"""The SQLite ends of ``monitor copy`` (issue 16): rows of :data:`monitor.store.copying.TABLES` read from a
SQLite archive in one snapshot, and written into one with its search index, chunk by chunk.

The archive is opened through :class:`~monitor.store.sqlite.SQLiteArchive` itself: a source read-only (a
missing file or an older schema refused as ``monitor search`` refuses it), a target for writing (created and
migrated, its search index current, the index functions registered on its connection). A source's snapshot
is one read transaction, which a daemon writing to the same file in WAL mode never disturbs. ``seq`` is the
rowid, the order sources and watches were first configured in, which SQLite lists them by.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitor.errors import StoreError
from monitor.store import fts
from monitor.store.common import iso
from monitor.store.copying import (
    MARKER_TABLE,
    CopyFrom,
    CopyRefused,
    CopyTo,
    Key,
    Kind,
    Row,
    Table,
    json_text,
    moment,
)
from monitor.store.sqlite import SQLiteArchive

ROWID_TABLES = frozenset({"sources", "watches"})
"""Tables whose ``seq`` is SQLite's rowid."""


def _name(column: str, table: str) -> str:
    return "rowid" if column == "seq" and table in ROWID_TABLES else f'"{column}"'


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    names = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
    return names | {"seq"} if table in ROWID_TABLES and names else names


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _read_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "moment":
        return moment(value)
    if kind == "json":
        return json.loads(value)
    if kind == "bool":
        return bool(value)
    if kind == "real":
        return float(value)
    if kind == "blob":
        return bytes(value)
    return value


def _written_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == "moment":
        return iso(value)
    if kind == "json":
        return json_text(value)
    if kind == "bool":
        return int(value)
    return value


def _translated(display: str, what: str, exc: sqlite3.Error) -> StoreError:
    return StoreError(f"store: copy: cannot {what} {display}: {exc}")


def _refuse_a_foreign_database(path: Path) -> None:
    if not path.is_file() or not path.stat().st_size:
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise CopyRefused(f"store: {path} is not a monitor archive ({exc})") from None
    if tables and "articles" not in tables:
        raise CopyRefused(f"store: {path} is a database but not a monitor archive; copy into a new file")


def copy_from(path: Path) -> CopyFrom:
    """The SQLite archive at ``path`` as a copy's source, read in one snapshot until closed."""
    archive = SQLiteArchive(path, readonly=True)
    conn = archive.db.conn
    display = str(path)
    try:
        conn.execute("BEGIN")  # one snapshot for every read until close
    except sqlite3.Error as exc:
        archive.close()
        raise _translated(display, "read", exc) from exc

    def read(table: Table, after: Key | None, limit: int) -> list[Row]:
        names = ", ".join(_name(column, table.name) for column in table.names)
        keys = [_name(column, table.name) for column in table.key]
        where = ""
        if after is not None:
            where = f"WHERE ({', '.join(keys)}) > ({', '.join('?' * len(keys))})"
        sql = f'SELECT {names} FROM "{table.name}" {where} ORDER BY {", ".join(keys)} LIMIT ?'
        try:
            rows = conn.execute(sql, [*(after or ()), limit]).fetchall()
        except sqlite3.Error as exc:
            raise _translated(display, f"read {table.name} from", exc) from exc
        kinds = [kind for _, kind in table.columns]
        return [tuple(_read_value(k, v) for k, v in zip(kinds, row, strict=True)) for row in rows]

    def close() -> None:
        try:
            conn.rollback()
        finally:
            archive.close()

    return CopyFrom(
        display=display,
        columns=lambda table: _columns(conn, table),
        count=lambda table: _count(conn, table),
        read=read,
        close=close,
    )


def copy_to(path: Path) -> CopyTo:
    """The SQLite archive at ``path`` as a copy's target: created and migrated when missing. A file that
    is some other database is refused before anything is written to it."""
    _refuse_a_foreign_database(path)
    archive = SQLiteArchive(path)
    conn = archive.db.conn
    display = str(path)

    def set_marks(marks: dict[str, str]) -> None:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
        conn.executemany(
            f"INSERT INTO {MARKER_TABLE} (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            list(marks.items()),
        )

    def marker() -> dict[str, str]:
        if not _columns(conn, MARKER_TABLE):
            return {}
        return {str(key): str(value) for key, value in conn.execute(f"SELECT key, value FROM {MARKER_TABLE}")}

    def write(table: Table, rows: Sequence[Row], marks: dict[str, str]) -> None:
        names = ", ".join(_name(column, table.name) for column in table.names)
        marks_sql = ", ".join("?" * len(table.names))
        kinds = [kind for _, kind in table.columns]
        values = [[_written_value(k, v) for k, v in zip(kinds, row, strict=True)] for row in rows]
        try:
            with archive._write():
                conn.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks_sql})', values)
                if table.name == "articles":
                    fts.index(conn, [row[0] for row in rows])
                set_marks(marks)
        except sqlite3.Error as exc:
            raise _translated(display, f"write {table.name} to", exc) from exc

    def mark(marks: dict[str, str]) -> None:
        try:
            with archive._write():
                set_marks(marks)
        except sqlite3.Error as exc:
            raise _translated(display, "write to", exc) from exc

    return CopyTo(
        display=display,
        columns=lambda table: _columns(conn, table),
        count=lambda table: _count(conn, table),
        marker=marker,
        write=write,
        mark=mark,
        index_count=lambda: _count(conn, "articles_fts"),
        settle=lambda: None,  # SQLite plans without statistics the copy would have left stale
        close=archive.close,
    )
