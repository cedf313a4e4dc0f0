"""The exclusive lock on a PostgreSQL archive (issue 16): a session-level advisory lock.

It was one daemon's per archive until workers shared an archive by host leases; `monitor run` on PostgreSQL
no longer takes it. What must write alone still does, through :func:`monitor.store.single_daemon` (``monitor
copy`` into a PostgreSQL archive). It is held on a connection of its own; a second holder is refused with
the first one named, as on SQLite (:mod:`monitor.lock`). The lock dies with its session, so a `kill -9`ed
process never leaves it behind. Readers never take it.

The session also dies when the server restarts (issue 16, item 6), and the lock with it. A keeper thread
looks at the connection every few seconds; when it is gone it connects again (backing off while the server
is away, quietly: the archive logs the outage) and takes the lock again. If another process took it in the
meantime, this one says so and stops, as on SIGTERM: two must not write at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator

import psycopg

from monitor.errors import ArchiveLockedError, StoreError

# pg_try_advisory_lock(bigint): "monitor daemon" folded into one signed 64-bit key, distinct from the
# migrations' transaction lock (schema.py).
DAEMON_LOCK = 0x6D6F6E6461656D6E
APPLICATION = "monitor daemon"
CHECK_EVERY_S = 5.0
"""How often the keeper makes sure that the lock's session is still there."""
RETRY_S = (1.0, 30.0)
"""The keeper's first wait between two connection attempts while the server is away, and its longest."""
CONNECT_TIMEOUT_S = 10

log = logging.getLogger("monitor.store")


def _stop_this_daemon() -> None:
    """This process's own SIGTERM: a daemon stops scheduling and lets running polls finish; a command
    (`monitor copy`) is interrupted, and resumes when run again."""
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def daemon_lock(
    conninfo: str,
    *,
    display: str,
    on_lost: Callable[[], None] = _stop_this_daemon,
    check_every_s: float = CHECK_EVERY_S,
) -> Iterator[None]:
    """Hold the archive's lock while the block runs; ``display`` names the archive in messages (its
    password never shown). ``on_lost`` is called (from the keeper's thread) when the lock's session died
    and another process holds the lock now; by default this process stops as on SIGTERM."""
    try:
        conn = _connect(conninfo, timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise StoreError(f"store: cannot connect to {display}: {_reason(exc)}") from None
    try:
        if not _take(conn):
            raise ArchiveLockedError(f"{_holder(conn)} is already writing to {display}; stop it first")
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"store: daemon lock on {display}: {_reason(exc)}") from None
    except BaseException:
        conn.close()
        raise
    keeper = _Keeper(conn, conninfo, display=display, on_lost=on_lost, check_every_s=check_every_s)
    try:
        yield
    finally:
        keeper._stop()  # closes the session, and its advisory lock ends with it


class _Keeper:
    """Keeps the lock held across the server's restarts (the module's docstring says how)."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        conninfo: str,
        *,
        display: str,
        on_lost: Callable[[], None],
        check_every_s: float,
    ) -> None:
        self._conn: psycopg.Connection[tuple[object, ...]] | None = conn
        self._conninfo = conninfo
        self._display = display
        self._on_lost = on_lost
        self._check_every_s = check_every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor-daemon-lock", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()

    def _run(self) -> None:
        while not self._stopping.wait(self._check_every_s):
            if self._alive():
                continue
            conn = self._reconnect()
            if conn is None:  # stopping
                return
            try:
                taken = _take(conn)
                holder = "" if taken else _holder(conn)
            except psycopg.Error:
                conn.close()  # the server went away again: the next check connects once more
                continue
            if taken:
                self._conn = conn
                log.debug("store: lock on %s taken again after its session ended", self._display)
                continue
            conn.close()
            log.error(
                "store: the lock on %s was lost with its session (the server restarted) and %s holds it "
                "now; stopping",
                self._display,
                holder,
            )
            self._on_lost()
            return

    def _alive(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            with contextlib.suppress(psycopg.Error):
                conn.close()
            self._conn = None
            return False
        return True

    def _reconnect(self) -> psycopg.Connection[tuple[object, ...]] | None:
        """A new session once the server is back, or None when the daemon stops first."""
        wait, longest = RETRY_S
        while not self._stopping.is_set():
            try:
                return _connect(self._conninfo, timeout=CONNECT_TIMEOUT_S)
            except psycopg.Error:
                self._stopping.wait(wait)
                wait = min(wait * 2, longest)
        return None


def _connect(conninfo: str, *, timeout: int) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        conninfo,
        autocommit=True,
        application_name=f"{APPLICATION} pid {os.getpid()}",
        connect_timeout=timeout,
    )


def _take(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", [DAEMON_LOCK]).fetchone()
    return bool(row and row[0])


def _holder(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    """The application name of the session holding the lock (it says ``monitor daemon pid N``)."""
    row = conn.execute(
        "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND (l.classid::bigint << 32 | l.objid::bigint) = %s LIMIT 1",
        [DAEMON_LOCK],
    ).fetchone()
    return str(row[0]) if row and row[0] else "another monitor daemon"


def _reason(exc: psycopg.Error) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
