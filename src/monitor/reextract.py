"""``monitor reextract``: run the current extractor again over the kept raw pages of the archive.

Resumable and idempotent: every article re-read is marked with :data:`EXTRACTOR_VERSION`, so an interrupted
run continues where it stopped, and a second run finds nothing to do (``force`` re-reads everything, and
still changes nothing when the result is the same).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor import rawpage
from monitor.articles import reextracted_fields, source_evidence
from monitor.config import Settings
from monitor.extract import EXTRACTOR_VERSION
from monitor.models import Reextraction
from monitor.store import open_archive
from monitor.workers import Extractor, ProcessPoolExtractor

BATCH = 50


@dataclass(frozen=True, slots=True)
class ReextractReport:
    seen: int
    changed: int
    failed: int


async def reextract(
    settings: Settings,
    *,
    sources: Sequence[str] = (),
    since: datetime | None = None,
    force: bool = False,
    now: datetime,
    extractor: Extractor | None = None,
    on_start: Callable[[int], None] = lambda total: None,
    on_progress: Callable[[int], None] = lambda done: None,
) -> ReextractReport:
    configured = {source.id: source for source in settings.resolved_sources()}
    selectors = {source_id: source.selectors for source_id, source in configured.items()}
    store = open_archive(settings.archive)
    extractor = extractor or ProcessPoolExtractor()
    seen = changed = failed = 0
    try:
        knowledge = {source_id: state.knowledge for source_id, state in store.poll_states().items()}
        ids = store.reextract_ids(sources=sources, since=since, version=None if force else EXTRACTOR_VERSION)
        on_start(len(ids))
        for start in range(0, len(ids), BATCH):
            pages = store.raw_pages(ids[start : start + BATCH])
            changes: list[Reextraction] = []
            for stored in pages:
                try:
                    content = rawpage.decompress(stored.body, stored.compression)
                    page = await extractor.extract(
                        content,
                        url=stored.url,
                        charset=stored.charset,
                        now=now,
                        selectors=selectors.get(stored.source),
                    )
                except ValueError:
                    failed += 1
                    continue
                changes.append(
                    reextracted_fields(
                        stored,
                        page,
                        page_url=stored.url,
                        source=source_evidence(configured.get(stored.source), knowledge.get(stored.source)),
                        fetched_at=now,
                    )
                )
            changed += store.apply_reextraction(changes, version=EXTRACTOR_VERSION)
            seen += len(pages)
            on_progress(len(pages))
    finally:
        extractor.close()
        store.close()
    return ReextractReport(seen=seen, changed=changed, failed=failed)
