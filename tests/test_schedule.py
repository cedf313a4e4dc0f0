"""Scheduling decisions, as pure functions with an injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import PollState, Source
from monitor.parse.feeds import feed_hint_seconds
from monitor.schedule import after_error, after_success, http_hint_seconds, restart_plan

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ADAPTIVE = Source(
    id="s", name="s", url="http://x/feed", interval_s=900, min_interval_s=300, max_interval_s=21600
)


def simulate(period: timedelta, *, polls: int = 60, feed_size: int = 20) -> list[float]:
    """Poll an outlet that publishes every ``period``, whose feed shows its newest ``feed_size`` items."""
    state = PollState(interval_s=ADAPTIVE.interval_s)
    now = T0 + timedelta(days=30)
    first_item = T0
    seen = 0
    intervals = []
    for _ in range(polls):
        published_count = int((now - first_item) / period) + 1
        items = [first_item + i * period for i in range(max(0, published_count - feed_size), published_count)]
        new = published_count - seen if seen else len(items)
        seen = published_count
        plan = after_success(ADAPTIVE, state, now=now, published=items, new_items=new)
        intervals.append(plan.interval_s)
        state = replace(state, interval_s=plan.interval_s, new_per_poll=plan.new_per_poll, last_polled_at=now)
        now = plan.next_poll_at
    return intervals


def test_adaptive_interval_converges_busy_vs_quiet() -> None:
    busy = simulate(timedelta(minutes=10))
    quiet = simulate(timedelta(days=1))
    assert all(540 <= i <= 700 for i in busy[-20:]), busy[-20:]  # about the 10-minute publishing gap
    assert quiet[-1] == ADAPTIVE.max_interval_s  # daily outlet: as rarely as allowed (6h)
    very_busy = simulate(timedelta(minutes=1))
    assert very_busy[-1] == ADAPTIVE.min_interval_s  # never below min_interval


def test_pinned_interval_never_moves() -> None:
    pinned = replace(ADAPTIVE, interval_s=120, pinned=True)
    plan = after_success(pinned, PollState(interval_s=999), now=T0, published=[T0], new_items=5, hint_s=3600)
    assert plan.interval_s == 120


def test_undated_feed_aims_at_one_new_item_per_poll() -> None:
    state = PollState(interval_s=3600, new_per_poll=0.0)
    longer = after_success(ADAPTIVE, state, now=T0, new_items=0)
    assert longer.interval_s == 7200
    busy = after_success(ADAPTIVE, PollState(interval_s=3600, new_per_poll=8.0), now=T0, new_items=8)
    assert busy.interval_s == 1800


def test_unchanged_feed_slowly_lengthens_and_hints_are_lower_bounds() -> None:
    state = PollState(interval_s=1000)
    assert after_success(ADAPTIVE, state, now=T0, new_items=None).interval_s == 1250
    recent = [T0 - timedelta(minutes=i) for i in range(0, 100, 5)]
    fast = after_success(ADAPTIVE, state, now=T0, published=recent, new_items=3)
    hinted = after_success(ADAPTIVE, state, now=T0, published=recent, new_items=3, hint_s=3600)
    assert fast.interval_s == 300 and hinted.interval_s == 3600
    capped = after_success(ADAPTIVE, state, now=T0, published=recent, new_items=3, hint_s=7 * 86400)
    assert capped.interval_s == ADAPTIVE.max_interval_s


def test_errors_back_off_exponentially_capped_at_a_day() -> None:
    state = PollState(interval_s=900)
    waits = []
    for _ in range(12):
        plan = after_error(ADAPTIVE, state, now=T0, status=500)
        waits.append((plan.next_poll_at - T0).total_seconds())
        state = replace(state, error_count=plan.error_count, not_found_count=plan.not_found_count)
    assert waits[:4] == [900, 1800, 3600, 7200]
    assert max(waits) == 86400 and waits[-1] == 86400
    assert state.error_count == 12  # still scheduled: every plan has a next poll


def test_retry_after_wins_and_is_capped() -> None:
    plan = after_error(ADAPTIVE, PollState(interval_s=900), now=T0, status=429, retry_after_s=3600)
    assert plan.next_poll_at - T0 == timedelta(hours=1)
    plan = after_error(ADAPTIVE, PollState(interval_s=900), now=T0, status=503, retry_after_s=10 * 86400)
    assert plan.next_poll_at - T0 == timedelta(days=1)
    ok = after_success(ADAPTIVE, PollState(interval_s=900), now=T0, new_items=1, retry_after_s=7200)
    assert ok.next_poll_at - T0 >= timedelta(hours=2)


def test_repeated_404_makes_a_dead_source_retried_daily() -> None:
    state = PollState(interval_s=900)
    for attempt in range(1, 11):
        plan = after_error(ADAPTIVE, state, now=T0, status=404)
        state = replace(
            state, error_count=plan.error_count, not_found_count=plan.not_found_count, dead=plan.dead
        )
        assert plan.dead is (attempt >= 10)
    assert plan.next_poll_at - T0 == timedelta(days=1)
    # a 500 in between resets the run of 404s: the outlet is there, just failing
    assert after_error(ADAPTIVE, replace(state, not_found_count=9), now=T0, status=500).not_found_count == 0
    back = after_success(ADAPTIVE, state, now=T0, new_items=1)
    assert back.dead is False and back.error_count == 0 and back.not_found_count == 0


def test_restart_spreads_overdue_sources_and_keeps_the_rest() -> None:
    now = T0
    sources = [replace(ADAPTIVE, id=f"s{i}") for i in range(6)]
    states = {
        "s0": PollState(last_polled_at=now - timedelta(hours=5), next_poll_at=now - timedelta(hours=4)),
        "s1": PollState(last_polled_at=now - timedelta(hours=5), next_poll_at=now - timedelta(hours=1)),
        "s2": PollState(last_polled_at=now - timedelta(hours=5), next_poll_at=now - timedelta(minutes=1)),
        "s3": PollState(last_polled_at=now - timedelta(minutes=1), next_poll_at=now + timedelta(minutes=9)),
        "s4": PollState(),  # never polled: due at once
    }
    plan = restart_plan(sources, states, now=now)
    assert set(plan) == {"s0", "s1", "s2"}
    offsets = sorted((when - now).total_seconds() for when in plan.values())
    assert offsets == [0, 100, 200] and max(offsets) < ADAPTIVE.min_interval_s


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"cache-control": "public, max-age=600"}, 600),
        ({"cache-control": "s-maxage=120"}, 120),
        ({"expires": "Thu, 01 Jan 2026 01:00:00 GMT"}, 3600),
        ({"expires": "0"}, None),
        ({}, None),
    ],
)
def test_http_hints(headers: dict[str, str], seconds: float | None) -> None:
    assert http_hint_seconds(headers, now=T0) == seconds


def test_feed_hints() -> None:
    assert feed_hint_seconds(ttl="60") == 3600
    assert feed_hint_seconds(update_period="hourly", update_frequency="2") == 1800
    assert feed_hint_seconds(ttl="5", update_period="daily") == 86400
    assert feed_hint_seconds(ttl="soon") is None
