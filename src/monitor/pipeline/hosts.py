"""A worker's share of an archive that several workers poll together (issue 16).

:class:`HostLeases` keeps this worker's leases on the feed hosts of its sources (renewed every third of a
lease; the daemon polls only the sources whose feed host it holds). :class:`SharedHostGate` holds each
request to a host, feed or page, in one of the host's slots across all workers and starts it no sooner than
the host's delay after the last start by any of them. The decisions are the store's, in one transaction
each (:mod:`monitor.store.postgres.leases`); on a SQLite archive, whose one daemon holds every host, the
leases hold everything and the fetcher keeps its own :class:`HostGate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable

from monitor._version import __version__
from monitor.errors import FetchError, MonitorError, StoreError
from monitor.fetch.politeness import HostGate
from monitor.models import Source
from monitor.schedule import feed_host
from monitor.store import ArchiveWriter

log = logging.getLogger("monitor.workers")

RENEWALS_PER_LEASE = 3
SLOT_RETRY_S = (0.05, 0.5)
"""How long a request waits before asking again for a slot of a host whose slots are all held (growing
from the first to the second)."""
MAX_SLOT_WAIT_S = 60.0
"""A slot's pacing wait is at most the host's largest delay (a 429's doubling stops at a minute)."""


def new_worker_id() -> str:
    """``host:pid:random``: readable in ``monitor workers``, and unique even when a container's pid is 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class HostLeases:
    """This worker's leases on the feed hosts of the sources it polls."""

    def __init__(
        self,
        store: ArchiveWriter,
        *,
        lease_s: float,
        daemon: bool,
        worker: str | None = None,
    ) -> None:
        self.store = store
        self.worker = worker or new_worker_id()
        self.lease_s = lease_s
        self.daemon = daemon
        self.held: frozenset[str] = frozenset()
        self._polled = 0
        self._count = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def shared(self) -> bool:
        return self.store.shared

    def join(self) -> None:
        self.store.join_worker(
            self.worker,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
            lease_s=self.lease_s,
            daemon=self.daemon,
        )
        if self.shared:
            log.info("workers: worker %s joined (lease %gs)", self.worker, self.lease_s)

    def polled(self) -> None:
        """Count one poll (written at the next renewal, for ``monitor workers``)."""
        with self._count:
            self._polled += 1

    def renew(self, sources: Iterable[Source], *, busy: Iterable[Source] = ()) -> frozenset[str]:
        """Renew now and rebalance (``busy``: the sources being polled, whose hosts are kept); the hosts
        held."""
        hosts = {feed_host(source.url) for source in sources}
        before = self.held
        with self._count:
            polled, self._polled = self._polled, 0
        try:
            self.held = self.store.renew_leases(
                self.worker,
                hosts,
                busy={feed_host(source.url) for source in busy},
                polled=polled,
                balance=self.daemon,
            )
        except MonitorError:
            with self._count:
                self._polled += polled
            raise
        if self.shared and self.held != before:
            gained, lost = sorted(self.held - before), sorted(before - self.held)
            log.info(
                "workers: %s holds %d of %d hosts (+%s -%s)",
                self.worker, len(self.held), len(hosts), ",".join(gained) or "none", ",".join(lost) or "none",
            )  # fmt: skip
        return self.held

    def keep_renewing(
        self, sources: Callable[[], Iterable[Source]], busy: Callable[[], Iterable[Source]]
    ) -> None:
        """Renew from a thread of its own every third of a lease (the daemon's), so that a worker whose
        event loop is slow for a while (pages to extract, a long commit) does not lose its hosts to the
        others while it still polls them; only a worker that stops or dies does."""

        def renew() -> None:
            while not self._stop.wait(self.lease_s / RENEWALS_PER_LEASE):
                try:
                    self.renew(sources(), busy=busy())
                except MonitorError as exc:  # the archive is unreachable: the store says so, once
                    log.debug("workers: renewal failed: %s", exc)

        self._renewer = threading.Thread(target=renew, name="monitor-leases", daemon=True)
        self._renewer.start()

    def holds(self, source: Source) -> bool:
        return feed_host(source.url) in self.held

    def release(self, sources: Collection[Source]) -> None:
        hosts = {feed_host(source.url) for source in sources}
        self.store.release_leases(self.worker, hosts)
        self.held -= hosts

    def leave(self) -> None:
        """Hand every lease and host slot back at once, and mark this worker stopped."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        self.store.leave_worker(self.worker)
        self.held = frozenset()
        if self.shared:
            log.info("workers: worker %s left; its hosts are free for the others", self.worker)


class SharedHostGate:
    """The fetcher's per-host limits held across all workers of a shared archive: this process's own
    :class:`HostGate` first (so requests of one worker queue here, not in the database), then one of the
    host's slots in the archive, then the wait the archive's pace gives."""

    def __init__(
        self, store: ArchiveWriter, worker: str, *, per_host: int, delay_s: float, deadline_s: float
    ) -> None:
        self.store = store
        self.worker = worker
        self.per_host = per_host
        self.delay_s = delay_s
        self.local = HostGate(per_host=per_host, delay_s=delay_s)
        # a slot frees itself after this if its worker dies mid-request
        self.hold_s = deadline_s + MAX_SLOT_WAIT_S + 10.0
        self._held: dict[str, set[int]] = {}
        """The slots this worker's requests hold now, by host."""
        self._unreleased: dict[str, set[int]] = {}
        """Slots whose release failed (the archive was away): still this worker's in the archive until their
        hold runs out, a minute and more; freed before this worker next takes a slot of the host."""
        self._taking: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        async with self.local.slot(host):
            retry = SLOT_RETRY_S[0]
            while True:
                async with self._taking.setdefault(host, asyncio.Lock()):
                    # one take at a time per host in this process, after the stale releases: a slot number
                    # freed here cannot be one this process has just taken again
                    await self._release_unreleased(host)
                    taken = await asyncio.to_thread(
                        self.store.take_host_slot,
                        host,
                        self.worker,
                        per_host=self.per_host,
                        delay_s=self.delay_s,
                        hold_s=self.hold_s,
                    )
                    if taken is not None:
                        self._held.setdefault(host, set()).add(taken.slot)
                        self._unreleased.get(host, set()).discard(taken.slot)  # its hold had run out
                        break
                await asyncio.sleep(retry)
                retry = min(retry * 2, SLOT_RETRY_S[1])
            slowed = False
            started: float | None = None
            try:
                if taken.wait_s > 0:
                    await asyncio.sleep(min(taken.wait_s, MAX_SLOT_WAIT_S))
                started = time.monotonic()
                yield
            except FetchError as exc:
                slowed = exc.status == 429
                raise
            finally:
                ago = time.monotonic() - started if started is not None else None
                await asyncio.shield(self._release(host, taken.slot, slowed=slowed, started_ago_s=ago))

    async def _release(self, host: str, slot: int, *, slowed: bool, started_ago_s: float | None) -> None:
        self._held.get(host, set()).discard(slot)
        try:
            await self._give_back(host, slot, slowed=slowed, started_ago_s=started_ago_s)
        except StoreError as exc:  # freed at this worker's next take of the host, or when its hold runs out
            self._unreleased.setdefault(host, set()).add(slot)
            log.debug("workers: slot of %s not released: %s", host, exc)

    async def _release_unreleased(self, host: str) -> None:
        """Free the slots of ``host`` whose release failed and that no request of this worker holds again (a
        database restart mid-request left them held: up to every slot of the host, for a minute and more,
        stalling this worker's next poll of it)."""
        for slot in sorted(self._unreleased.get(host, set()) - self._held.get(host, set())):
            try:
                await self._give_back(host, slot, slowed=False, started_ago_s=None)
            except StoreError:
                return  # still away: the take that follows says so
            self._unreleased[host].discard(slot)

    async def _give_back(self, host: str, slot: int, *, slowed: bool, started_ago_s: float | None) -> None:
        await asyncio.to_thread(
            self.store.release_host_slot,
            host,
            slot,
            self.worker,
            slow_down=slowed,
            base_delay_s=self.delay_s,
            started_ago_s=started_ago_s,
        )

    def slow_down(self, host: str) -> None:
        self.local.slow_down(host)

    def recover(self, host: str) -> None:
        self.local.recover(host)
