"""The storage seams (pure: Protocols, no I/O): everything the rest of monitor asks of an archive.

:class:`ArchiveWriter` is the daemon's side (the poll path, alerts' delivery state, re-extraction's
updates), :class:`ArchiveReader` the side of the CLI, the Python API and the tools; :class:`ArchiveStore` is
both, as :func:`monitor.store.open_archive` opens it. Every method takes and returns records of
:mod:`monitor.models`, never rows or column names, so that a second backend (PostgreSQL) implements these
and nothing else changes. Decisions made while writing (which story, which revision) are the pure
:mod:`monitor.stories`'s, applied by the writer inside its transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from monitor.models import (
    Alert,
    AlertRecord,
    ArchiveSizes,
    ArticleBatch,
    Channel,
    CommitResult,
    CopiedStory,
    DueRecheck,
    ExportedArticle,
    Facet,
    Heartbeat,
    HostSlot,
    KnownEntry,
    LatestArticle,
    PollOutcome,
    PollState,
    Reextraction,
    Revision,
    SearchHit,
    SearchQuery,
    Source,
    SourceStatus,
    StoredArticle,
    StoredPage,
    StoryMember,
    Watch,
    WatchStatus,
    WorkerStatus,
)


class ArchiveWriter(Protocol):
    """Writing the archive: one writer per archive (the daemon holds its lock), each call one transaction."""

    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Make the ``sources`` table list exactly the configured sources, keeping their poll state."""

    def poll_states(self) -> dict[str, PollState]:
        """Source id -> what is remembered between polls (validators, interval, errors, next poll)."""

    def poll_state(self, source: str) -> PollState:
        """What is remembered of one source between polls (an empty state for one never polled)."""

    def reschedule(self, next_polls: Mapping[str, datetime]) -> None:
        """Set ``next_poll_at`` of these sources (the daemon's restart plan)."""

    def due_sources(self, now: datetime) -> list[str]:
        """Ids of enabled, configured sources whose next poll is due at ``now`` (never polled first)."""

    def known_entries(
        self, source: str, guids: Iterable[str], urls: Iterable[str]
    ) -> tuple[dict[str, KnownEntry], dict[str, KnownEntry]]:
        """Which of these GUIDs (of this source) and URLs (of any source) are already archived, with the
        article each belongs to and the feed entry's fingerprint when it was last seen."""

    def due_rechecks(self, source: str, now: datetime, *, limit: int) -> list[DueRecheck]:
        """This source's articles due a re-fetch for edits at ``now``, the most overdue first."""

    def commit_batch(self, batch: ArticleBatch) -> CommitResult:
        """Write new articles of a poll still running, atomically: each placed (new, or another URL of an
        article archived before, in this poll or earlier) and linked into its story, with the URLs and GUID it
        is known by, its watch matches and the fetch log so far. The source's state is not touched: a poll
        cut short keeps its batches, and its next poll, finding them archived, fetches only the rest."""

    def commit_poll(self, outcome: PollOutcome) -> CommitResult:
        """End one poll atomically: its last new articles (as ``commit_batch`` would), revisions, URL aliases
        of known entries, the rest of its fetch log, then the source's state and schedule. A failed poll
        has no articles; its error and back-off are recorded."""

    def beat(self, *, pid: int, started_at: datetime, now: datetime, version: str) -> None:
        """Record that the daemon is alive (read by `monitor check`)."""

    def sync_watches(self, watches: Sequence[Watch]) -> None:
        """Make the ``watches`` table hold the configured watches (their matches are kept)."""

    def pending_alerts(self, now: datetime, *, limit: int = 500) -> list[Alert]:
        """Matches waiting for delivery on one of their channels at ``now`` (not delivered, not backing
        off), oldest first, each with a snippet around the watch's words."""

    def delivered(self, delivery_ids: Sequence[int], at: datetime) -> None:
        """Mark these deliveries done; a match is delivered when all its channels are."""

    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime, at: datetime) -> None:
        """Record a failed delivery and when to try it again."""

    def apply_reextraction(self, changes: Sequence[Reextraction], *, version: str) -> int:
        """Write re-extracted fields in one transaction (the search index and near-duplicate keys follow);
        every listed article is stamped with extractor ``version``. Returns how many changed."""

    # -- workers sharing the archive (issue 16) ------------------------------------------------------
    # A SQLite archive has one daemon, which holds its lock and with it every host: ``shared`` is False,
    # joining and leaving do nothing and every host asked for is held. A PostgreSQL archive is shared by
    # any number of workers, which lease the feed hosts between them and pace every host together.

    @property
    def shared(self) -> bool:
        """Whether several workers may poll this archive together (leases and host slots apply)."""

    def join_worker(
        self, worker: str, *, hostname: str, pid: int, version: str, lease_s: float, daemon: bool
    ) -> None:
        """Register a worker (``daemon``: one that polls until stopped and takes its share of the hosts;
        otherwise ``run --once``/``--due``/``--source``, which leases only what it polls)."""

    def renew_leases(
        self,
        worker: str,
        hosts: Collection[str],
        *,
        busy: Collection[str] = (),
        polled: int = 0,
        balance: bool = True,
    ) -> frozenset[str]:
        """Renew this worker's leases on ``hosts`` and its heartbeat (with ``polled`` polls made since the
        last renewal); with ``balance``, give back the hosts beyond its share (not those ``busy``: being
        polled) and take free or expired ones up to it, a share being ⌊H/W⌋ or ⌈H/W⌉ of the H hosts among
        the W live daemon workers; without, take whichever of ``hosts`` are free. Returns the hosts held."""

    def release_leases(self, worker: str, hosts: Collection[str] | None = None) -> None:
        """Hand these hosts (or all this worker holds) back at once."""

    def leave_worker(self, worker: str) -> None:
        """A worker stopping: its leases and host slots are handed back, its row marked stopped."""

    def take_host_slot(
        self, host: str, worker: str, *, per_host: int, delay_s: float, hold_s: float
    ) -> HostSlot | None:
        """One of ``host``'s ``per_host`` request slots for ``hold_s`` seconds (it frees itself after that
        if the worker dies), with when the request may start; None while every slot is held."""

    def release_host_slot(
        self,
        host: str,
        slot: int,
        worker: str,
        *,
        slow_down: bool,
        base_delay_s: float,
        started_ago_s: float | None = None,
    ) -> None:
        """Free a host slot; ``slow_down`` (a 429) doubles the host's delay for every worker (up to a
        minute), otherwise a delay above ``base_delay_s`` is halved back towards it. ``started_ago_s``: how
        long ago the request really started, so that the host's next start is a delay after that (a
        request that left later than its turn must not shorten the gap to the next)."""

    def close(self) -> None:
        """Release the archive (the connection; the daemon's lock is not the archive's)."""


