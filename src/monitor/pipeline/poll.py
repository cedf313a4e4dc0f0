"""Poll one source: listing -> triage -> pages -> extract -> store, with rechecks alongside.

The only module that knows the order, and the only one of the pipeline that talks to the store. A poll
streams its new entries' pages through a bounded window and writes their articles as it goes, in batches
(:class:`ArticleBatch`: ``commit.every`` articles, or fewer once the first has waited ``commit.interval``),
each one transaction; it ends in one :class:`PollOutcome` (the last batch, re-checks, the source's
validators, knowledge and next schedule), also one transaction. An interrupted poll leaves nothing
half-written and keeps its batches; its next poll finds them archived and fetches only the rest (issue 15).
A failure of the source is recorded on it (``sources.last_error``, ``fetches.error``), backed off, and never
raised to the daemon.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.alerts import Notifiers, deliver_pending
from monitor.articles import build_article
from monitor.config import Settings
from monitor.errors import ArchiveUnavailableError, ConfigError, FetchError, QueryError, SourceError
from monitor.extract.decide import learn
from monitor.fetch import Fetcher
from monitor.models import (
    COMMIT_EVERY,
    COMMIT_INTERVAL_S,
    Article,
    ArticleBatch,
    FeedEntry,
    FetchRecord,
    ParsedFeed,
    PollOutcome,
    PollReport,
    PollState,
    Recheck,
    Source,
    SourceKnowledge,
    Validators,
    Watch,
)
from monitor.pipeline.base import FetchLog
from monitor.pipeline.listing import Listing
from monitor.pipeline.pages import PAGES_IN_FLIGHT, FetchedPage, PageFetcher
from monitor.pipeline.rechecks import MAX_RECHECKS, recheck_articles
from monitor.pipeline.triage import Changed, ListedEntry, candidates, refused_scheme, triage
from monitor.schedule import after_error, after_success, http_hint_seconds, restart_plan
from monitor.store import ArchiveStore
from monitor.timefmt import utc_iso
from monitor.workers import Extractor

log = logging.getLogger("monitor.pipeline")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Ready:
    """A new entry whose page is fetched and extracted, waiting for its batch."""

    index: int
    """Its place in the feed: a batch's articles are built and stored in feed order."""
    item: ListedEntry
    fetched: FetchedPage


class _Poll:
    """What one poll has gathered so far, and not yet written."""

    def __init__(self, source: Source, state: PollState, polled_at: datetime) -> None:
        self.source = source
        self.state = state
        self.polled_at = polled_at
        self.url = state.url or source.url
        self.fetches = FetchLog(source.id)
        """The fetch log since the last commit."""
        self.inserted = 0
        """New articles its batches wrote."""
        self.pages_failed = 0
        """Articles kept with the feed's text because their page failed."""
        self.skipped = 0
        """Entries that failed in a way nobody foresaw: left for the next poll."""
        self.knowledge: SourceKnowledge | None = None
        """What the poll's pages so far teach of the source (None: nothing yet)."""


