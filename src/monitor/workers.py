"""Where CPU-bound work runs (extraction, feed parsing): a process pool sized to the cores, so the event loop
never stalls.

``InlineExtractor`` runs in the calling thread; it is for debugging and for tests of our own seams.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Protocol

from monitor.extract import extract_article
from monitor.models import ExtractedPage, ParsedFeed, Selectors
from monitor.parse import parse_feed


class Extractor(Protocol):
    async def extract(
        self,
        content: bytes,
        *,
        url: str,
        charset: str | None,
        now: datetime,
        selectors: Selectors | None = None,
        content_language: str | None = None,
        decided: bool = True,
    ) -> ExtractedPage:
        """The page extracted (:func:`monitor.extract.extract_article`, whose ``decided`` this passes on)."""
        ...

    async def parse_feed(self, content: bytes, *, url: str, content_type: str) -> ParsedFeed: ...

    def close(self) -> None: ...


def pool_context() -> multiprocessing.context.ForkServerContext:
    """The pool's process context. forkserver: workers never inherit the daemon's threads, sockets or SQLite
    handles. The extractor is imported once in the fork server, not in every worker it starts. "__main__"
    too: a worker started from a script (the `monitor` console script, a benchmark) would otherwise import
    that script again, and with it the whole CLI, before its first page (~0.3 s CPU per worker). Then
    ``monitor.pool_warmup`` extracts a built-in page, so that what the first extraction loads (the language
    model: ~0.5 s CPU) is loaded once in the fork server rather than in every worker."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(
        ["__main__", "monitor.extract.article", "monitor.parse.feeds", "monitor.pool_warmup"]
    )
    return context


def _extract(
    content: bytes,
    url: str,
    charset: str | None,
    now: datetime,
    selectors: Selectors | None,
    content_language: str | None = None,
    decided: bool = True,
) -> ExtractedPage:
    return extract_article(
        content,
        url=url,
        charset=charset,
        now=now,
        selectors=selectors,
        content_language=content_language,
        decided=decided,
    )


def end_with(pid: int) -> None:
    """A pool worker's initializer: end when process ``pid`` (the daemon) does. After a ``kill -9`` of the
    daemon its pool workers would otherwise wait forever on their task queue (each holds its write end),
    and keep the fork server alive too (each holds the daemon's end of the server's alive pipe): two
    processes of some 130 MB each, leaked per kill."""

    def watch() -> None:
        try:
            handle = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux 5.3+: ask every second
            while _alive(pid):
                time.sleep(1.0)
        else:
            select.select([handle], [], [])  # readable once the process has ended
        os._exit(0)

    threading.Thread(target=watch, name="monitor-end-with-daemon", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ProcessPoolExtractor:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=pool_context(),
            initializer=end_with,
            initargs=(os.getpid(),),
        )

    async def extract(
        self,
        content: bytes,
        *,
        url: str,
        charset: str | None,
        now: datetime,
        selectors: Selectors | None = None,
        content_language: str | None = None,
        decided: bool = True,
    ) -> ExtractedPage:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._pool
            try:
                return await loop.run_in_executor(
                    pool, _extract, content, url, charset, now, selectors, content_language, decided
                )
            except BrokenProcessPool:
                # A worker died (out of memory, a crash in a C library) and took every page in flight with
                # it. Replace the pool once (the first caller to notice does it) and try this page again;
                # a page that breaks the fresh pool too is reported.
                if self._pool is pool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def parse_feed(self, content: bytes, *, url: str, content_type: str) -> ParsedFeed:
        """feedparser is pure Python and slow on big feeds: run it where it cannot stall the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _parse_feed, content, url, content_type)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _parse_feed(content: bytes, url: str, content_type: str) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)


class InlineExtractor:
    async def extract(
        self,
        content: bytes,
        *,
        url: str,
        charset: str | None,
        now: datetime,
        selectors: Selectors | None = None,
        content_language: str | None = None,
        decided: bool = True,
    ) -> ExtractedPage:
        return _extract(content, url, charset, now, selectors, content_language, decided)

    async def parse_feed(self, content: bytes, *, url: str, content_type: str) -> ParsedFeed:
        return _parse_feed(content, url, content_type)

    def close(self) -> None:
        pass
