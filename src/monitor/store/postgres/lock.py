"""One daemon per PostgreSQL archive, until workers share one by leases (issue 16, item 3).

Several `monitor run` processes on one PostgreSQL archive would each poll every source: the archive would
still hold each article once (the URL table's primary key), but every outlet would be polled once per
process, which is exactly what per-host politeness forbids. Until sources are leased by host, a daemon holds
a session-level advisory lock on a connection of its own for its whole life; a second daemon is refused with
the holder named, as on SQLite (:mod:`monitor.lock`). The lock dies with its session, so a `kill -9`ed
daemon never leaves it behind. Readers never take it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg

from monitor.errors import ArchiveLockedError, StoreError

# pg_try_advisory_lock(bigint): "monitor daemon" folded into one signed 64-bit key, distinct from the
# migrations' transaction lock (schema.py).
DAEMON_LOCK = 0x6D6F6E6461656D6E
APPLICATION = "monitor daemon"


@contextlib.contextmanager
def daemon_lock(conninfo: str, *, display: str) -> Iterator[None]:
    """Hold the archive's daemon lock while the block runs; ``display`` names the archive in messages
    (its password never shown)."""
    try:
        conn = psycopg.connect(
            conninfo, autocommit=True, application_name=f"{APPLICATION} pid {os.getpid()}", connect_timeout=10
        )
    except psycopg.Error as exc:
        raise StoreError(f"store: cannot connect to {display}: {_reason(exc)}") from None
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [DAEMON_LOCK]).fetchone()
        if not row or not row[0]:
            holder = conn.execute(
                "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND (l.classid::bigint << 32 | l.objid::bigint) = %s LIMIT 1",
                [DAEMON_LOCK],
            ).fetchone()
            who = holder[0] if holder and holder[0] else "another monitor daemon"
            raise ArchiveLockedError(
                f"{who} is already writing to {display}; stop it first (several workers on one "
                "PostgreSQL archive need the leases of issue 16, not there yet)"
            )
        yield
    except psycopg.Error as exc:
        raise StoreError(f"store: daemon lock on {display}: {_reason(exc)}") from None
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.close()  # the session ends, and its advisory lock with it


def _reason(exc: psycopg.Error) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
