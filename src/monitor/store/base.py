"""The storage seam (pure: a Protocol, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from monitor.models import PollOutcome, SearchHit, SearchQuery, Source, SourceStatus


class Archive(Protocol):
    def sync_sources(self, sources: Sequence[Source]) -> None:
        """Make the ``sources`` table list exactly the configured sources, keeping their poll state."""

    def last_polled(self) -> dict[str, str | None]:
        """Source id -> ISO time of its last poll (None if never polled)."""

    def known_entries(
        self, source: str, guids: Iterable[str], urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these GUIDs (of this source) and URLs (of any source) are already archived."""

    def commit_poll(self, outcome: PollOutcome) -> list[int]:
        """Apply one poll atomically; returns the ids of articles newly inserted."""

    def search(self, query: SearchQuery) -> list[SearchHit]: ...

    def get_article(self, id_or_url: str) -> dict[str, Any]: ...

    def source_statuses(self) -> list[SourceStatus]: ...

    def close(self) -> None: ...
