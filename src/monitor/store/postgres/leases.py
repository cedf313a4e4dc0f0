"""Workers sharing one PostgreSQL archive (a mixin of :class:`.archive.PostgresArchive`, issue 16).

Each `monitor run` is a worker with a row in ``workers`` (heartbeat ``beat_at``, its ``lease_s``).

*Feed hosts are leased.* One worker at a time polls the feeds of a host: ``host_leases`` holds each host's
worker and ``expires_at``. :meth:`renew_leases` runs every third of a lease in one transaction: it extends
this worker's leases, computes its share (:func:`monitor.schedule.host_share`: ⌊H/W⌋ or ⌈H/W⌉ of the H hosts
among the W live daemon workers, the same split in every worker), hands back the hosts beyond it (not one
being polled) and takes free or expired ones up to it with ``FOR UPDATE SKIP LOCKED``, so two workers never
take one host and neither waits for the other. A worker killed with ``-9`` stops renewing: its leases expire
and its heartbeat ages out of W within one lease, and the others take its hosts at their next renewal (within
two leases); a stopped one (SIGTERM) hands them back at once (:meth:`leave_worker`).

*Every host is paced across workers*, feed hosts and page hosts alike (article pages are often on a shared
host: a CDN, a wire's site): ``host_slots`` holds ``per_host`` request slots per host, each taken for at most
a request's deadline (so a dead worker's slot frees itself), and ``host_pace`` the next moment a request to
the host may start and the host's delay (doubled by a 429, halved back by successes), advanced atomically
by whoever takes a slot. All times are the server's ``now()``, so workers whose clocks differ agree.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from monitor.errors import ArchiveLockedError, StoreError
from monitor.models import HostSlot, WorkerStatus
from monitor.schedule import host_share
from monitor.store.postgres.common import translated as _translated
from monitor.timefmt import utc_iso

MAX_HOST_DELAY_S = 60.0
STOPPED_SHOWN = timedelta(hours=1)
"""How long ``monitor workers`` keeps showing a worker that stopped or died."""
POLLS_KEPT = timedelta(days=1)


_LIVE = "stopped_at IS NULL AND beat_at > now() - make_interval(secs => lease_s)"

_TAKE_FREE = """
WITH free AS (
    SELECT host FROM host_leases
    WHERE host = ANY(%(hosts)s) AND (worker IS NULL OR expires_at <= now())
    ORDER BY host LIMIT %(wanted)s
    FOR UPDATE SKIP LOCKED
)
UPDATE host_leases AS l SET worker = %(worker)s, expires_at = now() + make_interval(secs => %(lease)s)
FROM free WHERE l.host = free.host
RETURNING l.host
"""

_TAKE_SLOT = """
WITH free AS (
    SELECT slot FROM host_slots
    WHERE host = %(host)s AND slot < %(per_host)s AND (worker IS NULL OR expires_at <= now())
    ORDER BY slot LIMIT 1
    FOR UPDATE SKIP LOCKED
)
UPDATE host_slots AS s SET worker = %(worker)s, expires_at = now() + make_interval(secs => %(hold)s)
FROM free WHERE s.host = %(host)s AND s.slot = free.slot
RETURNING s.slot
"""

_PACE = """
INSERT INTO host_pace AS p (host, next_start, delay_s)
VALUES (%(host)s, now() + make_interval(secs => %(delay)s), %(delay)s)
ON CONFLICT (host) DO UPDATE
    SET next_start = greatest(p.next_start, now()) + make_interval(secs => p.delay_s)
