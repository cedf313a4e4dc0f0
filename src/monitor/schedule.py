"""Scheduling decisions (pure): when a source is first due, and how much jitter spreads polls out.

The adaptive interval, backoff and politeness of issue "Polling" extend this module.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.models import Source

MAX_JITTER_S = 60.0


def jitter_seconds(source: Source) -> float:
    """Up to 10% of the interval (at most a minute), so that sources with one interval do not fire as one."""
    return min(MAX_JITTER_S, source.interval_s * 0.1)


def first_poll_at(
    source: Source, *, last_polled_at: datetime | None, now: datetime, spread: float = 0.0
) -> datetime:
    """A source never polled is due now; one polled before is due an interval after its last poll, or,
    when that has passed, within the jitter window from now (``spread`` in [0, 1) picks where, so that a
    restart does not fire every overdue source at once)."""
    if last_polled_at is None:
        return now
    due = last_polled_at + timedelta(seconds=source.interval_s)
    if due <= now:
        return now + timedelta(seconds=spread * jitter_seconds(source))
    return due
