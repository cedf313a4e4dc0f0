"""Scheduling decisions (pure): the adaptive interval, error backoff, dead sources, restarts.

Every function takes ``now``; nothing here reads the clock. The pipeline asks for a :class:`NextPoll` after
each poll and hands it to the store; the daemon only asks the store which sources are due.

The adaptive interval (issue #3; formula in docs/design.md):

    dated feed:    interval = span / n     n = entries published in the last 7 days (at least 1),
                                           span = now - the oldest of them (at least min_interval)
    undated feed:  interval = previous * clamp(1 / new_per_poll, 0.5, 2)   (aims at ~1 new item per poll)
    unchanged:     interval = previous * 1.25   (304, or the same body again)
    then:          interval = max(interval, hint)     hint: <ttl>, sy:updatePeriod, Cache-Control, Expires
                   interval = clamp(interval, min_interval, max_interval)
    pinned:        interval = the configured interval, always
"""

from __future__ import annotations

import email.utils
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from monitor.models import NextPoll, PollState, Source

RATE_WINDOW = timedelta(days=7)
MAX_BACKOFF_S = 86400.0
DEAD_RETRY_S = 86400.0
RESTART_SPREAD_MAX_S = 300.0
UNCHANGED_GROWTH = 1.25
EMA_WEIGHT = 0.3


def clamp_interval(source: Source, seconds: float) -> float:
    return min(max(seconds, source.min_interval_s), source.max_interval_s)


def jitter_seconds(source: Source, interval_s: float) -> float:
    """A stable per-source offset of up to 5% of the interval (at most a minute), so sources that share an
    interval do not fire together."""
    fraction = (zlib.crc32(source.id.encode("utf-8")) % 1000) / 1000
    return fraction * min(60.0, interval_s * 0.05)


def _current(source: Source, state: PollState) -> float:
    if source.pinned:
        return source.interval_s
    return clamp_interval(source, state.interval_s or source.interval_s)


def adaptive_interval(
    source: Source,
    state: PollState,
    *,
    now: datetime,
    published: Sequence[datetime] = (),
    new_items: int | None = None,
    hint_s: float | None = None,
) -> tuple[float, float | None]:
    """The next interval and the updated average of new items per poll.

    ``new_items`` is None when the feed was unchanged (304 or the same body): nothing was parsed.
    """
    previous = _current(source, state)
    average = state.new_per_poll
    if new_items is not None:
        average = new_items if average is None else (1 - EMA_WEIGHT) * average + EMA_WEIGHT * new_items
    if source.pinned:
        return source.interval_s, average
    if new_items is None:
        interval = previous * UNCHANGED_GROWTH
    else:
        recent = [t for t in published if now - RATE_WINDOW <= t <= now + timedelta(minutes=5)]
        if recent:
            span = max((now - min(recent)).total_seconds(), source.min_interval_s)
            interval = span / len(recent)
        elif published:  # dated, but nothing in the window: a quiet outlet
            interval = source.max_interval_s
        else:
            factor = 1 / max(average or 0.0, 0.1)
            interval = previous * min(max(factor, 0.5), 2.0)
    if hint_s:
        interval = max(interval, hint_s)
    return clamp_interval(source, interval), average


def after_success(
    source: Source,
    state: PollState,
    *,
    now: datetime,
    published: Sequence[datetime] = (),
    new_items: int | None = None,
    hint_s: float | None = None,
    retry_after_s: float | None = None,
) -> NextPoll:
    """Schedule after a poll that reached the feed. ``retry_after_s`` (a 429 on an article page) holds the
    next poll back at least that long."""
    interval, average = adaptive_interval(
        source, state, now=now, published=published, new_items=new_items, hint_s=hint_s
    )
    wait = interval + jitter_seconds(source, interval)
    if retry_after_s:
        wait = max(wait, min(retry_after_s, MAX_BACKOFF_S))
    return NextPoll(next_poll_at=now + timedelta(seconds=wait), interval_s=interval, new_per_poll=average)


def after_error(
    source: Source,
    state: PollState,
    *,
    now: datetime,
    status: int | None = None,
    retry_after_s: float | None = None,
) -> NextPoll:
    """Exponential backoff from the interval, capped at a day; ``Retry-After`` wins when given; 404/410
    repeated ``dead_after`` times make the source dead, retried daily. Never stops polling."""
    interval = _current(source, state)
    errors = state.error_count + 1
    missing = state.not_found_count + 1 if status in (404, 410) else 0
    dead = missing >= source.dead_after
    if retry_after_s is not None:
        wait = min(max(retry_after_s, 1.0), MAX_BACKOFF_S)
    elif dead:
        wait = DEAD_RETRY_S
    else:
        wait = min(interval * 2 ** (errors - 1), MAX_BACKOFF_S)
    return NextPoll(
        next_poll_at=now + timedelta(seconds=wait),
        interval_s=interval,
        error_count=errors,
        not_found_count=missing,
        new_per_poll=state.new_per_poll,
        dead=dead,
    )


def restart_plan(
    sources: Sequence[Source], states: Mapping[str, PollState], *, now: datetime
) -> dict[str, datetime]:
    """New ``next_poll_at`` for overdue sources after a restart: spread evenly over a few minutes (at most
    the smallest ``min_interval``) instead of all at once. Sources never polled stay due now; sources not
    yet due keep their time."""
    overdue = [
        s
        for s in sources
        if (state := states.get(s.id)) is not None
        and state.last_polled_at is not None
        and (state.next_poll_at is None or state.next_poll_at < now)
    ]
    if not overdue:
        return {}
    window = min(RESTART_SPREAD_MAX_S, *(s.min_interval_s for s in overdue))
    step = window / len(overdue)
    return {s.id: now + timedelta(seconds=i * step) for i, s in enumerate(overdue)}


def http_hint_seconds(headers: Mapping[str, str], *, now: datetime) -> float | None:
    """``Cache-Control: max-age`` (or ``s-maxage``), else ``Expires``, as seconds from ``now``."""
    cache_control = headers.get("cache-control", "")
    if match := re.search(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*(\d+)", cache_control):
        return float(match.group(1))
    expires = headers.get("expires")
    if expires:
        try:
            when = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
        return seconds if seconds > 0 else None
    return None


RECHECK_AFTER_S = (3600.0, 6 * 3600.0, 24 * 3600.0, 48 * 3600.0)


def next_recheck(first_seen: datetime, *, checks_done: int, recheck_s: float) -> datetime | None:
    """When to re-fetch an archived article for edits: 1h, 6h, 24h and 48h after first sight, as far as
    ``recheck`` reaches; None once the schedule is used up."""
    offsets = [offset for offset in RECHECK_AFTER_S if offset <= recheck_s]
    if checks_done >= len(offsets):
        return None
    return first_seen + timedelta(seconds=offsets[checks_done])


# -- workers sharing an archive (issue 16) ---------------------------------------------------------------


def feed_host(url: str) -> str:
    """The host by which a source is leased: its address's host name, lower-cased, without the port (one
    worker at a time polls the feeds of a host)."""
    return (urlsplit(url).hostname or "").lower()


def host_share(hosts: int, workers: Sequence[str], me: str) -> int:
    """How many of ``hosts`` leased hosts the worker ``me`` should hold among the live ``workers``: ⌊H/W⌋,
    and one more for the first H mod W workers in id order, so that every worker computes the same split
    and the shares add up to H."""
    live = sorted({*workers, me})
    base, extra = divmod(hosts, len(live))
    return base + (1 if live.index(me) < extra else 0)
