"""Poll one source: fetch -> parse -> dedup -> fetch pages -> extract -> store.

The only module that knows the order. A poll streams its new entries' pages through a bounded window and
writes their articles as it goes, in batches (:class:`ArticleBatch`: ``commit.every`` articles, or fewer
once the first has waited ``commit.interval``), each one transaction; it ends in one :class:`PollOutcome`
(the last batch, re-checks, the source's validators, knowledge and next schedule), also one transaction.
An interrupted poll leaves nothing half-written and keeps its batches; its next poll finds them archived
and fetches only the rest (issue 15). A failure of the source is recorded on it (``sources.last_error``,
``fetches.error``), backed off, and never raised to the daemon.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor import rawpage
from monitor.articles import build_article, entry_fingerprint, entry_link
from monitor.dedup import canonical_url
from monitor.errors import FetchError, ParseError, SourceError
from monitor.extract.decide import learn
from monitor.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from monitor.models import (
    COMMIT_EVERY,
    COMMIT_INTERVAL_S,
    Article,
    ArticleBatch,
    EntryAlias,
    ExtractedPage,
    FeedEntry,
    FetchRecord,
    FetchResult,
    ParsedFeed,
    PollOutcome,
    PollState,
    RawPage,
    Recheck,
    Source,
    SourceKnowledge,
    Validators,
)
from monitor.parse.section import parse_section
from monitor.parse.sitemap import parse_sitemap
from monitor.schedule import after_error, after_success, http_hint_seconds, next_recheck
from monitor.store import Archive
from monitor.workers import Extractor

log = logging.getLogger("monitor.pipeline")

HTML_TYPES = ("", "text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_NESTED_SITEMAPS = 20
MAX_RECHECKS = 10
PAGES_IN_FLIGHT = 64  # the daemon uses twice http.max_connections
"""Article pages fetched or being extracted at once, across all polls (memory is bounded by this); also the
most pages one poll has between request and batch (its window)."""
DueRow = tuple[int, str, int, datetime | None]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    url: str
    entries: int = 0
    new: int = 0
    pages_failed: int = 0
    not_modified: bool = False
    revised: int = 0
    error: str | None = None
    error_kind: str | None = None
    duration_s: float = 0.0
    bytes: int = 0
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _NewEntry:
    key: str
    """The canonical URL: what dedup compares."""
    fetch_url: str
    """The link as published: what is requested."""
    entry: FeedEntry


@dataclass(frozen=True, slots=True)
class _Fetched:
    page: ExtractedPage | None = None
    final_url: str | None = None
    raw: RawPage | None = None


@dataclass(frozen=True, slots=True)
class _Ready:
    """A new entry whose page is fetched and extracted, waiting for its batch."""

    index: int
    """Its place in the feed: a batch's articles are built and stored in feed order."""
    item: _NewEntry
    fetched: _Fetched


@dataclass
class _Poll:
    """What one poll has gathered so far, and not yet written."""

    source: Source
    state: PollState
    polled_at: datetime
    url: str
    fetches: list[FetchRecord] = field(default_factory=list)
    """The fetch log since the last commit."""
    retry_after_s: float | None = None
    bytes_fetched: int = 0
    inserted: int = 0
    """New articles its batches wrote."""
    pages_failed: int = 0
    """Articles kept with the feed's text because their page failed."""
    skipped: int = 0
    """Entries that failed in a way nobody foresaw: left for the next poll."""
    knowledge: SourceKnowledge | None = None
    """What the poll's pages so far teach of the source (None: nothing yet)."""

    def take_fetches(self) -> tuple[FetchRecord, ...]:
        """The fetch log since the last commit, for the next one."""
        fetches, self.fetches = tuple(self.fetches), []
        return fetches

    def log_fetch(
        self,
        url: str,
        kind: str,
        at: datetime,
        result: FetchResult | None = None,
        error: Exception | None = None,
        note: str | None = None,
    ) -> None:
        if result is not None:
            record = FetchRecord(
                self.source.id,
                url,
                kind,
                at,
                status=result.status,
                bytes=len(result.content),
                duration_ms=result.duration_ms,
                error=note,
            )
        else:
            status = error.status if isinstance(error, FetchError) else None
            record = FetchRecord(self.source.id, url, kind, at, status=status, error=note or str(error))
        self.bytes_fetched += record.bytes or 0
        self.fetches.append(record)


