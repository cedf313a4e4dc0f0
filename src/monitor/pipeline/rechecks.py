"""Rechecks: re-fetch archived articles to catch edits, those whose feed entry changed (their schedule stays)
and those due on their decaying schedule (1h, 6h, 24h, 48h after first sight; rescheduled). Bounded per poll.
Each comes back as a :class:`Recheck` for the poll's end to write; a failure leaves ``article`` None."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from monitor.articles import build_article
from monitor.dedup import canonical_url
from monitor.errors import ArchiveUnavailableError
from monitor.models import DueRecheck, FeedEntry, ParsedFeed, Recheck, Source, SourceKnowledge
from monitor.pipeline.base import FetchLog
from monitor.pipeline.pages import FetchedPage, PageFetcher
from monitor.pipeline.triage import Changed
from monitor.schedule import next_recheck

log = logging.getLogger("monitor.pipeline")

MAX_RECHECKS = 10


async def recheck_articles(
    pages: PageFetcher,
    source: Source,
    *,
    polled_at: datetime,
    due: Sequence[DueRecheck],
    changed: Sequence[Changed],
    feed: ParsedFeed | None,
    knowledge: SourceKnowledge | None,
    fetches: FetchLog,
    clock: Callable[[], datetime],
) -> list[Recheck]:
    """Re-fetch the first ``MAX_RECHECKS`` changed articles and every due one (``due`` is bounded by the
    store's query), each once."""
    due_by_id = {row.article_id: row for row in due}
    jobs: dict[int, tuple[str, FeedEntry, DueRecheck | None]] = {}
    for change in changed[:MAX_RECHECKS]:
        jobs[change.article_id] = (change.item.fetch_url, change.item.entry, due_by_id.get(change.article_id))
    for article_id, row in due_by_id.items():
        jobs.setdefault(article_id, (row.url, FeedEntry(guid=None, link=row.url), row))

    async def recheck(article_id: int, url: str, entry: FeedEntry, row: DueRecheck | None) -> Recheck:
        article = None
        try:
            fetched = await pages.fetch(source, url, fetches) if source.fetch_articles else FetchedPage()
            if fetched.page is not None or not source.fetch_articles:
                article = build_article(
                    source=source,
                    entry=entry,
                    link=canonical_url(url),
                    fetched_at=clock(),
                    page=fetched.page,
                    final_url=fetched.final_url,
                    feed_language=feed.language if feed else None,
                    channel_title=feed.title if feed else None,
                    knowledge=knowledge,
                    raw=fetched.raw,
                )
        except (asyncio.CancelledError, KeyboardInterrupt, ArchiveUnavailableError):
            raise
        except Exception:
            log.exception("pipeline: re-check failed source=%s url=%s", source.id, url)
        if row is None:  # an edit signalled by the feed: the schedule stays as it was
            return Recheck(article_id, article, reschedule=False)
        checks = row.checks + 1
        first_seen = row.first_seen or polled_at
        next_check_at = next_recheck(first_seen, checks_done=checks, recheck_s=source.recheck_s)
        return Recheck(article_id, article, reschedule=True, checks=checks, next_check_at=next_check_at)

    return list(await asyncio.gather(*(recheck(i, *job) for i, job in jobs.items())))
