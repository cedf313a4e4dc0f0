"""The archive on a PostgreSQL server (issue 16), behaving as :class:`~monitor.store.sqlite.SQLiteArchive`.

This class implements the sources' poll state, the daemon's heartbeat, the watches' list and the dedup
lookup; its mixins the poll path (:mod:`.writing`), every reader method (:mod:`.queries`), the alert delivery
queue, claimed per worker (:mod:`.watching`), and re-extraction's writes (:mod:`.reextraction`). Missing:
nothing; it implements both storage Protocols (checked by mypy below, and by a test).

Connections come from a small :class:`psycopg_pool.ConnectionPool` (``POOL_MIN`` to ``POOL_MAX``): a worker's
polls run in one event loop and reach the store one call at a time, so a few connections cover the daemon, its
alerts and a reader thread, while a hundred workers stay within a default server's ``max_connections``.
Each call takes a connection for one transaction and gives it back; a connection found broken is replaced.

When the server goes away (stopped, restarted, cut off), a call fails with :class:`StoreError` and PostgreSQL
rolls its transaction back: nothing is half-written. The archive then asks the server itself, with one direct
connection, rather than waiting out the pool's timeout; while it is away (:mod:`.outage`) calls fail at once,
one attempt is let through at growing intervals, and the log says so once when it goes and once when it is
back. The pool gives up its own reconnecting quickly and grows again on demand once the server answers.

A writer applies the pending migrations at open (under the advisory lock of :mod:`.schema`, so workers
starting together migrate once); a reader refuses a database without the schema or with an older one, and
its sessions are read-only. Every moment is stored as SQLite stores it, in UTC to the second, and read back
in UTC, so that both backends give equal records. psycopg's errors become :class:`StoreError` here, with the
URL's password never in a message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from monitor.config import PostgresURL
from monitor.errors import ArchiveUnavailableError, StoreError
from monitor.models import Heartbeat, KnownEntry, PollState, Source, Watch
from monitor.store.common import STATE_COLUMNS, _poll_state, _same
from monitor.store.postgres.common import brief as _brief
from monitor.store.postgres.common import moment as _moment
from monitor.store.postgres.common import reason as _reason
from monitor.store.postgres.common import translated as _translated
from monitor.store.postgres.common import utc as _utc
from monitor.store.postgres.leases import PostgresLeases
from monitor.store.postgres.outage import Outage
from monitor.store.postgres.queries import PostgresQueries
from monitor.store.postgres.reextraction import PostgresReextraction
from monitor.store.postgres.schema import migrate, pending
from monitor.store.postgres.watching import PostgresAlertQueue
from monitor.store.postgres.writing import PostgresPollWriter
from monitor.timefmt import utc_iso

POOL_MIN = 1
"""Connections kept open while idle: one, so an idle worker costs the server one backend."""
POOL_MAX = 4
"""At most this many at once per process: the poll path, alert delivery, a reader thread, one to spare."""
CONNECT_TIMEOUT_S = 10
"""libpq's ``connect_timeout``: how long one connection attempt waits for a server that does not answer."""
OPEN_TIMEOUT_S = 10.0
"""How long opening waits for the pool's first connection before it gives up with a :class:`StoreError`."""
PROBE_TIMEOUT_S = 3
"""libpq's ``connect_timeout`` when asking whether the server is there (libpq's least is 2 s): the daemon's
calls run on its event loop, so a server that does not answer must not hold it long."""
POOL_RECONNECT_S = 2.0
"""How long the pool keeps replacing a lost connection in the background before it gives up (it would back
off for minutes, and answer nothing in the meantime): the archive's own attempts (:mod:`.outage`) take
over, and the pool grows again on demand."""

log = logging.getLogger("monitor.store")


def _display(url: str) -> str:
    """``url`` (a URL or a libpq ``key=value`` string) with its password shown as ``***``."""
    if "://" in url:
        return PostgresURL(url).display
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "<unreadable PostgreSQL connection string>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **{key: str(value) for key, value in params.items() if value is not None})


