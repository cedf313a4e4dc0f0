"""The alert delivery queue on PostgreSQL (a mixin of :class:`.archive.PostgresArchive`, issue 16):
``pending_alerts``, ``delivered`` and ``delivery_failed`` with the records and behaviour of the
SQLite queue (:mod:`monitor.store.watching`), shared by many workers so that each delivery is sent by one of
them at a time, and still at least once when a worker dies.

A row lock cannot hold a delivery: it ends with the transaction that read the row, and the alert is sent
after ``pending_alerts`` returns, then marked by ``delivered`` in a later transaction. So ``pending_alerts``
*claims* what it returns, in one statement: it picks the due deliveries ``FOR UPDATE OF d SKIP LOCKED``
(another worker claiming at the same moment skips them instead of waiting) and sets ``claimed_by`` to this
archive's worker id and ``claimed_until`` to ``now`` + :data:`CLAIM_LEASE` (migration ``0002``). Other
workers pass over a delivery while its claim holds; ``delivered`` and ``delivery_failed`` clear it. A worker
that dies holding claims (``kill -9``) stops marking them, and when the lease runs out any worker takes them
again: at least once across crashes, as on SQLite. A worker's own claims are returned to it again on each
call (and the lease renewed), so an e-mail digest it holds back until it is old enough stays with it, and
one worker sees exactly SQLite's queue. Leases are compared with the callers' ``now``, as every moment in the
store is; workers' clocks are assumed to agree to well within a lease.

Marking takes the match's row lock first (in id order), so two workers delivering two channels of one
match serialise and the second sees the first's delivery when it decides whether the match is delivered.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from monitor.models import Alert
from monitor.store.common import _alerts
from monitor.store.postgres.common import moment as _moment
from monitor.store.postgres.common import translated as _translated
from monitor.timefmt import utc_iso

CLAIM_LEASE = timedelta(minutes=5)
"""How long a claim keeps other workers off a delivery: the daemon delivers every few seconds and a send
is bounded by its notifier's timeout, so a live worker marks its claims long before this runs out."""


_CLAIM = """
WITH due AS (
    SELECT d.id FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
    JOIN articles AS a ON a.id = m.article_id JOIN watches AS w ON w.id = m.watch
    WHERE d.delivered_at IS NULL AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= %(now)s)
      AND (d.claimed_until IS NULL OR d.claimed_until <= %(now)s OR d.claimed_by = %(worker)s)
    ORDER BY d.id LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE deliveries AS d SET claimed_by = %(worker)s, claimed_until = %(until)s
FROM due WHERE d.id = due.id
RETURNING d.id
"""

_ALERTS = """
SELECT d.id, m.id, d.channel, m.watch, a.id, a.url, a.source, a.title, a.published_at,
       m.matched_at, w.query, d.attempts, a.text, a.language
FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
JOIN articles AS a ON a.id = m.article_id JOIN watches AS w ON w.id = m.watch
WHERE d.id = ANY(%s) ORDER BY d.id
"""

_LOCK_MATCHES = """
SELECT m.id FROM matches AS m
WHERE m.id IN (SELECT match_id FROM deliveries WHERE id = ANY(%s)) ORDER BY m.id FOR UPDATE
"""

_SETTLE = """
UPDATE matches SET
    attempts = (SELECT sum(attempts) FROM deliveries WHERE match_id = matches.id),
    last_error = (SELECT last_error FROM deliveries WHERE match_id = matches.id
                  AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1),
    delivered_at = CASE WHEN (SELECT count(*) FROM deliveries WHERE match_id = matches.id
                              AND delivered_at IS NULL) = 0 THEN %(at)s END
WHERE id IN (SELECT match_id FROM deliveries WHERE id = ANY(%(ids)s))
"""


class PostgresAlertQueue:
    """``pending_alerts``, ``delivered`` and ``delivery_failed`` of :class:`ArchiveWriter` on PostgreSQL."""

    display: str

    if TYPE_CHECKING:  # provided by PostgresArchive

        @contextlib.contextmanager
        def _transaction(self) -> Iterator[psycopg.Connection[Any]]: ...

    @property
    def _worker(self) -> str:
        """This archive's worker id in ``claimed_by``: host, process and a random part (an archive opened
        twice in one process is two workers)."""
        worker = self.__dict__.get("_worker_id")
        if worker is None:
            made = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            worker = self.__dict__.setdefault("_worker_id", made)  # atomic: one id even when threads race
        return str(worker)

    @_translated
    def pending_alerts(self, now: datetime, *, limit: int = 500) -> list[Alert]:
        """Due deliveries, oldest first, claimed for this worker until ``now`` + :data:`CLAIM_LEASE`."""
        at = _moment(now)
        with self._transaction() as conn:
            claimed = conn.execute(
                _CLAIM,
                {"now": at, "worker": self._worker, "limit": limit, "until": at + CLAIM_LEASE},
            ).fetchall()
            rows = conn.execute(_ALERTS, [[row[0] for row in claimed]]).fetchall() if claimed else []
        return _alerts(rows, utc_iso)

    @_translated
    def delivered(self, delivery_ids: Sequence[int], at: datetime) -> None:
        ids = list(delivery_ids)
        if not ids:
            return
        with self._transaction() as conn:
            conn.execute(_LOCK_MATCHES, [ids])
            conn.execute(
                "UPDATE deliveries SET delivered_at = %s, attempts = attempts + 1, last_error = NULL, "
                "claimed_by = NULL, claimed_until = NULL WHERE id = ANY(%s)",
                [_moment(at), ids],
            )
            conn.execute(_SETTLE, {"at": _moment(at), "ids": ids})

    @_translated
    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime, at: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(_LOCK_MATCHES, [[delivery_id]])
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = %s, next_attempt_at = %s, "
                "claimed_by = NULL, claimed_until = NULL WHERE id = %s",
                [error, _moment(retry_at), delivery_id],
            )
            conn.execute(_SETTLE, {"at": _moment(at), "ids": [delivery_id]})
