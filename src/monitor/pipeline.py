"""Poll one source: fetch -> parse -> dedup -> fetch pages -> extract -> store.

The only module that knows the order. Each poll ends in one :class:`PollOutcome` that the store applies in a
single transaction, so an interrupted poll leaves nothing half-written. A failure of the source is
recorded on it (``sources.last_error``, ``fetches.error``) and never raised to the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.articles import build_article, entry_url
from monitor.errors import FetchError, ParseError, SourceError
from monitor.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from monitor.models import (
    Article,
    EntryAlias,
    ExtractedPage,
    FeedEntry,
    FetchRecord,
    ParsedFeed,
    PollOutcome,
    Source,
)
from monitor.parse import parse_feed
from monitor.store import Archive
from monitor.workers import Extractor

log = logging.getLogger("monitor.pipeline")

HTML_TYPES = ("", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    url: str
    entries: int = 0
    new: int = 0
    pages_failed: int = 0
    error: str | None = None
    duration_s: float = 0.0


class Pipeline:
    def __init__(
        self,
        *,
        store: Archive,
        fetcher: Fetcher,
        extractor: Extractor,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.extractor = extractor
        self.clock = clock
        # Canonical URLs some poll is fetching right now: another source listing the same URL leaves it to
        # that poll instead of fetching it a second time.
        self._inflight: set[str] = set()

    async def poll(self, source: Source) -> PollReport:
        """Poll one source. Never raises for the source's own failures; those are recorded and reported."""
        started = time.monotonic()
        try:
            report = await self._poll(source, started)
        except SourceError as exc:
            report = self._record_failure(source, str(exc), started, status=getattr(exc, "status", None))
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.exception("pipeline: unexpected error source=%s url=%s", source.id, source.feed)
            report = self._record_failure(source, f"internal error: {type(exc).__name__}: {exc}", started)
        if report.error:
            log.warning(
                "pipeline: poll failed source=%s url=%s error=%s", source.id, source.feed, report.error
            )
        else:
            log.info(
                "pipeline: polled source=%s url=%s entries=%d new=%d pages_failed=%d duration=%.2fs",
                source.id,
                source.feed,
                report.entries,
                report.new,
                report.pages_failed,
                report.duration_s,
            )
        return report

    def _record_failure(
        self,
        source: Source,
        error: str,
        started: float,
        *,
        status: int | None = None,
        fetches: tuple[FetchRecord, ...] = (),
    ) -> PollReport:
        outcome = PollOutcome(
            source=source.id, polled_at=self.clock(), fetches=fetches, status=status, error=error
        )
        self.store.commit_poll(outcome)
        return PollReport(source.id, source.feed, error=error, duration_s=time.monotonic() - started)

    async def _poll(self, source: Source, started: float) -> PollReport:
        polled_at = self.clock()
        try:
            result = await self.fetcher.get(source.feed, accept=FEED_ACCEPT)
        except FetchError as exc:
            record = FetchRecord(source.id, source.feed, "feed", polled_at, status=exc.status, error=str(exc))
            return self._record_failure(source, str(exc), started, status=exc.status, fetches=(record,))
        fetches = [
            FetchRecord(
                source.id,
                source.feed,
                "feed",
                polled_at,
                status=result.status,
                bytes=len(result.content),
                duration_ms=result.duration_ms,
            )
        ]
        try:
            feed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
        except ParseError as exc:
            return self._record_failure(
                source, str(exc), started, status=result.status, fetches=tuple(fetches)
            )
        if feed.problem:
            log.warning(
                "parser: malformed feed, %d entries recovered source=%s url=%s problem=%s",
                len(feed.entries),
                source.id,
                source.feed,
                feed.problem,
            )

        new, aliases = self._new_entries(source, feed, result.final_url)
        claimed = [link for link, _ in new]
        self._inflight.update(claimed)
        try:
            articles = await asyncio.gather(
                *(self._article(source, link, entry, feed, fetches) for link, entry in new)
            )
            inserted = self.store.commit_poll(
                PollOutcome(
                    source=source.id,
                    polled_at=polled_at,
                    articles=tuple(articles),
                    aliases=tuple(aliases),
                    fetches=tuple(fetches),
                    status=result.status,
                )
            )
        finally:
            self._inflight.difference_update(claimed)
        failed = sum(1 for article in articles if article.extraction == "feed" and source.fetch_articles)
        return PollReport(
            source.id,
            source.feed,
            entries=len(feed.entries),
            new=len(inserted),
            pages_failed=failed,
            duration_s=time.monotonic() - started,
        )

    def _new_entries(
        self, source: Source, feed: ParsedFeed, feed_url: str
    ) -> tuple[list[tuple[str, FeedEntry]], list[EntryAlias]]:
        """Entries not yet archived (by this source's GUID, or by any known URL), first of each link."""
        candidates: dict[str, FeedEntry] = {}
        for entry in feed.entries:
            link = entry_url(entry, feed_url=feed_url)
            if link is None:
                log.warning(
                    "parser: entry without an http(s) link skipped source=%s url=%s guid=%s",
                    source.id,
                    source.feed,
                    entry.guid,
                )
                continue
            candidates.setdefault(link, entry)
        guids = [entry.guid for entry in candidates.values() if entry.guid]
        known_guids, known_urls = self.store.known_entries(source.id, guids, candidates)
        new: list[tuple[str, FeedEntry]] = []
        aliases: list[EntryAlias] = []
        for link, entry in candidates.items():
            if entry.guid and entry.guid in known_guids:
                continue
            if link in known_urls:
                aliases.append(EntryAlias(source.id, entry.guid, link))
            elif link not in self._inflight:
                new.append((link, entry))
        return new, aliases

    async def _article(
        self, source: Source, link: str, entry: FeedEntry, feed: ParsedFeed, fetches: list[FetchRecord]
    ) -> Article:
        page: ExtractedPage | None = None
        final_url: str | None = None
        if source.fetch_articles:
            page, final_url = await self._fetch_page(source, link, fetches)
        return build_article(
            source=source,
            entry=entry,
            link=link,
            fetched_at=self.clock(),
            page=page,
            final_url=final_url,
            feed_language=feed.language,
        )

    async def _fetch_page(
        self, source: Source, link: str, fetches: list[FetchRecord]
    ) -> tuple[ExtractedPage | None, str | None]:
        at = self.clock()
        try:
            result = await self.fetcher.get(link, accept=PAGE_ACCEPT)
        except FetchError as exc:
            fetches.append(FetchRecord(source.id, link, "page", at, status=exc.status, error=str(exc)))
            log.warning("fetcher: article page failed source=%s url=%s error=%s", source.id, link, exc)
            return None, None
        error = None
        page = None
        if result.content_type not in HTML_TYPES:
            error = f"extract: not an HTML page ({result.content_type}); kept the feed's text"
        else:
            try:
                page = await self.extractor.extract(
                    result.content, url=result.final_url, charset=result.charset, now=at
                )
            except Exception as exc:
                log.exception("extract: failed source=%s url=%s", source.id, link)
                error = f"extract: {type(exc).__name__}: {exc}"
            else:
                if not page.text:
                    error = "extract: no article text found on the page; kept the feed's text"
        if error:
            log.warning("%s source=%s url=%s", error, source.id, link)
        fetches.append(
            FetchRecord(
                source.id,
                link,
                "page",
                at,
                status=result.status,
                bytes=len(result.content),
                duration_ms=result.duration_ms,
                error=error,
            )
        )
        return page, result.final_url