def _quiet_pool_log() -> None:
    """psycopg's pool warns at each connection it loses and each attempt that fails: several lines a
    second while the server is away, where :mod:`.outage` says it once. Its errors still show, and a
    level set by the user is kept."""
    pool_log = logging.getLogger("psycopg.pool")
    if pool_log.level == logging.NOTSET:
        pool_log.setLevel(logging.ERROR)


class PostgresArchive(
    PostgresPollWriter, PostgresQueries, PostgresAlertQueue, PostgresReextraction, PostgresLeases
):
    """An archive on a PostgreSQL server, shared by every thread of a process through its pool."""

    def __init__(
        self, url: str | PostgresURL, *, readonly: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """``url`` is a ``postgresql://`` URL or a libpq connection string; the password may also come
        from ``PGPASSWORD`` or ``~/.pgpass``, as libpq reads them. ``clock`` paces the attempts to reach
        a server that went away (:mod:`.outage`)."""
        conninfo = url.url if isinstance(url, PostgresURL) else url
        self.display = _display(conninfo)
        self._conninfo = conninfo
        self._outage = Outage(self.display, clock=clock)
        self.readonly = readonly
        options = "-c TimeZone=UTC" + (" -c default_transaction_read_only=on" if readonly else "")
        session: dict[str, Any] = {
            "options": options,
            "application_name": "monitor",
            "connect_timeout": CONNECT_TIMEOUT_S,
        }
        self._session = session
        _quiet_pool_log()
        try:
            # The first connection is made directly, not by the pool: when the server cannot be reached or
            # refuses us, libpq's own reason is the message (the pool would only say that it timed out).
            first = psycopg.connect(conninfo, **session)
        except psycopg.Error as exc:
            raise StoreError(
                f"store: cannot open archive {self.display}: cannot connect: {_reason(exc)}"
            ) from None
        try:
            with first as conn:
                if readonly:
                    self._check_readable(conn)
                else:
                    applied = migrate(conn)
                    if applied:
                        log.info("store: migrated %s: %s", self.display, ", ".join(applied))
        except psycopg.Error as exc:
            raise StoreError(f"store: cannot open archive {self.display}: {exc}") from exc
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=POOL_MIN,
            max_size=POOL_MAX,
            kwargs=session,
            name="monitor-archive",
            reconnect_timeout=POOL_RECONNECT_S,
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=OPEN_TIMEOUT_S)
        except psycopg.Error as exc:
            self._pool.close()
            raise StoreError(f"store: cannot open archive {self.display}: {exc}") from exc

    def _check_readable(self, conn: psycopg.Connection[Any]) -> None:
        """A reader needs the current schema, as the SQLite reader does; it never migrates."""
        missing = pending(conn)
        if not missing:
            return
        if "0001_initial" in missing:
            raise StoreError(f"store: no archive at {self.display} (run `monitor run` first)")
        raise StoreError(
            f"store: archive {self.display} has an older schema; run `monitor run --once` to upgrade it"
        )

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """One connection of the pool for one transaction: committed at the end, rolled back on an error.
        Raises :class:`StoreError` at once while the server is away (:meth:`_borrow`)."""
        conn = self._borrow()
        try:
            with conn:
                yield conn
        except psycopg.Error as exc:
            if conn.closed:  # the server went away mid-transaction, which it rolled back
                self._ask_server(_brief(exc))
                raise ArchiveUnavailableError(
                    f"store: lost {self.display} mid-transaction ({_brief(exc)}); nothing of it was written"
                ) from exc
            raise
        finally:
            self._pool.putconn(conn)

    def _borrow(self) -> psycopg.Connection[Any]:
        """A working connection of the pool. A connection that fails its check is handed back (the pool
        drops it) and the server is asked directly whether it is there, so that an outage is found by
        one failed connection instead of the pool's timeout."""
        if not self._outage.may_try():
            raise ArchiveUnavailableError(
                f"store: {self.display} unreachable ({self._outage.reason}); waiting for it to come back"
            )
        if self._outage.down:  # the attempt this outage is due: the server, not the pool, which would wait
            self._ask_server(self._outage.reason, raise_down=True)
        for _ in range(POOL_MAX + 1):
            try:
                conn = self._pool.getconn()
            except PoolTimeout as exc:  # the pool is busy, or could not connect: which one, the server says
                self._ask_server(_brief(exc), raise_down=True)
                raise
            try:
                ConnectionPool.check_connection(conn)
            except psycopg.Error as exc:
                self._pool.putconn(conn)  # closed: the pool drops it and connects another
                self._ask_server(_brief(exc), raise_down=True)
                continue  # a connection lost earlier (the server restarted while it sat idle): the next one
            return conn
        raise StoreError(f"store: no working connection to {self.display} in the pool")

    def _ask_server(self, why: str, *, raise_down: bool = False) -> None:
        """Connect once, directly: the server is there (an outage ends) or not (one begins, or goes on;
        with ``raise_down``, a :class:`StoreError` then). ``why`` is what made us ask."""
        try:
            with psycopg.connect(self._conninfo, **{**self._session, "connect_timeout": PROBE_TIMEOUT_S}):
                pass
        except psycopg.Error as exc:
            self._outage.failed(_brief(exc))
            if raise_down:
                raise ArchiveUnavailableError(
                    f"store: {self.display} unreachable ({_brief(exc)}); waiting for it to come back"
                ) from None
            return
        self._outage.recovered()

    # -- sources -----------------------------------------------------------------------------------

    @_translated
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Keep poll state across restarts; a source whose configured address changed starts afresh."""
        rows = [
            {
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "url": source.url,
                "tags": Jsonb(list(source.tags)),
                "language": source.language,
                "enabled": source.enabled,
                "pinned": source.pinned,
                "interval": source.interval_s,
            }
            for source in sources
        ]
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute("UPDATE sources SET in_config = false")
            cur.executemany(
                """
                INSERT INTO sources (id, name, kind, feed, config_url, tags, language, enabled, pinned,
                                     interval_s, in_config)
                VALUES (%(id)s, %(name)s, %(kind)s, %(url)s, %(url)s, %(tags)s, %(language)s, %(enabled)s,
                        %(pinned)s, %(interval)s, true)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, kind = excluded.kind, tags = excluded.tags,
                    language = excluded.language, enabled = excluded.enabled, pinned = excluded.pinned,
                    in_config = true,
                    interval_s = CASE WHEN excluded.pinned OR sources.pinned THEN excluded.interval_s
                                      ELSE sources.interval_s END,
                    -- a changed pinned interval takes effect now, not after the old one runs out
                    next_poll_at = CASE
                        WHEN sources.pinned != excluded.pinned THEN NULL
                        WHEN excluded.pinned AND sources.interval_s != excluded.interval_s THEN NULL
                        ELSE sources.next_poll_at END
                """,
                rows,
            )
            # A new address in the config is a new feed: forget what was learnt about the old one.
            cur.executemany(
                """
                UPDATE sources SET feed = %(url)s, config_url = %(url)s, etag = NULL, last_modified = NULL,
                                   body_hash = NULL, dead = false, not_found_count = 0, next_poll_at = NULL
                WHERE id = %(id)s AND config_url IS DISTINCT FROM %(url)s
                """,
                [{"id": row["id"], "url": row["url"]} for row in rows],
            )

    _STATE_COLUMNS = STATE_COLUMNS

    @staticmethod
    def _state(row: Sequence[Any]) -> PollState:
        return _poll_state(row, _utc, _same)

    @_translated
    def poll_states(self) -> dict[str, PollState]:
        with self._transaction() as conn:
            rows = conn.execute(f"SELECT {self._STATE_COLUMNS} FROM sources WHERE in_config").fetchall()
        return {row[0]: self._state(row) for row in rows}

    @_translated
    def poll_state(self, source: str) -> PollState:
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT {self._STATE_COLUMNS} FROM sources WHERE id = %s", [source]
            ).fetchone()
        return self._state(row) if row is not None else PollState()

    @_translated
    def reschedule(self, next_polls: Mapping[str, datetime]) -> None:
        with self._transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE sources SET next_poll_at = %s WHERE id = %s",
                [(_moment(when), source) for source, when in next_polls.items()],
            )

    @_translated
    def due_sources(self, now: datetime) -> list[str]:
        # Never polled first (PostgreSQL sorts NULLs last unless told), then the most overdue; ties by id,
        # where SQLite leaves them in the order the sources were first configured (its rowid).
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM sources WHERE in_config AND enabled "
                "AND (next_poll_at IS NULL OR next_poll_at <= %s) ORDER BY next_poll_at NULLS FIRST, seq",
                [_moment(now)],
            ).fetchall()
        return [row[0] for row in rows]

    @_translated
    def known_entries(
        self, source: str, guids: Iterable[str], urls: Iterable[str]
    ) -> tuple[dict[str, KnownEntry], dict[str, KnownEntry]]:
        with self._transaction() as conn:
            by_guid = conn.execute(
                "SELECT g.guid, a.id, a.entry_hash FROM entry_guids AS g "
                "JOIN articles AS a ON a.id = g.article_id WHERE g.source = %s AND g.guid = ANY(%s)",
                [source, sorted(set(guids))],
            ).fetchall()
            by_url = conn.execute(
                "SELECT u.url, a.id, a.entry_hash FROM article_urls AS u "
                "JOIN articles AS a ON a.id = u.article_id WHERE u.url = ANY(%s)",
                [sorted(set(urls))],
            ).fetchall()
        return (
            {row[0]: KnownEntry(row[1], row[2]) for row in by_guid},
            {row[0]: KnownEntry(row[1], row[2]) for row in by_url},
        )

    # -- the daemon's sign of life -----------------------------------------------------------------

    @_translated
    def beat(self, *, pid: int, started_at: datetime, now: datetime, version: str) -> None:
        """The daemon's sign of life, read by `monitor check`."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO heartbeat (id, pid, started_at, beat_at, version) VALUES (1, %s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, "
                "beat_at = excluded.beat_at, version = excluded.version",
                [pid, _moment(started_at), _moment(now), version],
            )

    @_translated
    def heartbeat(self) -> Heartbeat | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT pid, started_at, beat_at, version FROM heartbeat WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        return Heartbeat(
            pid=row[0], started_at=str(utc_iso(row[1])), beat_at=str(utc_iso(row[2])), version=row[3]
        )

    # -- watches -----------------------------------------------------------------------------------

    @_translated
    def sync_watches(self, watches: Sequence[Watch]) -> None:
        """Make the ``watches`` table hold the configured watches (their matches are kept)."""
        with self._transaction() as conn, conn.cursor() as cur:
            cur.execute("UPDATE watches SET in_config = false")
            cur.executemany(
                "INSERT INTO watches (id, query, sources, tags, languages, channels, in_config) "
                "VALUES (%s, %s, %s, %s, %s, %s, true) ON CONFLICT (id) DO UPDATE SET "
                "query = excluded.query, sources = excluded.sources, tags = excluded.tags, "
                "languages = excluded.languages, channels = excluded.channels, in_config = true",
                [
                    (
                        watch.id,
                        watch.query,
                        Jsonb(list(watch.sources)),
                        Jsonb(list(watch.tags)),
                        Jsonb(list(watch.languages)),
                        Jsonb(list(watch.channels)),
                    )
                    for watch in watches
                ],
            )


if TYPE_CHECKING:  # mypy proves that the class implements both storage Protocols, method by method
    from monitor.store.base import ArchiveStore

    _IMPLEMENTS: type[ArchiveStore] = PostgresArchive
