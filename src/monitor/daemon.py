"""The daemon: APScheduler (the only module that imports it) ticks; the archive says what is due.

Scheduling state lives in the archive (``sources.next_poll_at``), as in miniflux: the scheduler only ticks
and asks which sources are due, so a restart resumes where the last run stopped. ``run_once`` polls each
source once (``monitor run --once``), ``run_due`` polls what is due and returns (``--due``), and
``run_forever`` keeps polling until SIGINT/SIGTERM, then lets in-flight polls finish (or cancels them after
a grace period). A poll writes its articles in batches as it goes, and its source's state last: a cancelled
poll writes the pages it has fetched as one last batch and leaves the state alone, so its next poll fetches
only the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor._version import __version__
from monitor.alerts import resolve_watches
from monitor.config import ArchiveLocation, PostgresURL, Settings
from monitor.errors import ArchiveUnavailableError, MonitorError, StoreError, UnknownSourceError
from monitor.fetch import Fetcher
from monitor.metrics import Metrics
from monitor.models import PollReport, Source
from monitor.pipeline import Pipeline, utcnow
from monitor.pipeline.hosts import RENEWALS_PER_LEASE, HostLeases, SharedHostGate
from monitor.schedule import feed_host
from monitor.store import open_archive, single_daemon
from monitor.workers import Extractor, ProcessPoolExtractor

log = logging.getLogger("monitor.daemon")

TICK_S = 1.0
DELIVERY_EVERY_S = 5.0
ONCE_DELIVERY_S = 30.0
HEARTBEAT_S = 15.0


@contextlib.asynccontextmanager
async def open_pipeline(
    settings: Settings, *, extractor: Extractor | None = None, daemon: bool = True
) -> AsyncIterator[tuple[Pipeline, HostLeases]]:
    """Open the archive, the HTTP client and the extraction pool; sync the configured sources; join the
    workers of the archive (``daemon``: one that takes its share of the hosts until stopped)."""
    store = open_archive(settings.archive)
    extractor = extractor or ProcessPoolExtractor(settings.workers.processes)
    leases = HostLeases(store, lease_s=settings.workers.lease, daemon=daemon)
    gate = None
    if store.shared:
        http = settings.http
        gate = SharedHostGate(
            store, leases.worker, per_host=http.per_host, delay_s=http.per_host_delay,
            deadline_s=http.timeout * 3,
        )  # fmt: skip
    try:
        async with Fetcher(settings.http, hosts=gate) as fetcher:
            pipeline = Pipeline(
                store=store,
                fetcher=fetcher,
                extractor=extractor,
                archive_raw=settings.archive_raw,
                pages_in_flight=2 * settings.http.max_connections,
                commit_every=settings.commit.every,
                commit_interval_s=settings.commit.interval,
            )
            pipeline.configure(settings.resolved_sources(), resolve_watches(settings))
            leases.join()
            try:
                yield pipeline, leases
            finally:
                with contextlib.suppress(MonitorError):  # the archive may be gone: its leases then run out
                    leases.leave()
    finally:
        extractor.close()
        store.close()


async def deliver(pipeline: Pipeline, settings: Settings, *, flush: bool = False) -> int:
    """Deliver pending alerts through the pipeline's HTTP client (webhooks share the guard)."""
    if not settings.watches:
        return 0
    return await pipeline.deliver_alerts(settings, now=utcnow(), flush=flush)


def select_sources(settings: Settings, only: Sequence[str] = ()) -> list[Source]:
    """Enabled sources, or exactly the named ones (enabled or not)."""
    sources = settings.resolved_sources()
    if not only:
        return [source for source in sources if source.enabled]
    by_id = {source.id: source for source in sources}
    missing = [name for name in only if name not in by_id]
    if missing:
        raise UnknownSourceError(missing, list(by_id))
    return [by_id[name] for name in dict.fromkeys(only)]


def daemon_lock(location: ArchiveLocation) -> AbstractContextManager[None]:
    """One daemon per SQLite archive (:func:`monitor.store.single_daemon`: a file lock beside it); the
    workers of a PostgreSQL archive share it by leases (:class:`HostLeases`), any number at once."""
    if isinstance(location, PostgresURL):
        return contextlib.nullcontext()
    return single_daemon(location)


