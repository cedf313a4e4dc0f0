"""Pages: fetch an article page and extract it, a bounded number at a time across all polls.

robots.txt is asked first; the page is extracted in the worker pool; its raw bytes are kept (compressed) when
the archive keeps raw pages. A page that cannot be had (refused by robots.txt, an HTTP error, not HTML, no
text) comes back empty, so the article keeps the feed's text; every request goes into the poll's fetch log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from monitor import rawpage
from monitor.errors import FetchError
from monitor.fetch import PAGE_ACCEPT
from monitor.models import ExtractedPage, RawPage, Source
from monitor.pipeline.base import FetchLog, HttpClient
from monitor.workers import Extractor

log = logging.getLogger("monitor.pipeline")

HTML_TYPES = ("", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
PAGES_IN_FLIGHT = 64  # the daemon uses twice http.max_connections
"""Article pages fetched or being extracted at once, across all polls (memory is bounded by this); also the
most pages one poll has between request and batch (its window)."""


@dataclass(frozen=True, slots=True)
class FetchedPage:
    page: ExtractedPage | None = None
    """None when there is no page to use: the article keeps the feed's text."""
    final_url: str | None = None
    raw: RawPage | None = None


class PageFetcher:
    def __init__(
        self,
        client: HttpClient,
        extractor: Extractor,
        *,
        clock: Callable[[], datetime],
        archive_raw: bool = True,
        in_flight: int = PAGES_IN_FLIGHT,
    ) -> None:
        self.client = client
        self.extractor = extractor
        self.clock = clock
        self.archive_raw = archive_raw
        self.in_flight = in_flight
        # Article pages between request and extracted text, across all polls. Fetching is faster than
        # extraction, so without a bound every page of a large round would wait, whole, in the pool's queue
        # (470 MB at 2,000 new articles in benchmarks/ingest.py); with it, fetching waits instead.
        self._slots = asyncio.Semaphore(in_flight)

    async def fetch(self, source: Source, link: str, fetches: FetchLog) -> FetchedPage:
        """The page at ``link``, extracted with the source's selectors; raises only what nobody foresaw."""
        async with self._slots:
            return await self._fetch_and_extract(source, link, fetches)

    async def _fetch_and_extract(self, source: Source, link: str, fetches: FetchLog) -> FetchedPage:
        at = self.clock()
        if not await self.client.allowed_by_robots(link):
            note = "robots: disallowed by robots.txt; kept the feed's text"
            fetches.log(link, "page", at, note=note, error=None)
            log.info("%s source=%s url=%s", note, source.id, link)
            return FetchedPage()
        try:
            result = await self.client.get(link, accept=PAGE_ACCEPT)
        except FetchError as exc:
            fetches.log(link, "page", at, error=exc)
            if exc.status == 429 and exc.retry_after:
                fetches.retry_after(exc.retry_after)
            log.warning("fetcher: article page failed source=%s url=%s error=%s", source.id, link, exc)
            return FetchedPage()
        error = None
        page = None
        if result.content_type not in HTML_TYPES:
            error = f"extract: not an HTML page ({result.content_type}); kept the feed's text"
        else:
            try:
                page = await self.extractor.extract(
                    result.content,
                    url=result.final_url,
                    charset=result.charset,
                    now=at,
                    selectors=source.selectors,
                    content_language=result.headers.get("content-language"),
                    decided=False,  # build_article decides with the feed's and the source's evidence too
                )
            except Exception as exc:
                log.exception("extract: failed source=%s url=%s", source.id, link)
                error = f"extract: {type(exc).__name__}: {exc}"
            else:
                if not page.text:
                    error = "extract: no article text found on the page; kept the feed's text"
        if error:
            log.warning("%s source=%s url=%s", error, source.id, link)
        fetches.log(link, "page", at, result, note=error)
        raw = None
        if self.archive_raw and page is not None:
            raw = RawPage(
                result.final_url,
                result.content_type,
                result.charset,
                rawpage.compress(result.content),
                rawpage.CODEC,
            )
        return FetchedPage(page, result.final_url, raw)
