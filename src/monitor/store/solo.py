"""One daemon, every host (issue 16): what a SQLite archive answers to the questions of workers sharing an
archive. Its daemon holds the archive's lock (:mod:`monitor.lock`), so it is the only worker: it holds every
host it asks for, paces hosts in its own process (:class:`monitor.fetch.politeness.HostGate`), and
``monitor workers`` shows it from its heartbeat."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.models import LEASE_S, HostSlot, WorkerStatus
from monitor.schedule import feed_host
from monitor.store.common import _time, _translated, iso


class SoloDaemon:
    """The worker side of :class:`monitor.store.base.ArchiveWriter` for an archive with one daemon."""

    db: Any

    @property
    def shared(self) -> bool:
        return False

    def join_worker(
        self, worker: str, *, hostname: str, pid: int, version: str, lease_s: float, daemon: bool
    ) -> None:
        """Nothing to register: the daemon's lock and heartbeat say it all."""

    def renew_leases(
        self,
        worker: str,
        hosts: Collection[str],
        *,
        busy: Collection[str] = (),
        polled: int = 0,
        balance: bool = True,
    ) -> frozenset[str]:
        return frozenset(hosts)

    def release_leases(self, worker: str, hosts: Collection[str] | None = None) -> None:
        """Nothing is leased."""

    def leave_worker(self, worker: str) -> None:
        """Nothing is leased."""

    def take_host_slot(
        self, host: str, worker: str, *, per_host: int, delay_s: float, hold_s: float
    ) -> HostSlot | None:
        return HostSlot(0, 0.0, delay_s)  # the daemon's own HostGate paces its hosts

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
        """The daemon's own HostGate paces its hosts."""

    @_translated
    def workers(self, now: datetime) -> list[WorkerStatus]:
        row = self.db.execute(
            "SELECT pid, started_at, beat_at, version FROM heartbeat WHERE id = 1"
        ).fetchone()
        if row is None:
            return []
        beat_at = _time(row[2])
        live = beat_at is not None and now - beat_at <= timedelta(seconds=LEASE_S)
        hosts = self._hosts() if live else ()
        since = iso(now - timedelta(hours=1))
        polls = self.db.execute(
            "SELECT count(*) FROM fetches WHERE kind = 'feed' AND at >= ?", [since]
        ).fetchone()[0]
        return [
            WorkerStatus(
                id=f"daemon-{row[0]}",
                hostname="",
                pid=row[0],
                version=row[3] or "",
                started_at=row[1],
                beat_at=row[2],
                live=live,
                hosts=hosts,
                polls_last_hour=int(polls),
            )
        ]

    @_translated
    def host_holders(self) -> dict[str, str]:
        now = datetime.now(UTC)
        return {host: worker.id for worker in self.workers(now) if worker.live for host in worker.hosts}

    def _hosts(self) -> tuple[str, ...]:
        rows = self.db.execute("SELECT feed FROM sources WHERE in_config AND enabled").fetchall()
        return tuple(sorted({feed_host(row[0]) for row in rows if row[0]}))