@contextlib.contextmanager
def _signals(handler: Callable[[], object]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler)
            installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def run_once(
    settings: Settings,
    only: Sequence[str] = (),
    *,
    extractor: Extractor | None = None,
    due_only: bool = False,
) -> list[PollReport]:
    """Poll each selected source once, regardless of schedule (or, with ``due_only``, only those due).

    SIGINT/SIGTERM cancel the polls still running (each keeps the batches it wrote and writes the pages it
    has fetched; the pages in flight are lost), close the extraction pool and the archive, and raise
    :class:`asyncio.CancelledError`.
    """
    sources = select_sources(settings, only)
    main = asyncio.current_task()
    with _signals(main.cancel if main is not None else (lambda: None)), daemon_lock(settings.archive):
        async with open_pipeline(settings, extractor=extractor, daemon=False) as (pipeline, leases):
            if due_only:
                due = set(pipeline.due_sources(utcnow()))
                sources = [source for source in sources if source.id in due]
            await _lease(leases, sources)
            reports = list(
                await asyncio.gather(
                    *(pipeline.poll(source) if leases.holds(source) else _held(source) for source in sources)
                )
            )
            leases.release(sources)
            # deliver what this run matched before exiting; bounded, and what fails stays queued
            try:
                await asyncio.wait_for(deliver(pipeline, settings, flush=True), timeout=ONCE_DELIVERY_S)
            except TimeoutError:
                log.warning(
                    "alerts: delivery did not finish in %.0fs; the rest stays queued", ONCE_DELIVERY_S
                )
            return reports


async def _lease(leases: HostLeases, sources: Sequence[Source]) -> None:
    """Take the leases of the feed hosts of ``sources`` (``run --once``/``--due``/``--source`` on a shared
    archive), waiting up to two lease periods for those another worker holds."""
    deadline = time.monotonic() + 2 * leases.lease_s
    waiting = False
    while True:
        leases.renew(sources)
        missing = sorted({feed_host(source.url) for source in sources if not leases.holds(source)})
        if not missing or time.monotonic() >= deadline:
            return
        if not waiting:
            log.info("workers: waiting for %s, polled by another worker now", ", ".join(missing))
            waiting = True
        await asyncio.sleep(min(1.0, leases.lease_s / RENEWALS_PER_LEASE))


async def _held(source: Source) -> PollReport:
    error = f"{feed_host(source.url)} is polled by another worker; not polled"
    log.warning("source %s: %s (url=%s)", source.id, error, source.url)
    return PollReport(source.id, source.url, error=error, error_kind="leased")


async def run_forever(
    settings: Settings,
    *,
    extractor: Extractor | None = None,
    stop: asyncio.Event | None = None,
    grace_s: float | None = None,
    tick_s: float = TICK_S,
    reload: Callable[[], Settings] | None = None,
    metrics: Metrics | None = None,
) -> None:
    """Poll until SIGINT/SIGTERM (or ``stop``). SIGHUP calls ``reload`` for a new config: sources are added,
    removed and changed in place; an invalid config is reported and the running one kept."""
    grace = grace_s if grace_s is not None else settings.shutdown_grace
    daemon = Daemon(settings, extractor=extractor, grace_s=grace, tick_s=tick_s, metrics=metrics)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    with _signals(stop.set), daemon_lock(settings.archive):
        if reload is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGHUP, lambda: daemon.reload(reload))
        try:
            await daemon.serve(stop)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)


