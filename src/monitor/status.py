"""What the config lists, joined with what the archive knows of it: one row per configured source or watch,
in config order, with a default row for one the archive has not seen (pure: data in, data out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from monitor.models import Source, SourceStatus


class Configured(Protocol):
    """A watch as the config or :class:`monitor.models.Watch` has it."""

    @property
    def id(self) -> str: ...

    @property
    def query(self) -> str: ...


def never_polled(source: Source) -> SourceStatus:
    return SourceStatus(
        id=source.id,
        name=source.name,
        kind=source.kind,
        url=source.url,
        enabled=source.enabled,
        state="never polled" if source.enabled else "disabled",
        articles=0,
        articles_24h=0,
        last_polled_at=None,
        next_poll_at=None,
        last_success_at=None,
        interval_s=source.interval_s,
        last_status=None,
        last_error=None,
        error_count=0,
        polls=0,
        not_modified_share=None,
        moved_from=None,
    )


def source_statuses(configured: Sequence[Source], known: Iterable[SourceStatus]) -> list[SourceStatus]:
    """Each configured source with its archived status; ``enabled`` and a disabled ``state`` follow the
    config, which may have changed since the daemon last read it."""
    by_id = {status.id: status for status in known}
    statuses = []
    for source in configured:
        status = by_id.get(source.id)
        if status is None:
            status = never_polled(source)
        elif status.enabled != source.enabled:
            status = replace(
                status, enabled=source.enabled, state="disabled" if not source.enabled else status.state
            )
        statuses.append(status)
    return statuses


def watch_statuses(
    configured: Sequence[Configured], known: Iterable[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Each configured watch with its archived counts (matches in 24 h, 7 days and all, deliveries pending
    and failing), zeros for one the archive has not seen."""
    by_id = {row["id"]: row for row in known}
    empty = {"matches_24h": 0, "matches_7d": 0, "matches": 0, "failing": 0, "pending": 0}
    return [by_id.get(w.id) or {"id": w.id, "query": w.query, **empty} for w in configured]


def size_rows(sizes: Mapping[str, int]) -> list[dict[str, Any]]:
    """``monitor stats`` without ``--by``: what the archive holds and its bytes per article, with and
    without the kept raw pages, as ``{"key", "count"}`` rows."""
    articles = max(sizes["articles"], 1)
    without_raw = (sizes["bytes"] - sizes["raw_bytes"]) // articles
    return [
        {"key": "articles", "count": sizes["articles"]},
        {"key": "stories", "count": sizes["stories"]},
        {"key": "revisions", "count": sizes["revisions"]},
        {"key": "sources", "count": sizes["sources"]},
        {"key": "raw pages kept", "count": sizes["raw_pages"]},
        {"key": "archive bytes", "count": sizes["bytes"]},
        {"key": "bytes per article", "count": sizes["bytes"] // articles},
        {"key": "bytes per article without raw pages", "count": without_raw},
    ]