class Pipeline:
    def __init__(
        self,
        *,
        store: ArchiveStore,
        fetcher: Fetcher,
        extractor: Extractor,
        clock: Callable[[], datetime] = utcnow,
        archive_raw: bool = True,
        pages_in_flight: int = PAGES_IN_FLIGHT,
        commit_every: int = COMMIT_EVERY,
        commit_interval_s: float = COMMIT_INTERVAL_S,
    ) -> None:
        self.commit_every = commit_every
        self.commit_interval_s = commit_interval_s
        self._window = pages_in_flight
        self._store = store
        self._fetcher = fetcher
        self.clock = clock
        self._listing = Listing(fetcher, extractor, clock=clock, max_bytes=fetcher.settings.max_bytes)
        self._pages = PageFetcher(
            fetcher, extractor, clock=clock, archive_raw=archive_raw, in_flight=pages_in_flight
        )
        # Canonical URLs some poll is fetching right now: another source listing the same URL leaves it to
        # that poll instead of fetching it a second time.
        self._inflight: set[str] = set()

    async def poll(self, source: Source) -> PollReport:
        """Poll one source. Never raises for the source's own failures; those are recorded and reported."""
        started = time.monotonic()
        poll = _Poll(source, self._store.poll_state(source.id), self.clock())
        try:
            report = await self._poll(poll, started)
        except SourceError as exc:
            report = self._record_failure(poll, exc, started)
        except (asyncio.CancelledError, KeyboardInterrupt, ArchiveUnavailableError):
            raise  # an archive away (a database restart) is the store's to report, once; polled again later
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
                utc_iso(report.next_poll_at) or "-",
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
                utc_iso(report.next_poll_at) or "-",
            )
        return report

    # What the daemon asks besides polls: it talks to the pipeline, never to its archive or HTTP client.

    def configure(self, sources: Sequence[Source], watches: Sequence[Watch]) -> None:
        """Make the archive's sources and watches those of the config. A watch whose query does not parse
        raises :class:`ConfigError` naming it (``watches[0].query``), before anything is changed."""
        problems = []
        for index, watch in enumerate(watches):
            try:
                self._store.check_query(watch.query)
            except QueryError as exc:
                problems.append(f"watches[{index}].query: {exc}")
        if problems:
            raise ConfigError(problems)
        self._store.sync_watches(watches)
        self._store.sync_sources(sources)

    def due_sources(self, now: datetime) -> list[str]:
        """The ids of the sources whose next poll is due by ``now`` (the schedule lives in the archive)."""
        return self._store.due_sources(now)

    def poll_states(self) -> dict[str, PollState]:
        return self._store.poll_states()

    def spread_overdue(self, sources: Sequence[Source], *, now: datetime) -> int:
        """After a restart, spread the polls of overdue sources over the next few minutes instead of
        polling them all at once; returns how many were moved."""
        plan = restart_plan(list(sources), self._store.poll_states(), now=now)
        if plan:
            self._store.reschedule(plan)
        return len(plan)

    def beat(self, *, pid: int, started_at: datetime, now: datetime, version: str) -> None:
        """The daemon's heartbeat, for ``monitor status`` and ``--check``."""
        self._store.beat(pid=pid, started_at=started_at, now=now, version=version)

    async def deliver_alerts(self, settings: Settings, *, now: datetime, flush: bool = False) -> int:
        """Deliver pending alerts through the pipeline's HTTP client (webhooks share its address guard)."""
        notifiers = Notifiers(settings, self._fetcher)
        return await deliver_pending(self._store, notifiers, now=now, flush=flush)

    def _record_failure(
        self, poll: _Poll, exc: Exception, started: float, *, message: str | None = None
    ) -> PollReport:
        status = exc.status if isinstance(exc, FetchError) else None
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        plan = after_error(
            poll.source, poll.state, now=self.clock(), status=status, retry_after_s=retry_after
        )
        error = message or str(exc)
        self._store.commit_poll(
            PollOutcome(
                source=poll.source.id,
                polled_at=poll.polled_at,
                fetches=poll.fetches.take(),
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
            bytes=poll.fetches.bytes_fetched,
        )

    async def _poll(self, poll: _Poll, started: float) -> PollReport:
        source, state = poll.source, poll.state
        result = await self._listing.fetch(source, state, poll.url, at=poll.polled_at, fetches=poll.fetches)
        hint = http_hint_seconds(result.headers, now=poll.polled_at)
        body_hash = hashlib.sha256(result.content).hexdigest() if not result.not_modified else None
        if result.not_modified or (body_hash is not None and body_hash == state.body_hash):
            plan = after_success(source, state, now=poll.polled_at, new_items=None, hint_s=hint)
            rechecks = await self._rechecks(poll, (), None)
            committed = self._store.commit_poll(
                PollOutcome(
                    source=source.id,
                    polled_at=poll.polled_at,
                    fetches=poll.fetches.take(),
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
                bytes=poll.fetches.bytes_fetched,
            )

        feed = await self._listing.parse(
            source, poll.url, result, polled_at=poll.polled_at, fetches=poll.fetches
        )
        listed = candidates(feed.entries, feed_url=result.final_url)
        self._refused(poll, listed.refused)
        known_guids, known_urls = self._store.known_entries(source.id, listed.guids, listed.by_key)
        decided = triage(source.id, listed, known_guids, known_urls, in_flight=self._inflight)
        claimed = [item.key for item in decided.new]
        self._inflight.update(claimed)
        rechecking = asyncio.ensure_future(self._rechecks(poll, decided.changed, feed))
        try:
            last = await self._archive_new(poll, decided.new, feed)
            rechecks = await rechecking
            articles = self._build(poll, feed, last)
            deferred = decided.deferred + poll.skipped
            published = [entry.published_at for entry in feed.entries if entry.published_at is not None]
            hints = [h for h in (hint, feed.hint_s) if h]
            plan = after_success(
                source,
                state,
                now=self.clock(),
                published=published,
                new_items=len(decided.new),
                hint_s=max(hints) if hints else None,
                retry_after_s=poll.fetches.retry_after_s,
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
            committed = self._store.commit_poll(
                PollOutcome(
                    source=source.id,
                    polled_at=poll.polled_at,
                    articles=tuple(articles),
                    aliases=decided.aliases,
                    fetches=poll.fetches.take(),
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
            bytes=poll.fetches.bytes_fetched,
        )

    def _refused(self, poll: _Poll, refused: tuple[FeedEntry, ...]) -> None:
        """Entries without a usable http(s) link: the refusal is recorded; the link itself is not (it may be a
        script)."""
        for entry in refused:
            if entry.link:
                scheme = refused_scheme(entry.link)
                poll.fetches.append(
                    FetchRecord(
                        poll.source.id,
                        f"{scheme}:",
                        "page",
                        self.clock(),
                        error=f"parser: link scheme {scheme!r} is not http(s); never requested "
                        f"(guid {entry.guid})",
                    )
                )
            log.warning(
                "parser: entry without a usable http(s) link skipped source=%s url=%s guid=%s link=%r",
                poll.source.id,
                poll.source.url,
                entry.guid,
                entry.link,
            )

    async def _rechecks(
        self, poll: _Poll, changed: tuple[Changed, ...], feed: ParsedFeed | None
    ) -> list[Recheck]:
        due = self._store.due_rechecks(poll.source.id, poll.polled_at, limit=MAX_RECHECKS)
        return await recheck_articles(
            self._pages,
            poll.source,
            polled_at=poll.polled_at,
            due=due,
            changed=changed,
            feed=feed,
            knowledge=poll.state.knowledge,
            fetches=poll.fetches,
            clock=self.clock,
        )

    async def _archive_new(self, poll: _Poll, new: Sequence[ListedEntry], feed: ParsedFeed) -> list[_Ready]:
        """Fetch and extract the new entries' pages, at most ``pages_in_flight`` of this poll at a time, and
        write their articles in batches: each time ``commit_every`` pages are ready, or once the first ready
        page has waited ``commit_interval_s``. Memory stays flat however many entries the poll has: what is
        held is the window and the batch being filled. Returns that last batch, which the poll's end
        writes with the source's state.

        Cancelled (a shutdown), it writes the pages it already has before it lets the cancellation through
        (no request, one transaction): only the pages still being fetched or extracted are lost."""
        entries = iter(enumerate(new))
        window: dict[asyncio.Future[FetchedPage | None], tuple[int, ListedEntry]] = {}
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
                except ArchiveUnavailableError:
                    pass  # the store has said the archive is away; these pages are fetched again next poll
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
        committed = self._store.commit_batch(
            ArticleBatch(
                poll.source.id,
                poll.polled_at,
                tuple(articles),
                fetches=poll.fetches.take(),
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

    async def _entry_page(self, poll: _Poll, item: ListedEntry) -> FetchedPage | None:
        """One entry's page, fetched and extracted (an empty result when the source reads feeds only). An
        entry that fails in a way nobody foresaw is logged and skipped (it is tried again next poll), never
        allowed to sink the rest of the poll: None."""
        try:
            return (
                await self._pages.fetch(poll.source, item.fetch_url, poll.fetches)
                if poll.source.fetch_articles
                else FetchedPage()
            )
        except (asyncio.CancelledError, KeyboardInterrupt, ArchiveUnavailableError):
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
        item: ListedEntry,
        feed: ParsedFeed,
        fetched: FetchedPage,
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
