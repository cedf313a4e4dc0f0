"""The daemon: wires the pipeline to APScheduler (the only module that imports it), handles signals.

``run_once`` polls each source once and returns (``monitor run --once``); ``run_forever`` keeps polling on
each source's interval until SIGINT/SIGTERM, then lets in-flight polls finish (or cancels them after a grace
period; a cancelled poll writes nothing, since each poll is one transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Settings
from monitor.fetch import Fetcher
from monitor.models import Source
from monitor.pipeline import Pipeline, PollReport, utcnow
from monitor.schedule import first_poll_at, jitter_seconds
from monitor.store import SQLiteArchive
from monitor.workers import Extractor, ProcessPoolExtractor

log = logging.getLogger("monitor.daemon")

SHUTDOWN_GRACE_S = 10.0


@contextlib.asynccontextmanager
async def open_pipeline(settings: Settings, *, extractor: Extractor | None = None) -> AsyncIterator[Pipeline]:
    """Open the archive, the HTTP client and the extraction pool; sync the configured sources."""
    store = SQLiteArchive(settings.archive)
    extractor = extractor or ProcessPoolExtractor()
    try:
        store.sync_sources(settings.resolved_sources())
        async with Fetcher(settings.http) as fetcher:
            yield Pipeline(store=store, fetcher=fetcher, extractor=extractor)
    finally:
        extractor.close()
        store.close()


def select_sources(settings: Settings, only: Sequence[str] = ()) -> list[Source]:
    """Enabled sources, or exactly the named ones (enabled or not); unknown names raise ``KeyError``."""
    sources = settings.resolved_sources()
    if not only:
        return [source for source in sources if source.enabled]
    by_id = {source.id: source for source in sources}
    missing = [name for name in only if name not in by_id]
    if missing:
        raise KeyError(", ".join(missing))
    return [by_id[name] for name in dict.fromkeys(only)]


async def run_once(
    settings: Settings, only: Sequence[str] = (), *, extractor: Extractor | None = None
) -> list[PollReport]:
    sources = select_sources(settings, only)
    async with open_pipeline(settings, extractor=extractor) as pipeline:
        return list(await asyncio.gather(*(pipeline.poll(source) for source in sources)))


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def run_forever(
    settings: Settings,
    *,
    extractor: Extractor | None = None,
    stop: asyncio.Event | None = None,
    grace_s: float = SHUTDOWN_GRACE_S,
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    running: set[asyncio.Task[object]] = set()

    async with open_pipeline(settings, extractor=extractor) as pipeline:

        async def poll_job(source: Source) -> None:
            task = asyncio.current_task()
            if task is not None:
                running.add(task)
            try:
                await pipeline.poll(source)
            finally:
                if task is not None:
                    running.discard(task)

        scheduler = AsyncIOScheduler(timezone="UTC")
        last_polled = pipeline.store.last_polled()
        now = utcnow()
        sources = select_sources(settings)
        for source in sources:
            scheduler.add_job(
                poll_job,
                IntervalTrigger(seconds=source.interval_s, jitter=jitter_seconds(source), timezone="UTC"),
                args=[source],
                id=source.id,
                name=f"poll {source.id}",
                next_run_time=first_poll_at(
                    source,
                    last_polled_at=_parse_time(last_polled.get(source.id)),
                    now=now,
                    spread=random.random(),
                ),
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
                _, pending = await asyncio.wait(set(running), timeout=grace_s)
                for task in pending:
                    task.cancel()
                if pending:
                    await asyncio.wait(pending, timeout=grace_s)
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
        log.info("daemon: stopped")