class Pipeline:
    def __init__(
        self,
        *,
        store: Archive,
        fetcher: Fetcher,
        extractor: Extractor,
        clock: Callable[[], datetime] = utcnow,
        archive_raw: bool = True,
        pages_in_flight: int = PAGES_IN_FLIGHT,
        commit_every: int = COMMIT_EVERY,
        commit_interval_s: float = COMMIT_INTERVAL_S,
    ) -> None:
        self.archive_raw = archive_raw
        self.commit_every = commit_every
        self.commit_interval_s = commit_interval_s
        self._window = pages_in_flight
        # Article pages between request and extracted text, across all polls. Fetching is faster than
        # extraction, so without a bound every page of a large round would wait, whole, in the pool's queue
        # (470 MB at 2,000 new articles in benchmarks/ingest.py); with it, fetching waits instead.
        self._pages = asyncio.Semaphore(pages_in_flight)
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
        poll = _Poll(source, self.store.poll_state(source.id), self.clock(), source.url)
        poll.url = poll.state.url or source.url
        try:
            report = await self._poll(poll, started)
        except SourceError as exc:
            report = self._record_failure(poll, exc, started)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.exception("pipeline: unexpected error source=%s url=%s", source.id, poll.url)
            report = self._record_failure(
                poll, exc, started, message=f"internal error: {type(exc).__name__}: {exc}"
            )
        if report.error:
            log.warning(
                "pipeline: poll failed source=%s url=%s error=%s next_poll_at=%s",
                source.id,
                poll.url,
                report.error,
                _fmt(report.next_poll_at),
            )
        else:
            log.info(
                "pipeline: polled source=%s url=%s entries=%d new=%d pages_failed=%d%s%s duration=%.2fs "
                "next_poll_at=%s",
                source.id,
                poll.url,
                report.entries,
                report.new,
                report.pages_failed,
                " not_modified=1" if report.not_modified else "",
                f" revised={report.revised}" if report.revised else "",
                report.duration_s,
                _fmt(report.next_poll_at),
            )
        return report

    def _record_failure(
        self, poll: _Poll, exc: Exception, started: float, *, message: str | None = None
    ) -> PollReport:
        status = exc.status if isinstance(exc, FetchError) else None
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        plan = after_error(
            poll.source, poll.state, now=self.clock(), status=status, retry_after_s=retry_after
        )
        error = message or str(exc)
        self.store.commit_poll(
            PollOutcome(
                source=poll.source.id,
                polled_at=poll.polled_at,
                fetches=tuple(poll.fetches),
                status=status,
                error=error,
                schedule=plan,
            )
        )
        if plan.dead and not poll.state.dead:
            log.warning(
                "pipeline: source is dead (HTTP %s %d times); retried daily source=%s url=%s",
                status,
                plan.not_found_count,
                poll.source.id,
                poll.url,
            )
        return PollReport(
            poll.source.id,
            poll.url,
            error=error,
            error_kind=exc.kind if isinstance(exc, SourceError) else "internal",
            duration_s=time.monotonic() - started,
            next_poll_at=plan.next_poll_at,
            bytes=poll.bytes_fetched,
        )

    async def _poll(self, poll: _Poll, started: float) -> PollReport:
        source, state = poll.source, poll.state
        conditional = source.conditional
        accept = (
            FEED_ACCEPT
            if source.kind == "feed"
            else SITEMAP_ACCEPT
            if source.kind == "sitemap"
            else PAGE_ACCEPT
        )
        try:
            result = await self.fetcher.get(
                poll.url,
                accept=accept,
                etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None,
            )
        except FetchError as exc:
            poll.log_fetch(poll.url, source.kind, poll.polled_at, error=exc)
            raise
        poll.log_fetch(poll.url, source.kind, poll.polled_at, result)
        if result.moved_to and result.moved_to != poll.url:
            log.warning(
                "fetcher: moved permanently; now polling the new address (update config.yaml) "
                "source=%s url=%s moved_to=%s",
                source.id,
                poll.url,
                result.moved_to,
            )
        hint = http_hint_seconds(result.headers, now=poll.polled_at)
        body_hash = hashlib.sha256(result.content).hexdigest() if not result.not_modified else None
        if result.not_modified or (body_hash is not None and body_hash == state.body_hash):
            plan = after_success(source, state, now=poll.polled_at, new_items=None, hint_s=hint)
            rechecks = await self._rechecks(poll, [], None)
            committed = self.store.commit_poll(
                PollOutcome(
                    source=source.id,
                    polled_at=poll.polled_at,
                    fetches=tuple(poll.fetches),
                    status=result.status,
                    schedule=plan,
                    not_modified=True,
                    moved_to=result.moved_to,
                    rechecks=tuple(rechecks),
                )
            )
            return PollReport(
                source.id,
                poll.url,
                not_modified=True,
                revised=len(committed.revised),
                duration_s=time.monotonic() - started,
                next_poll_at=plan.next_poll_at,
                bytes=poll.bytes_fetched,
            )

        feed = await self._parse(poll, result)
        new, aliases, deferred, changed = self._new_entries(poll, feed, result.final_url)
        claimed = [item.key for item in new]
        self._inflight.update(claimed)
        rechecking = asyncio.ensure_future(self._rechecks(poll, changed, feed))
        try:
            last = await self._archive_new(poll, new, feed)
            rechecks = await rechecking
            articles = self._build(poll, feed, last)
            deferred += poll.skipped
            published = [entry.published_at for entry in feed.entries if entry.published_at is not None]
            hints = [h for h in (hint, feed.hint_s) if h]
            plan = after_success(
                source,
                state,
                now=self.clock(),
                published=published,
                new_items=len(new),
                hint_s=max(hints) if hints else None,
                retry_after_s=poll.retry_after_s,
            )
            # Entries left to another source's poll must be looked at again next time: keep no validators,
            # so the next poll gets the whole body and parses it.
            validators = (
                Validators()
                if deferred
                else Validators(
                    etag=result.headers.get("etag"),
                    last_modified=result.headers.get("last-modified"),
                    body_hash=body_hash,
                )
            )
            committed = self.store.commit_poll(
                PollOutcome(
                    source=source.id,
                    polled_at=poll.polled_at,
                    articles=tuple(articles),
                    aliases=tuple(aliases),
                    fetches=poll.take_fetches(),
                    status=result.status,
                    schedule=plan,
                    validators=validators,
                    moved_to=result.moved_to,
                    rechecks=tuple(rechecks),
                    recheck_s=source.recheck_s,
                    knowledge=poll.knowledge,
                )
            )
        finally:
            rechecking.cancel()  # when the poll was cut short; a finished task ignores it
            self._inflight.difference_update(claimed)
        return PollReport(
            source.id,
            poll.url,
            entries=len(feed.entries),
            new=poll.inserted + len(committed.inserted),
            revised=len(committed.revised),
            pages_failed=poll.pages_failed,
            duration_s=time.monotonic() - started,
            next_poll_at=plan.next_poll_at,
            bytes=poll.bytes_fetched,
        )

    async def _archive_new(self, poll: _Poll, new: list[_NewEntry], feed: ParsedFeed) -> list[_Ready]:
        """Fetch and extract the new entries' pages, at most ``pages_in_flight`` of this poll at a time, and
        write their articles in batches: each time ``commit_every`` pages are ready, or once the first ready
        page has waited ``commit_interval_s``. Memory stays flat however many entries the poll has: what is
        held is the window and the batch being filled. Returns that last batch, which the poll's end
        writes with the source's state.

        Cancelled (a shutdown), it writes the pages it already has before it lets the cancellation through
        (no request, one transaction): only the pages still being fetched or extracted are lost."""
        entries = iter(enumerate(new))
        window: dict[asyncio.Future[_Fetched | None], tuple[int, _NewEntry]] = {}
        batch: list[_Ready] = []
        first_ready = 0.0
        try:
            while True:
                for index, item in itertools.islice(entries, self._window - len(window)):
                    window[asyncio.ensure_future(self._entry_page(poll, item))] = (index, item)
                if not window:
                    return batch
                timeout = max(first_ready + self.commit_interval_s - time.monotonic(), 0) if batch else None
                done, _ = await asyncio.wait(window, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda task: window[task][0]):
                    index, item = window.pop(task)
                    fetched = task.result()
                    if fetched is None:
                        poll.skipped += 1
                        continue
                    if not batch:
                        first_ready = time.monotonic()
                    batch.append(_Ready(index, item, fetched))
                    if len(batch) >= self.commit_every:
                        self._commit_batch(poll, feed, batch)
                        batch = []
                if batch and time.monotonic() - first_ready >= self.commit_interval_s:
                    self._commit_batch(poll, feed, batch)
                    batch = []
        except asyncio.CancelledError:
            batch += [
                _Ready(index, item, fetched)
                for task, (index, item) in window.items()
                if task.done() and not task.cancelled() and (fetched := task.result()) is not None
            ]
            if batch:
                try:
                    self._commit_batch(poll, feed, batch)
                except Exception:
                    log.exception(
                        "pipeline: pages fetched before the shutdown not kept source=%s", poll.source.id
                    )
            raise
        finally:
            for task in window:
                task.cancel()

    def _commit_batch(self, poll: _Poll, feed: ParsedFeed, batch: list[_Ready]) -> None:
        articles = self._build(poll, feed, batch)
        committed = self.store.commit_batch(
            ArticleBatch(
                poll.source.id,
                poll.polled_at,
                tuple(articles),
                fetches=poll.take_fetches(),
                recheck_s=poll.source.recheck_s,
            )
        )
        poll.inserted += len(committed.inserted)
        log.debug(
            "pipeline: batch written source=%s pages=%d new=%d",
            poll.source.id,
            len(batch),
            len(committed.inserted),
        )

    def _build(self, poll: _Poll, feed: ParsedFeed, batch: list[_Ready]) -> list[Article]:
        """A batch's articles, in feed order. What the poll's pages so far (this batch's included) teach of
        the source (site name, template language) decides their metadata too: a first poll of fifteen
        "Site » Headline" pages learns "Site" at once."""
        batch.sort(key=lambda ready: ready.index)
        evidence = [r.fetched.page.evidence for r in batch if r.fetched.page and r.fetched.page.evidence]
        if evidence:
            poll.knowledge = learn(poll.knowledge or poll.state.knowledge, evidence)
        knowledge = poll.knowledge or poll.state.knowledge
        articles = []
        for ready in batch:
            article = self._article(poll, ready.item, feed, ready.fetched, knowledge)
            if article is None:
                poll.skipped += 1
                continue
            if article.extraction == "feed" and poll.source.fetch_articles:
                poll.pages_failed += 1
            articles.append(article)
        return articles

    async def _parse(self, poll: _Poll, result: FetchResult) -> ParsedFeed:
        source = poll.source
        if source.kind == "html":
            if not source.links:  # config validation requires it; a guard for sources built in code
                raise ParseError("parser: an html source needs a `links` CSS selector", url=poll.url)
            return await asyncio.to_thread(
                parse_section, result.content, url=result.final_url, selector=source.links
            )
        if source.kind == "sitemap":
            return await self._parse_sitemap(poll, result)
        # In the worker pool, not the event loop: a 10,000-item feed takes seconds to parse, and every other
        # poll's requests must keep moving meanwhile.
        feed = await self.extractor.parse_feed(
            result.content, url=result.final_url, content_type=result.content_type
        )
        if feed.problem:
            log.warning(
                "parser: malformed feed, %d entries recovered source=%s url=%s problem=%s",
                len(feed.entries),
                source.id,
                poll.url,
                feed.problem,
            )
        return feed

    async def _parse_sitemap(self, poll: _Poll, result: FetchResult) -> ParsedFeed:
        """A sitemap, or an index whose recent child sitemaps are fetched (one level, bounded) and merged."""
        source = poll.source
        cap = self.fetcher.settings.max_bytes
        sitemap = await asyncio.to_thread(
            parse_sitemap,
            result.content,
            url=result.final_url,
            now=poll.polled_at,
            max_age_s=source.max_age_s,
            max_bytes=cap,
        )
        entries = list(sitemap.entries)
        for child_url in sitemap.sitemaps[:MAX_NESTED_SITEMAPS]:
            at = self.clock()
            try:
                child = await self.fetcher.get(child_url, accept=SITEMAP_ACCEPT)
                poll.log_fetch(child_url, "sitemap", at, child)
                nested = await asyncio.to_thread(
                    parse_sitemap,
                    child.content,
                    url=child.final_url,
                    now=poll.polled_at,
                    max_age_s=source.max_age_s,
                    max_bytes=cap,
                )
            except (FetchError, ParseError) as exc:
                poll.log_fetch(child_url, "sitemap", at, error=exc)
                log.warning(
                    "parser: nested sitemap failed source=%s url=%s error=%s", source.id, child_url, exc
                )
                continue
            entries.extend(nested.entries)
        return ParsedFeed(title=None, link=result.final_url, language=None, entries=tuple(entries))

    def _new_entries(
        self, poll: _Poll, feed: ParsedFeed, feed_url: str
    ) -> tuple[list[_NewEntry], list[EntryAlias], int, list[tuple[int, _NewEntry]]]:
        """Entries not yet archived (by this source's GUID, or by any known URL), first of each link; the
        aliases of known ones; how many were left to a poll of another source that has them in flight; and
        archived ones whose feed entry changed (a likely edit: re-fetched)."""
        source = poll.source
        candidates: dict[str, _NewEntry] = {}
        for entry in feed.entries:
            fetch_url = entry_link(entry, feed_url=feed_url)
            if fetch_url is None:
                if entry.link:  # the refusal is recorded; the link itself is not (it may be a script)
                    scheme = (
                        entry.link.split(":", 1)[0].strip().lower()[:20] if ":" in entry.link else "relative"
                    )
                    poll.fetches.append(
                        FetchRecord(
                            source.id,
                            f"{scheme}:",
                            "page",
                            self.clock(),
                            error=f"parser: link scheme {scheme!r} is not http(s); never requested "
                            f"(guid {entry.guid})",
                        )
                    )
                log.warning(
                    "parser: entry without a usable http(s) link skipped source=%s url=%s guid=%s link=%r",
                    source.id,
                    source.url,
                    entry.guid,
                    entry.link,
                )
                continue
            key = canonical_url(fetch_url)
            candidates.setdefault(key, _NewEntry(key, fetch_url, entry))
        guids = [item.entry.guid for item in candidates.values() if item.entry.guid]
        known_guids, known_urls = self.store.known_entries(source.id, guids, candidates)
        new: list[_NewEntry] = []
        aliases: list[EntryAlias] = []
        changed: list[tuple[int, _NewEntry]] = []
        deferred = 0
        for key, item in candidates.items():
            known = known_guids.get(item.entry.guid) if item.entry.guid else None
            if known is None and key in known_urls:
                known = known_urls[key]
                aliases.append(EntryAlias(source.id, item.entry.guid, key))
            if known is not None:
                if known.entry_hash is not None and known.entry_hash != entry_fingerprint(item.entry):
                    changed.append((known.article_id, item))
            elif key in self._inflight:
                deferred += 1
            else:
                new.append(item)
        return new, aliases, deferred, changed

    async def _rechecks(
        self, poll: _Poll, changed: list[tuple[int, _NewEntry]], feed: ParsedFeed | None
    ) -> list[Recheck]:
        """Re-fetch archived articles whose feed entry changed, and those due on their decaying schedule
        (1h, 6h, 24h, 48h after first sight), to catch edits. Bounded per poll."""
        source = poll.source
        due = {row[0]: row for row in self.store.due_rechecks(source.id, poll.polled_at, limit=MAX_RECHECKS)}
        jobs: dict[int, tuple[str, FeedEntry, DueRow | None]] = {}
        for article_id, item in changed[:MAX_RECHECKS]:
            jobs[article_id] = (item.fetch_url, item.entry, due.get(article_id))
        for article_id, row in due.items():
            jobs.setdefault(article_id, (row[1], FeedEntry(guid=None, link=row[1]), row))

        async def recheck(
            article_id: int, url: str, entry: FeedEntry, row: tuple[int, str, int, datetime | None] | None
        ) -> Recheck:
            article = None
            try:
                fetched = await self._fetch_page(poll, url) if source.fetch_articles else _Fetched()
                if fetched.page is not None or not source.fetch_articles:
                    article = build_article(
                        source=source,
                        entry=entry,
                        link=canonical_url(url),
                        fetched_at=self.clock(),
                        page=fetched.page,
                        final_url=fetched.final_url,
                        feed_language=feed.language if feed else None,
                        channel_title=feed.title if feed else None,
                        knowledge=poll.state.knowledge,
                        raw=fetched.raw,
                    )
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception:
                log.exception("pipeline: re-check failed source=%s url=%s", source.id, url)
            if row is None:  # an edit signalled by the feed: the schedule stays as it was
                return Recheck(article_id, article, reschedule=False)
            checks = row[2] + 1
            first_seen = row[3] or poll.polled_at
            next_check_at = next_recheck(first_seen, checks_done=checks, recheck_s=source.recheck_s)
            return Recheck(article_id, article, reschedule=True, checks=checks, next_check_at=next_check_at)

        return list(await asyncio.gather(*(recheck(i, *job) for i, job in jobs.items())))

    async def _entry_page(self, poll: _Poll, item: _NewEntry) -> _Fetched | None:
        """One entry's page, fetched and extracted (an empty result when the source reads feeds only). An
        entry that fails in a way nobody foresaw is logged and skipped (it is tried again next poll), never
        allowed to sink the rest of the poll: None."""
        try:
            return await self._fetch_page(poll, item.fetch_url) if poll.source.fetch_articles else _Fetched()
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:
            log.exception(
                "pipeline: entry failed, skipped until the next poll source=%s url=%s",
                poll.source.id,
                item.fetch_url,
            )
            return None

    def _article(
        self,
        poll: _Poll,
        item: _NewEntry,
        feed: ParsedFeed,
        fetched: _Fetched,
        knowledge: SourceKnowledge | None,
    ) -> Article | None:
        """One entry's article from its feed entry and page, each field decided from all the evidence."""
        try:
            return build_article(
                source=poll.source,
                entry=item.entry,
                link=item.key,
                fetched_at=self.clock(),
                page=fetched.page,
                final_url=fetched.final_url,
                feed_language=feed.language,
                channel_title=feed.title,
                knowledge=knowledge,
                raw=fetched.raw,
            )
        except Exception:
            log.exception(
                "pipeline: entry failed, skipped until the next poll source=%s url=%s",
                poll.source.id,
                item.fetch_url,
            )
            return None

    async def _fetch_page(self, poll: _Poll, link: str) -> _Fetched:
        async with self._pages:
            return await self._fetch_and_extract(poll, link)

    async def _fetch_and_extract(self, poll: _Poll, link: str) -> _Fetched:
        source = poll.source
        at = self.clock()
        if not await self.fetcher.allowed_by_robots(link):
            note = "robots: disallowed by robots.txt; kept the feed's text"
            poll.log_fetch(link, "page", at, note=note, error=None)
            log.info("%s source=%s url=%s", note, source.id, link)
            return _Fetched()
        try:
            result = await self.fetcher.get(link, accept=PAGE_ACCEPT)
        except FetchError as exc:
            poll.log_fetch(link, "page", at, error=exc)
            if exc.status == 429 and exc.retry_after:
                poll.retry_after_s = max(poll.retry_after_s or 0.0, exc.retry_after)
            log.warning("fetcher: article page failed source=%s url=%s error=%s", source.id, link, exc)
            return _Fetched()
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
                )
            except Exception as exc:
                log.exception("extract: failed source=%s url=%s", source.id, link)
                error = f"extract: {type(exc).__name__}: {exc}"
            else:
                if not page.text:
                    error = "extract: no article text found on the page; kept the feed's text"
        if error:
            log.warning("%s source=%s url=%s", error, source.id, link)
        poll.log_fetch(link, "page", at, result, note=error)
        raw = None
        if self.archive_raw and page is not None:
            raw = RawPage(
                result.final_url,
                result.content_type,
                result.charset,
                rawpage.compress(result.content),
                rawpage.CODEC,
            )
        return _Fetched(page, result.final_url, raw)


def _fmt(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if moment else "-"
