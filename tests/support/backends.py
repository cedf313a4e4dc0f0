"""Both archive backends behind one fixture (issue 16): a test that takes ``archive`` runs once on a fresh
SQLite file and once on a fresh PostgreSQL database, and asserts the same results on each. The PostgreSQL
half is marked ``postgres`` and skipped (with how to enable it) when there is no server; the SQLite half runs
regardless.

Tests read through the storage Protocols. ``Backend.execute`` is the one way around them, for setting up a
state that no implemented method can make yet (articles, a learned interval): the same SQL on both, written
with ``%s`` placeholders. Use it sparingly; when ``commit_batch``/``commit_poll`` land on PostgreSQL, a test
should archive through them instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from monitor.store import SQLiteArchive, open_archive
from monitor.store.postgres import PostgresArchive

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

AnyArchive = SQLiteArchive | PostgresArchive
"""An archive of either backend (``ArchiveStore`` once PostgreSQL implements the whole Protocol)."""


@dataclass(frozen=True)
class Backend:
    """Where a test's archive lives: a SQLite file or a PostgreSQL database (a libpq conninfo)."""

    name: str
    location: Path | str

    def open(self, *, readonly: bool = False) -> AnyArchive:
        """The archive opened as the daemon (migrating it) or, with ``readonly``, as a reader."""
        if self.name == "sqlite":
            assert isinstance(self.location, Path)
            opened = open_archive(self.location, readonly=readonly)
            assert isinstance(opened, SQLiteArchive)
            return opened
        assert isinstance(self.location, str)
        return PostgresArchive(self.location, readonly=readonly)

    def execute(self, archive: AnyArchive, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``%s`` placeholders) in its own transaction; its rows, JSON columns decoded and
        booleans as ``bool`` on both backends."""
        if isinstance(archive, SQLiteArchive):
            conn = archive.db.conn
            with conn:
                rows = conn.execute(sql.replace("%s", "?"), list(params)).fetchall()
        else:
            with archive._transaction() as pg:
                cursor = pg.execute(sql.encode(), list(params))
                rows = cursor.fetchall() if cursor.description else []
        return [tuple(_plain(value) for value in row) for row in rows]


def _plain(value: Any) -> Any:
    """A value as both backends can agree on: SQLite's JSON text decoded, its 0/1 flags left to the
    caller (a column's type is not known here), PostgreSQL's values as they are."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh, empty place for an archive on each backend in turn (the PostgreSQL one from
    ``postgres_db``, requested only for the PostgreSQL run)."""
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path / "archive.db")
    return Backend("postgres", request.getfixturevalue("postgres_db"))


@pytest.fixture
def archive(backend: Backend) -> Iterator[AnyArchive]:
    """A fresh archive opened for writing on each backend in turn, closed after the test."""
    opened = backend.open()
    try:
        yield opened
    finally:
        opened.close()
