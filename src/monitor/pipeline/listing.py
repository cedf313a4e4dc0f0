"""Listing: fetch a source's feed, sitemap or section page (conditionally), and parse it into entries.

Feeds are parsed in the worker pool, sitemaps and section pages in a thread: a 10,000-item listing takes
seconds, and every other poll's requests must keep moving meanwhile. A sitemap index brings its recent child
sitemaps (one level, bounded), each request in the poll's fetch log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from monitor.errors import FetchError, ParseError
from monitor.fetch import FEED_ACCEPT, PAGE_ACCEPT
from monitor.models import FetchResult, ParsedFeed, PollState, Source
from monitor.parse.section import parse_section
from monitor.parse.sitemap import parse_sitemap
from monitor.pipeline.base import FetchLog, HttpClient
from monitor.workers import Extractor

log = logging.getLogger("monitor.pipeline")

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_NESTED_SITEMAPS = 20


class Listing:
    def __init__(
        self,
        client: HttpClient,
        extractor: Extractor,
        *,
        clock: Callable[[], datetime],
        max_bytes: int,
    ) -> None:
        self.client = client
        self.extractor = extractor
        self.clock = clock
        self.max_bytes = max_bytes
        """The cap on a sitemap's decompressed size (the fetcher's own cap on a body)."""

    async def fetch(
        self, source: Source, state: PollState, url: str, *, at: datetime, fetches: FetchLog
    ) -> FetchResult:
        """GET the listing, with the last poll's validators when the source allows; raises FetchError."""
        conditional = source.conditional
        accept = (
            FEED_ACCEPT
            if source.kind == "feed"
            else SITEMAP_ACCEPT
            if source.kind == "sitemap"
            else PAGE_ACCEPT
        )
        try:
            result = await self.client.get(
                url,
                accept=accept,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
            )
        except FetchError as exc:
            fetches.log(url, source.kind, at, error=exc)
            raise
        fetches.log(url, source.kind, at, result)
        if result.moved_to and result.moved_to != url:
            log.warning(
                "fetcher: moved permanently; now polling the new address (update config.yaml) "
                "source=%s url=%s moved_to=%s",
                source.id,
                url,
                result.moved_to,
            )
        return result

    async def parse(
        self, source: Source, url: str, result: FetchResult, *, polled_at: datetime, fetches: FetchLog
    ) -> ParsedFeed:
        """The listing's entries; raises ParseError when there is nothing to recover."""
        if source.kind == "html":
            if not source.links:  # config validation requires it; a guard for sources built in code
                raise ParseError("parser: an html source needs a `links` CSS selector", url=url)
            return await asyncio.to_thread(
                parse_section, result.content, url=result.final_url, selector=source.links
            )
        if source.kind == "sitemap":
            return await self._sitemap(source, result, polled_at=polled_at, fetches=fetches)
        feed = await self.extractor.parse_feed(
            result.content, url=result.final_url, content_type=result.content_type
        )
        if feed.problem:
            log.warning(
                "parser: malformed feed, %d entries recovered source=%s url=%s problem=%s",
                len(feed.entries),
                source.id,
                url,
                feed.problem,
            )
        return feed

    async def _sitemap(
        self, source: Source, result: FetchResult, *, polled_at: datetime, fetches: FetchLog
    ) -> ParsedFeed:
        """A sitemap, or an index whose recent child sitemaps are fetched (one level, bounded) and merged."""
        sitemap = await asyncio.to_thread(
            parse_sitemap,
            result.content,
            url=result.final_url,
            now=polled_at,
            max_age_s=source.max_age_s,
            max_bytes=self.max_bytes,
        )
        entries = list(sitemap.entries)
        for child_url in sitemap.sitemaps[:MAX_NESTED_SITEMAPS]:
            at = self.clock()
            try:
                child = await self.client.get(child_url, accept=SITEMAP_ACCEPT)
                fetches.log(child_url, "sitemap", at, child)
                nested = await asyncio.to_thread(
                    parse_sitemap,
                    child.content,
                    url=child.final_url,
                    now=polled_at,
                    max_age_s=source.max_age_s,
                    max_bytes=self.max_bytes,
                )
            except (FetchError, ParseError) as exc:
                fetches.log(child_url, "sitemap", at, error=exc)
                log.warning(
                    "parser: nested sitemap failed source=%s url=%s error=%s", source.id, child_url, exc
                )
                continue
            entries.extend(nested.entries)
        return ParsedFeed(title=None, link=result.final_url, language=None, entries=tuple(entries))