RETURNING extract(epoch FROM p.next_start - now()) - p.delay_s, p.delay_s
"""


class PostgresLeases:
    """The worker side of :class:`ArchiveWriter` (and ``workers``/``host_holders`` of the reader)."""

    display: str

    if TYPE_CHECKING:  # provided by PostgresArchive

        @contextlib.contextmanager
        def _transaction(self) -> Iterator[psycopg.Connection[Any]]: ...

    @property
    def shared(self) -> bool:
        return True

    @_translated
    def join_worker(
        self, worker: str, *, hostname: str, pid: int, version: str, lease_s: float, daemon: bool
    ) -> None:
        with self._transaction() as conn:
            copy = conn.execute("SELECT to_regclass('monitor_copy') IS NOT NULL").fetchone()
            copying = copy == (True,) and conn.execute(
                "SELECT NOT EXISTS (SELECT 1 FROM monitor_copy WHERE key = 'finished_at')"
            ).fetchone() == (True,)
            if copying:
                raise ArchiveLockedError(
                    f"store: a `monitor copy` into {self.display} has not finished; run it again to finish "
                    "it before starting workers on this archive"
                )
            conn.execute(
                "INSERT INTO workers (id, hostname, pid, version, daemon, lease_s) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET beat_at = now(), "
                "stopped_at = NULL, lease_s = excluded.lease_s",
                [worker, hostname, pid, version, daemon, lease_s],
            )
            # the rows of workers gone for a day are of no use to anyone
            conn.execute("DELETE FROM worker_polls WHERE at < now() - %s", [POLLS_KEPT])
            conn.execute(
                "DELETE FROM workers WHERE coalesce(stopped_at, beat_at) < now() - %s "
                "AND id NOT IN (SELECT worker FROM host_leases WHERE worker IS NOT NULL)",
                [POLLS_KEPT],
            )

    @_translated
    def renew_leases(
        self,
        worker: str,
        hosts: Collection[str],
        *,
        busy: Collection[str] = (),
        polled: int = 0,
        balance: bool = True,
    ) -> frozenset[str]:
        wanted_hosts = sorted(set(hosts))
        with self._transaction() as conn:
            row = conn.execute(
                "UPDATE workers SET beat_at = now(), stopped_at = NULL WHERE id = %s RETURNING lease_s",
                [worker],
            ).fetchone()
            if row is None:
                raise StoreError(f"store: worker {worker} is not registered on {self.display}")
            lease = float(row[0])
            if polled:
                conn.execute("INSERT INTO worker_polls (worker, polls) VALUES (%s, %s)", [worker, polled])
            conn.execute(
                "INSERT INTO host_leases (host) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
                [wanted_hosts],
            )
            held = {
                r[0]
                for r in conn.execute(
                    "UPDATE host_leases SET expires_at = now() + make_interval(secs => %s) "
                    "WHERE worker = %s AND expires_at > now() AND host = ANY(%s) RETURNING host",
                    [lease, worker, wanted_hosts],
                )
            }
            # hosts no longer asked for (or whose lease ran out under us) are given back
            conn.execute(
                "UPDATE host_leases SET worker = NULL, expires_at = '-infinity' "
                "WHERE worker = %s AND NOT (host = ANY(%s))",
                [worker, sorted(held)],
            )
            if balance:
                live = [r[0] for r in conn.execute(f"SELECT id FROM workers WHERE daemon AND {_LIVE}")]
                share = host_share(len(wanted_hosts), live, worker)
            else:
                share = len(wanted_hosts)
            if len(held) > share:
                spare = sorted(held - set(busy), reverse=True)[: len(held) - share]
                conn.execute(
                    "UPDATE host_leases SET worker = NULL, expires_at = '-infinity' "
                    "WHERE worker = %s AND host = ANY(%s)",
                    [worker, spare],
                )
                held -= set(spare)
            elif len(held) < share:
                taken = conn.execute(
                    _TAKE_FREE,
                    {"hosts": wanted_hosts, "wanted": share - len(held), "worker": worker, "lease": lease},
                ).fetchall()
                held |= {r[0] for r in taken}
        return frozenset(held)

    @_translated
    def release_leases(self, worker: str, hosts: Collection[str] | None = None) -> None:
        with self._transaction() as conn:
            if hosts is None:
                conn.execute(
                    "UPDATE host_leases SET worker = NULL, expires_at = '-infinity' WHERE worker = %s",
                    [worker],
                )
            else:
                conn.execute(
                    "UPDATE host_leases SET worker = NULL, expires_at = '-infinity' "
                    "WHERE worker = %s AND host = ANY(%s)",
                    [worker, sorted(hosts)],
                )

    @_translated
    def leave_worker(self, worker: str) -> None:
        with self._transaction() as conn:
            conn.execute(
                "UPDATE host_leases SET worker = NULL, expires_at = '-infinity' WHERE worker = %s", [worker]
            )
            conn.execute(
                "UPDATE host_slots SET worker = NULL, expires_at = '-infinity' WHERE worker = %s", [worker]
            )
            conn.execute("UPDATE workers SET stopped_at = now() WHERE id = %s", [worker])

    @_translated
    def take_host_slot(
        self, host: str, worker: str, *, per_host: int, delay_s: float, hold_s: float
    ) -> HostSlot | None:
        with self._transaction() as conn:
            params = {"host": host, "per_host": per_host, "worker": worker, "hold": hold_s}
            taken = conn.execute(_TAKE_SLOT, params).fetchone()
            if taken is None:
                created = conn.execute(
                    "INSERT INTO host_slots (host, slot) SELECT %s, g FROM generate_series(0, %s - 1) AS g "
                    "ON CONFLICT DO NOTHING",
                    [host, per_host],
                )
                if not created.rowcount:
                    return None
                taken = conn.execute(_TAKE_SLOT, params).fetchone()
                if taken is None:
                    return None
            pace = conn.execute(_PACE, {"host": host, "delay": delay_s}).fetchone()
            assert pace is not None
        return HostSlot(int(taken[0]), max(0.0, float(pace[0])), float(pace[1]))

    @_translated
    def release_host_slot(
        self,
        host: str,
        slot: int,
        worker: str,
        *,
        slow_down: bool,
        base_delay_s: float,
        started_ago_s: float | None = None,
    ) -> None:
        with self._transaction() as conn:
            if started_ago_s is not None:
                conn.execute(
                    "UPDATE host_pace SET next_start = greatest(next_start, "
                    "now() - make_interval(secs => %s) + make_interval(secs => delay_s)) WHERE host = %s",
                    [started_ago_s, host],
                )
            conn.execute(
                "UPDATE host_slots SET worker = NULL, expires_at = '-infinity' "
                "WHERE host = %s AND slot = %s AND worker = %s",
                [host, slot, worker],
            )
            if slow_down:
                conn.execute(
                    "UPDATE host_pace SET delay_s = least(greatest(delay_s * 2, 1.0), %s) WHERE host = %s",
                    [MAX_HOST_DELAY_S, host],
                )
            else:
                conn.execute(
                    "UPDATE host_pace SET delay_s = greatest(%s, delay_s / 2) "
                    "WHERE host = %s AND delay_s > %s",
                    [base_delay_s, host, base_delay_s],
                )

    @_translated
    def workers(self, now: datetime) -> list[WorkerStatus]:
        with self._transaction() as conn:
            rows = conn.execute(
                f"""
                SELECT w.id, w.hostname, w.pid, w.version, w.started_at, w.beat_at, w.stopped_at,
                       ({_LIVE}) AS live,
                       coalesce((SELECT array_agg(host ORDER BY host) FROM host_leases AS l
                                 WHERE l.worker = w.id AND l.expires_at > now()), '{{}}'),
                       coalesce((SELECT sum(polls) FROM worker_polls AS p
                                 WHERE p.worker = w.id AND p.at > now() - interval '1 hour'), 0)
                FROM workers AS w
                WHERE ({_LIVE}) OR coalesce(w.stopped_at, w.beat_at) > now() - %s
                ORDER BY w.started_at, w.id
                """,
                [STOPPED_SHOWN],
            ).fetchall()
        return [
            WorkerStatus(
                id=row[0],
                hostname=row[1],
                pid=row[2],
                version=row[3],
                started_at=str(utc_iso(row[4])),
                beat_at=str(utc_iso(row[5])),
                live=bool(row[7]),
                hosts=tuple(row[8]) if row[7] else (),
                polls_last_hour=int(row[9]),
                stopped_at=utc_iso(row[6]) if row[6] is not None else None,
            )
            for row in rows
        ]

    @_translated
    def host_holders(self) -> dict[str, str]:
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT l.host, l.worker FROM host_leases AS l JOIN workers AS w ON w.id = l.worker "
                f"WHERE l.expires_at > now() AND {_LIVE}"
            ).fetchall()
        return {row[0]: row[1] for row in rows}
