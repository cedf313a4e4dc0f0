"""The storage seam (pure: a Protocol, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from monitor.models import (
    Alert,
    ArticleBatch,
    CommitResult,
    KnownEntry,
    PollOutcome,
    PollState,
    SearchHit,
    SearchQuery,
    Source,
    SourceStatus,
    Watch,
)


class Archive(Protocol):
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Make the ``sources`` table list exactly the configured sources, keeping their poll state."""

    def poll_states(self) -> dict[str, PollState]:
        """Source id -> what is remembered between polls (validators, interval, errors, next poll)."""

    def poll_state(self, source: str) -> PollState: ...

    def reschedule(self, next_polls: Mapping[str, datetime]) -> None:
        """Set ``next_poll_at`` of these sources (the daemon's restart plan)."""

    def due_sources(self, now: datetime) -> list[str]:
        """Ids of enabled, configured sources whose next poll is due at ``now`` (never polled first)."""

    def known_entries(
        self, source: str, guids: Iterable[str], urls: Iterable[str]
    ) -> tuple[dict[str, KnownEntry], dict[str, KnownEntry]]:
        """Which of these GUIDs (of this source) and URLs (of any source) are already archived, with the
        article each belongs to and the feed entry's fingerprint when it was last seen."""

    def due_rechecks(
        self, source: str, now: datetime, *, limit: int
    ) -> list[tuple[int, str, int, datetime | None]]:
        """(article id, URL, checks done, first seen) of this source's articles due a re-fetch for edits."""

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

    def check_query(self, query: str) -> None:
        """Raise ``QueryError`` unless the full-text engine accepts ``query``."""

    def pending_alerts(self, now: datetime, *, limit: int = 500) -> list[Alert]: ...

    def delivered(self, delivery_ids: Sequence[int], at: datetime) -> None: ...

    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime, at: datetime) -> None: ...

    def search(self, query: SearchQuery) -> list[SearchHit]: ...

    def get_article(self, id_or_url: str) -> dict[str, Any]: ...

    def source_statuses(self, now: datetime | None = None) -> list[SourceStatus]: ...

    def close(self) -> None: ...
