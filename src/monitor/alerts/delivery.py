"""Deliver what the store has matched: at least once, with backoff, never blocking polling.

Pending deliveries live in the archive (``deliveries``), written in the same transaction as the article
that matched, so a crash or a restart loses nothing: what was not delivered is picked up again. A
notifier that fails is retried after 30 s, doubling up to an hour. Email digests wait until their oldest
alert is ``digest`` old, then go as one message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from monitor.alerts.notifiers import Notifiers, NotifyError
from monitor.models import Alert
from monitor.store import ArchiveWriter

log = logging.getLogger("monitor.alerts")

FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0


def retry_delay(attempts: int) -> float:
    return float(min(FIRST_RETRY_S * 2 ** max(attempts, 0), MAX_RETRY_S))


async def deliver_pending(
    store: ArchiveWriter, notifiers: Notifiers, *, now: datetime, flush: bool = False
) -> int:
    """Send what is due; returns how many deliveries succeeded. ``flush`` sends digests now too."""
    by_channel: dict[str, list[Alert]] = defaultdict(list)
    for alert in store.pending_alerts(now):
        by_channel[alert.channel].append(alert)
    sent = 0
    for channel, alerts in by_channel.items():
        digest = notifiers.digest_s(channel)
        if digest and not flush:
            oldest = min(datetime.fromisoformat(alert.matched_at) for alert in alerts)
            if now - oldest < timedelta(seconds=digest):
                continue
        try:
            await notifiers.send(channel, alerts)
        except NotifyError as exc:
            attempts = max(alert.attempts for alert in alerts)
            retry_at = now + timedelta(seconds=retry_delay(attempts))
            log.warning(
                "alerts: delivery failed channel=%s alerts=%d error=%s retry_at=%s",
                channel,
                len(alerts),
                exc,
                retry_at.isoformat(timespec="seconds"),
            )
            for alert in alerts:
                store.delivery_failed(alert.delivery_id, str(exc), retry_at=retry_at, at=now)
            continue
        store.delivered([alert.delivery_id for alert in alerts], now)
        sent += len(alerts)
        log.info("alerts: delivered channel=%s alerts=%d", channel, len(alerts))
    return sent