class ArchiveReader(Protocol):
    """Reading the archive: never blocks the writer, never blocked by it."""

    def search(self, query: SearchQuery) -> list[SearchHit]:
        """Full-text search in monitor's query language with the query's filters, sort and limit (raises
        ``QueryError``, naming the position, for a query that does not parse)."""

    def count(self, query: SearchQuery) -> int:
        """How many articles match the filters (and the query, if any; no limit); without a query every
        article counts, indexed for search yet or not."""

    def get_article(self, id_or_url: str) -> StoredArticle:
        """One article by id or by any URL it is known under (raises ``NotFoundError``)."""

    def iter_articles(self, query: SearchQuery) -> Iterator[ExportedArticle]:
        """Every article matching the filters (and the query, if any), oldest first, in constant memory."""

    def facets(self, by: str, *, query: str | None = None, limit: int = 1000) -> list[Facet]:
        """Article counts per ``source``, ``day`` (of publication) or ``lang``: all, or a query's matches."""

    def latest(self, *, after_id: int | None, limit: int, sources: Sequence[str] = ()) -> list[LatestArticle]:
        """The newest articles (``after_id``: only those archived after it), oldest first."""

    def heartbeat(self) -> Heartbeat | None:
        """The daemon's last sign of life, if a daemon ever ran on this archive."""

    def sizes(self) -> ArchiveSizes:
        """Articles, stories, revisions, raw pages, sources, and bytes on disk."""

    def story(self, article_id: int) -> list[StoryMember]:
        """Every copy of this article's story, the original first."""

    def revisions(self, article_id: int) -> list[Revision]:
        """Earlier versions of an article, oldest first (the article holds the newest)."""

    def duplicates(self, *, since: datetime | None = None, limit: int = 50) -> list[CopiedStory]:
        """Stories with copies in more than one outlet, the most recently published first."""

    def source_statuses(self, now: datetime | None = None) -> list[SourceStatus]:
        """Every source the archive knows, with its articles (all, last 24 h) and poll health."""

    def watch_statuses(self, now: datetime) -> list[WatchStatus]:
        """Every configured watch with its recent matches and deliveries pending or failing."""

    def alerts(self, *, watch: str | None = None, limit: int = 50) -> list[AlertRecord]:
        """Recent matches (of one watch, or all), newest first, with their delivery state."""

    def check_query(self, query: str) -> None:
        """Raise ``QueryError`` (naming the position) unless ``query`` parses and has words to search for."""

    def poll_state(self, source: str) -> PollState:
        """What is remembered of one source between polls, its learned knowledge included."""

    def workers(self, now: datetime) -> list[WorkerStatus]:
        """The workers polling this archive: live ones and those stopped within the last hour."""

    def host_holders(self) -> dict[str, str]:
        """Feed host -> the live worker holding its lease (every host of a live SQLite daemon is its)."""

    def channel(self, source: str) -> Channel:
        """The title and language the source's feed channel last declared (``extract --explain``)."""

    def reextract_ids(
        self, *, sources: Sequence[str] = (), since: datetime | None = None, version: str | None = None
    ) -> list[int]:
        """Ids of articles with a kept raw page (of these sources, fetched since), oldest first; with
        ``version``, only those another extractor version made (what makes a re-run resumable)."""

    def raw_pages(self, ids: Sequence[int]) -> list[StoredPage]:
        """The kept pages of these articles, with their current fields and the feed's evidence."""

    def close(self) -> None:
        """Release the archive."""


class ArchiveStore(ArchiveWriter, ArchiveReader, Protocol):
    """An archive opened for writing: both sides (the daemon reads what it writes)."""
