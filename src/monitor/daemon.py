"""The daemon: APScheduler (the only module that imports it) ticks; the archive says what is due.

Scheduling state lives in the archive (``sources.next_poll_at``), as in miniflux: the scheduler only ticks
and asks which sources are due, so a restart resumes where the last run stopped. ``run_once`` polls each
source once (``monitor run --once``), ``run_due`` polls what is due and returns (``--due``), and
``run_forever`` keeps polling until SIGINT/SIGTERM, then lets in-flight polls finish (or cancels them after
a grace period; a cancelled poll writes nothing, since each poll is one transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Settings
from monitor.errors import UnknownSourceError
from monitor.fetch import Fetcher
from monitor.models import Source
from monitor.pipeline import Pipeline, PollReport, utcnow
from monitor.schedule import restart_plan
from monitor.store import SQLiteArchive
from monitor.workers import Extractor, ProcessPoolExtractor

log = logging.getLogger("monitor.daemon")

SHUTDOWN_GRACE_S = 10.0
TICK_S = 1.0


@contextlib.asynccontextmanager
async def open_pipeline(settings: Settings, *, extractor: Extractor | None = None) -> AsyncIterator[Pipeline]:
    """Open the archive, the HTTP client and the extraction pool; sync the configured sources."""
    store = SQLiteArchive(settings.archive)
    extractor = extractor or ProcessPoolExtractor()
    try:
        store.sync_sources(settings.resolved_sources())
        async with Fetcher(settings.http) as fetcher:
            yield Pipeline(
                store=store, fetcher=fetcher, extractor=extractor, archive_raw=settings.archive_raw
            )
    finally:
        extractor.close()
        store.close()


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

    SIGINT/SIGTERM cancel the polls still running (each writes nothing, being one transaction), close the
    extraction pool and the archive, and raise :class:`asyncio.CancelledError`.
    """
    sources = select_sources(settings, only)
    main = asyncio.current_task()
    with _signals(main.cancel if main is not None else (lambda: None)):
        async with open_pipeline(settings, extractor=extractor) as pipeline:
            if due_only:
                due = set(pipeline.store.due_sources(utcnow()))
                sources = [source for source in sources if source.id in due]
            return list(await asyncio.gather(*(pipeline.poll(source) for source in sources)))


async def run_forever(
    settings: Settings,
    *,
    extractor: Extractor | None = None,
    stop: asyncio.Event | None = None,
    grace_s: float = SHUTDOWN_GRACE_S,
    tick_s: float = TICK_S,
) -> None:
    stop = stop or asyncio.Event()
    running: dict[str, asyncio.Task[PollReport]] = {}

    with _signals(stop.set):
        await _serve(settings, extractor, stop, running, grace_s, tick_s)


async def _serve(
    settings: Settings,
    extractor: Extractor | None,
    stop: asyncio.Event,
    running: dict[str, asyncio.Task[PollReport]],
    grace_s: float,
    tick_s: float,
) -> None:
    async with open_pipeline(settings, extractor=extractor) as pipeline:
        sources = {source.id: source for source in select_sources(settings)}
        plan = restart_plan(list(sources.values()), pipeline.store.poll_states(), now=utcnow())
        if plan:
            pipeline.store.reschedule(plan)
            log.info("daemon: %d overdue sources spread over the next few minutes", len(plan))

        def forget(source_id: str, _task: asyncio.Task[PollReport]) -> None:
            running.pop(source_id, None)

        async def tick() -> None:
            for source_id in pipeline.store.due_sources(utcnow()):
                source = sources.get(source_id)
                if source is not None and source_id not in running:
                    task = asyncio.create_task(pipeline.poll(source), name=f"poll {source_id}")
                    running[source_id] = task
                    task.add_done_callback(functools.partial(forget, source_id))

        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            tick,
            IntervalTrigger(seconds=tick_s, timezone="UTC"),
            id="tick",
            next_run_time=utcnow(),
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        log.info("daemon: started sources=%d archive=%s", len(sources), settings.archive)
        try:
            await stop.wait()
        finally:
            log.info("daemon: stopping; waiting up to %.0fs for %d running polls", grace_s, len(running))
            scheduler.shutdown(wait=False)
            if running:
                _, pending = await asyncio.wait(set(running.values()), timeout=grace_s)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=grace_s)
        log.info("daemon: stopped")
