"""SQLite archive through sqlite-utils: schema, migrations, atomic commits, search.

WAL mode so that readers (``monitor search``, Datasette) never block the daemon and the daemon never blocks
them; ``busy_timeout`` for the moments two writers meet. A poll writes its new articles in batches
(``commit_batch``) and its source's state last (``commit_poll``), each one transaction: after a crash
(``kill -9`` included) the archive holds each commit whole or not at all, and a poll keeps the batches it
wrote. Duplicates are refused by unique indexes and ``ON CONFLICT`` clauses, never by check-then-insert.

:class:`SQLiteArchive` opens the file and keeps the sources' poll state; it composes the rest by concern:
the poll's writes (:mod:`.writing`), reads (:mod:`.queries`), watches and alerts (:mod:`.watching`) and
re-extraction (:mod:`.reextraction`). Only :func:`monitor.store.open_archive` names it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from monitor.errors import StoreError
from monitor.models import (
    Channel,
    PollState,
    Source,
)
from monitor.store import fts
from monitor.store.common import STATE_COLUMNS, _poll_state, _time, _translated, iso
from monitor.store.queries import ArchiveQueries
from monitor.store.reextraction import ReextractionStore
from monitor.store.schema import MIGRATIONS
from monitor.store.solo import SoloDaemon
from monitor.store.watching import WatchStore
from monitor.store.writing import PollWriter

BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 10_000

log = logging.getLogger("monitor.store")


def _log_index_progress(done: int, total: int) -> None:
    """The search index rebuild's progress, on stderr through the log (a line per ~5%)."""
    step = max(total // 20, 1)
    if done == total or done % step < fts.BATCH:
        log.info("store: building the search index: %d/%d articles", done, total)


class SQLiteArchive(PollWriter, ReextractionStore, ArchiveQueries, WatchStore, SoloDaemon):
    """The archive in one SQLite file. One instance per thread; not shared across processes."""

    def __init__(
        self, path: Path | str, *, readonly: bool = False, index_progress: fts.Progress | None = None
    ) -> None:
        """``index_progress`` hears how a rebuild of the search index goes (a new archive schema or
        normaliser); by default it is logged."""
        self.path = Path(path)
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"store: no archive at {self.path} (run `monitor run` first)")
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self.db = Database(conn)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = Database(self.path)
                self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self.db.enable_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")
                # Fold the WAL back every ~40 MB rather than every 4 MB: a page dirtied by many polls is
                # written back once, and commits pay fewer checkpoints (-20% per article at 10k and 1M, D36).
                self.db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
                self.db.execute("PRAGMA foreign_keys = ON")
                fts.register(self.db.conn)
                MIGRATIONS.apply(self.db)
                fts.rebuild_if_stale(self.db.conn, self._write, index_progress or _log_index_progress)
        except sqlite3.Error as exc:
            raise StoreError(f"store: cannot open archive {self.path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"store: cannot create archive folder for {self.path}: {exc}") from exc
        if readonly:
            self._check_readable()

    def _check_readable(self) -> None:
        """A reader needs the current schema; a search index being rebuilt is only a warning."""
        try:
            if MIGRATIONS.pending(self.db):
                raise StoreError(
                    f"store: archive {self.path} has an older schema; run `monitor run --once` to upgrade it"
                )
            current = fts.is_current(self.db.conn)
        except (sqlite3.Error, StoreError) as exc:  # not an archive, a half-made one, or an old one
            self.db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"store: cannot open archive {self.path}: {exc}") from exc
        if not current:
            log.warning(
                "store: the search index of %s is being rebuilt (by `monitor run`); until it is done, "
                "searches find only the articles indexed so far",
                self.path,
            )

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """A write transaction that takes the write lock at once (``BEGIN IMMEDIATE``), so it waits for
        another writer through ``busy_timeout`` instead of failing later on a stale snapshot."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")

    # -- sources -----------------------------------------------------------------------------------

    @_translated
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Keep poll state across restarts; a source whose configured address changed starts afresh."""
        with self._write():
            self.db.execute("UPDATE sources SET in_config = 0")
            for source in sources:
                self.db.execute(
                    """
                    INSERT INTO sources (id, name, kind, feed, config_url, tags, language, enabled, pinned,
                                         interval_s, in_config)
                    VALUES (:id, :name, :kind, :url, :url, :tags, :language, :enabled, :pinned, :interval, 1)
                    ON CONFLICT (id) DO UPDATE SET
                        name = excluded.name, kind = excluded.kind, tags = excluded.tags,
                        language = excluded.language, enabled = excluded.enabled, pinned = excluded.pinned,
                        in_config = 1,
                        interval_s = CASE WHEN excluded.pinned OR sources.pinned THEN excluded.interval_s
                                          ELSE sources.interval_s END,
                        -- a changed pinned interval takes effect now, not after the old one runs out
                        next_poll_at = CASE
                            WHEN sources.pinned != excluded.pinned THEN NULL
                            WHEN excluded.pinned AND sources.interval_s != excluded.interval_s THEN NULL
                            ELSE sources.next_poll_at END
                    """,
                    {
                        "id": source.id,
                        "name": source.name,
                        "kind": source.kind,
                        "url": source.url,
                        "tags": json.dumps(list(source.tags)),
                        "language": source.language,
                        "enabled": int(source.enabled),
                        "pinned": int(source.pinned),
                        "interval": source.interval_s,
                    },
                )
                # A new address in the config is a new feed: forget what was learnt about the old one.
                self.db.execute(
                    """
                    UPDATE sources SET feed = :url, config_url = :url, etag = NULL, last_modified = NULL,
                                       body_hash = NULL, dead = 0, not_found_count = 0, next_poll_at = NULL
                    WHERE id = :id AND config_url IS NOT :url
                    """,
                    {"id": source.id, "url": source.url},
                )

    _STATE_COLUMNS = STATE_COLUMNS

    @staticmethod
    def _state(row: Sequence[Any]) -> PollState:
        return _poll_state(row, _time, json.loads)

    @_translated
    def poll_states(self) -> dict[str, PollState]:
        rows = self.db.execute(f"SELECT {self._STATE_COLUMNS} FROM sources WHERE in_config = 1").fetchall()
        return {row[0]: self._state(row) for row in rows}

    @_translated
    def poll_state(self, source: str) -> PollState:
        row = self.db.execute(f"SELECT {self._STATE_COLUMNS} FROM sources WHERE id = ?", [source]).fetchone()
        return self._state(row) if row is not None else PollState()

    @_translated
    def reschedule(self, next_polls: Mapping[str, datetime]) -> None:
        with self._write():
            for source, when in next_polls.items():
                self.db.execute("UPDATE sources SET next_poll_at = ? WHERE id = ?", [iso(when), source])

    @_translated
    def due_sources(self, now: datetime) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM sources WHERE in_config = 1 AND enabled = 1 "
            "AND (next_poll_at IS NULL OR next_poll_at <= ?) ORDER BY next_poll_at IS NOT NULL, next_poll_at",
            [iso(now)],
        )
        return [row[0] for row in rows]

    # -- reading -----------------------------------------------------------------------------------

    @_translated
    def channel(self, source: str) -> Channel:
        """The title and language the source's feed channel last declared (``extract --explain``)."""
        row = self.db.execute(
            "SELECT channel_title, channel_language FROM articles WHERE source = ? "
            "AND (channel_title IS NOT NULL OR channel_language IS NOT NULL) ORDER BY id DESC LIMIT 1",
            [source],
        ).fetchone()
        return Channel(row[0], row[1]) if row is not None else Channel(None, None)

    @_translated
    def beat(self, *, pid: int, started_at: datetime, now: datetime, version: str) -> None:
        """The daemon's sign of life, read by `monitor check`."""
        with self._write():
            self.db.execute(
                "INSERT INTO heartbeat (id, pid, started_at, beat_at, version) VALUES (1, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
                "beat_at = excluded.beat_at, version = excluded.version",
                [pid, iso(started_at), iso(now), version],
            )