class Daemon:
    def __init__(
        self, settings: Settings, *, extractor: Extractor | None, grace_s: float, tick_s: float,
        metrics: Metrics | None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.extractor = extractor
        self.grace_s = grace_s
        self.tick_s = tick_s
        self.metrics = metrics
        self.sources = {source.id: source for source in select_sources(settings)}
        self.running: dict[str, asyncio.Task[PollReport]] = {}
        self.pipeline: Pipeline | None = None
        self.leases: HostLeases | None = None
        self.started_at = utcnow()
        self._last_beat = 0.0
        self._last_delivery = 0.0
        self._delivering: asyncio.Task[int] | None = None

    def reload(self, load: Callable[[], Settings]) -> None:
        try:
            settings = load()
        except MonitorError as exc:
            log.error("daemon: config reload failed, keeping the running config: %s", exc)
            return
        if settings.archive != self.settings.archive or settings.http != self.settings.http:
            log.warning("daemon: `archive` and `http` changes take effect at the next restart")
        before = set(self.sources)
        self.sources = {source.id: source for source in select_sources(settings)}
        if self.pipeline is not None:
            try:
                self.pipeline.configure(settings.resolved_sources(), resolve_watches(settings))
            except MonitorError as exc:
                log.error("daemon: config reload failed, keeping the running config: %s", exc)
                return
        added, removed = set(self.sources) - before, before - set(self.sources)
        log.info(
            "daemon: config reloaded sources=%d added=%s removed=%s",
            len(self.sources), ",".join(sorted(added)) or "-", ",".join(sorted(removed)) or "-",
        )  # fmt: skip
        self.settings = settings

    def _busy(self) -> list[Source]:
        """The sources being polled now (their hosts are kept however the shares change)."""
        return [source for source_id in list(self.running) if (source := self.sources.get(source_id))]

    def _forget(self, source_id: str, task: asyncio.Task[PollReport]) -> None:
        self.running.pop(source_id, None)
        if self.leases is not None:
            self.leases.polled()
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ArchiveUnavailableError):  # said once by the store; polled again when it is back
            log.debug("daemon: poll of %s not recorded: %s", source_id, exc)
        elif exc is not None:
            log.error("daemon: poll of %s failed: %s: %s", source_id, type(exc).__name__, exc)
        elif self.metrics is not None:
            self.metrics.observe(task.result())

    async def _tick(self) -> None:
        try:
            self._tick_once()
        except StoreError as exc:
            # the archive is unreachable (a database restart): the store says so once per outage; the
            # daemon keeps ticking and carries on where it was when the archive answers again
            log.debug("daemon: tick skipped: %s", exc)

    def _tick_once(self) -> None:
        assert self.pipeline is not None and self.leases is not None
        now = utcnow()
        if time.monotonic() - self._last_beat >= HEARTBEAT_S:
            self._last_beat = time.monotonic()
            self.pipeline.beat(pid=os.getpid(), started_at=self.started_at, now=now, version=__version__)
            if self.metrics is not None:
                self.metrics.beat(now, self.pipeline.poll_states())
                self.metrics.leased(self.leases.worker, len(self.leases.held))
        idle = self._delivering is None or self._delivering.done()
        if self.settings.watches and idle and time.monotonic() - self._last_delivery >= DELIVERY_EVERY_S:
            self._last_delivery = time.monotonic()
            self._delivering = asyncio.create_task(self._deliver(), name="deliver alerts")
        for source_id in self.pipeline.due_sources(now):
            source = self.sources.get(source_id)
            if source is not None and source_id not in self.running and self.leases.holds(source):
                task = asyncio.create_task(self.pipeline.poll(source), name=f"poll {source_id}")
                self.running[source_id] = task
                task.add_done_callback(functools.partial(self._forget, source_id))

    async def _deliver(self) -> int:
        assert self.pipeline is not None
        try:
            return await deliver(self.pipeline, self.settings)
        except ArchiveUnavailableError:  # the store has said so; the alerts stay queued
            return 0
        except Exception:  # a notifier bug must not stop the daemon; the alerts stay queued
            log.exception("alerts: delivery failed unexpectedly")
            return 0

    async def serve(self, stop: asyncio.Event) -> None:
        async with open_pipeline(self.settings, extractor=self.extractor) as (pipeline, leases):
            self.pipeline, self.leases = pipeline, leases
            leases.renew(self.sources.values())
            leases.keep_renewing(lambda: list(self.sources.values()), self._busy)
            # each worker spreads what it polls: the overdue sources of the hosts it holds
            held = [source for source in self.sources.values() if leases.holds(source)]
            spread = pipeline.spread_overdue(held, now=utcnow())
            if spread:
                log.info(
                    "daemon: %d overdue source%s spread over the next few minutes",
                    spread,
                    "" if spread == 1 else "s",
                )
            scheduler = AsyncIOScheduler(timezone="UTC")
            scheduler.add_job(
                self._tick,
                IntervalTrigger(seconds=self.tick_s, timezone="UTC"),
                id="tick",
                next_run_time=utcnow(),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
            scheduler.start()
            log.info(
                "daemon: started sources=%d archive=%s pid=%d%s",
                len(self.sources),
                self.settings.archive_display,
                os.getpid(),
                f" worker={leases.worker} hosts={len(leases.held)}" if leases.shared else "",
            )
            try:
                await stop.wait()
            finally:
                running = set(self.running.values())
                log.info(
                    "daemon: stopping; waiting up to %.0fs for %d running polls", self.grace_s, len(running)
                )
                scheduler.shutdown(wait=False)
                if running:
                    _, pending = await asyncio.wait(running, timeout=self.grace_s)
                    for task in pending:
                        task.cancel()
                    if pending:
                        await asyncio.wait(pending, timeout=self.grace_s)
                if self._delivering is not None and not self._delivering.done():
                    await asyncio.wait({self._delivering}, timeout=self.grace_s)
            log.info("daemon: stopped")
