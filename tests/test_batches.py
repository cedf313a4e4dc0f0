"""A poll commits as it goes (issue 15): new articles in batches, each one transaction with its URLs, story
links and watch matches; the source's state last. Real SQLite, and the local news-site server for polls."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor.config import Settings, load_config
from monitor.daemon import open_pipeline, run_once
from monitor.fetch import Fetcher
from monitor.models import (
    ArticleBatch,
    CommitResult,
    ExtractedPage,
    PollOutcome,
    Source,
    Watch,
)
from monitor.pipeline import Pipeline
from monitor.store import SQLiteArchive
from monitor.workers import InlineExtractor
from tests.support.archive import EVERY_ARTICLE, articles, reader
from tests.support.builders import T0, batch, harbour_body
from tests.support.builders import article as built_article
from tests.support.gate import Gate, archived_paths
from tests.support.newssite import NewsServer, add_outlets, write_config

SOURCE = Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0)


article = partial(built_article, body=harbour_body)


def test_a_batch_is_archived_with_its_urls_stories_and_alerts_but_not_the_poll_state(tmp_path: Path) -> None:
    archive = SQLiteArchive(tmp_path / "a.db")
    archive.sync_sources([SOURCE])
    archive.sync_watches([Watch(id="mayor", query="mayor", channels=("jsonl:-",))])
    first = archive.commit_batch(batch(article(1), article(2)))
    assert len(first.inserted) == 2 and first.revised == []
    assert {alert.article_id for alert in archive.pending_alerts(T0 + timedelta(hours=1))} == set(
        first.inserted
    )
    # a later batch of the same poll: the same article again is no new one; a copy joins its story
    copy = replace(article(3, text=article(1).text), published_at=T0 + timedelta(hours=2))
    second = archive.commit_batch(batch(article(1), copy))
    assert len(second.inserted) == 1
    joined = archive.get_article(str(second.inserted[0]))
    assert joined.story_id == joined.duplicate_of == first.inserted[0]
    assert archive.db.execute("SELECT count(*) FROM fetches").fetchone()[0] == 4  # the fetch log: no reader
    assert sum(len(stored.urls) for stored in articles(archive)) == 3
    state = archive.poll_state("outlet")  # the state is the poll's end's to write
    assert state.last_polled_at is None and state.next_poll_at is None
    end = archive.commit_poll(PollOutcome("outlet", T0, articles=(article(4),), status=200))
    assert len(end.inserted) == 1 and archive.poll_state("outlet").last_polled_at == T0
    archive.close()


# -- polls against the local news site -------------------------------------------------------------------


def configure(server: NewsServer, tmp_path: Path, *, articles: int, max_connections: int = 2) -> Settings:
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, add_outlets(server, outlets=1, articles=articles), archive=archive)
    text = config.read_text().replace("per_host: 8", f"per_host: 8\n  max_connections: {max_connections}")
    config.write_text(text)
    return load_config(config)


def page_paths(server: NewsServer) -> set[str]:
    """The article pages requested (feed links carry tracking parameters; the archive keeps them off)."""
    return {urlsplit(path).path for path in server.hits if "/news/" in path}


class Recording(SQLiteArchive):
    """The archive, noting at each commit how many article pages the server had answered, how many
    articles were archived, and how many a separate reader (``monitor tail -f``) could see."""

    def __init__(self, path: Path, server: NewsServer) -> None:
        super().__init__(path)
        self.server = server
        self.archived = 0
        self.batches: list[tuple[int, int, int, int]] = []
        """(articles in the batch, pages served, archived before it, seen by a reader before it)"""
        self.last: int | None = None

    def _seen(self) -> int:
        with reader(self.path) as seeing:
            return seeing.count(EVERY_ARTICLE)

    def _served(self) -> int:
        return sum(n for path, n in self.server.hits.items() if "/news/" in path)

    def commit_batch(self, batch: ArticleBatch) -> CommitResult:
        self.batches.append((len(batch.articles), self._served(), self.archived, self._seen()))
        result = super().commit_batch(batch)
        self.archived += len(result.inserted)
        return result

    def commit_poll(self, outcome: PollOutcome) -> CommitResult:
        self.last = len(outcome.articles)
        result = super().commit_poll(outcome)
        self.archived += len(result.inserted)
        return result


async def poll_recorded(settings: Settings, server: NewsServer, **pipeline: float) -> Recording:
    store = Recording(settings.archive, server)
    try:
        store.sync_sources(settings.resolved_sources())
        async with Fetcher(settings.http) as fetcher:
            report = await Pipeline(
                store=store,
                fetcher=fetcher,
                extractor=InlineExtractor(),
                **pipeline,  # type: ignore[arg-type]
            ).poll(settings.resolved_sources()[0])
        assert report.error is None and report.new == store.archived
    finally:
        store.close()
    return store


def test_a_long_poll_writes_bounded_batches_that_readers_see_before_it_ends(
    server: NewsServer, tmp_path: Path
) -> None:
    settings = configure(server, tmp_path, articles=60)
    store = asyncio.run(
        poll_recorded(settings, server, pages_in_flight=4, commit_every=7, commit_interval_s=3600)
    )
    assert [size for size, *_ in store.batches] == [7] * 8 and store.last == 4 and store.archived == 60
    for _, served, archived, seen in store.batches:
        # what the poll holds is its window of pages and the batch being filled, however long the feed is
        assert served - archived <= 4 + 7
        assert seen == archived  # each batch is visible to readers as it lands
    assert len(archived_paths(settings.archive)) == 60 and max(server.hits.values()) == 1


def test_a_batch_also_lands_once_its_first_article_has_waited_the_interval(
    server: NewsServer, tmp_path: Path
) -> None:
    settings = configure(server, tmp_path, articles=20)
    store = asyncio.run(
        poll_recorded(settings, server, pages_in_flight=4, commit_every=1000, commit_interval_s=1e-6)
    )
    assert len(store.batches) >= 2 and store.archived == 20


def test_a_cancelled_poll_keeps_the_pages_it_has_and_the_next_fetches_only_the_rest(
    server: NewsServer, tmp_path: Path
) -> None:
    settings = configure(server, tmp_path, articles=20)
    gate = Gate(server, opened=7)

    class Counting(InlineExtractor):
        done = 0

        async def extract(self, content: bytes, **kwargs: object) -> ExtractedPage:
            page = await super().extract(content, **kwargs)  # type: ignore[arg-type]
            Counting.done += 1
            return page

    async def cut_short() -> None:
        async with open_pipeline(settings, extractor=Counting()) as (pipeline, _):
            poll = asyncio.create_task(pipeline.poll(settings.resolved_sources()[0]))
            while Counting.done < 7 and not poll.done():  # noqa: ASYNC110 (a counter the poll moves)
                await asyncio.sleep(0.01)
            poll.cancel()  # what the daemon does to a poll still running when its shutdown grace is over
            with pytest.raises(asyncio.CancelledError):
                await poll

    try:
        asyncio.run(cut_short())
    finally:
        gate.release()
    kept = archived_paths(settings.archive)
    assert len(kept) == 7  # the seven pages extracted; the ones held at the server were in flight
    outlet = settings.resolved_sources()[0].id
    with reader(settings.archive) as archive:
        state = archive.poll_state(outlet)
    assert (state.last_polled_at, state.etag) == (None, None)
    server.hits.clear()
    reports = asyncio.run(run_once(settings, extractor=InlineExtractor()))
    assert reports[0].new == 13 and reports[0].error is None
    pages = {path for path in server.routes if "/news/" in path}
    assert page_paths(server) == pages - kept and max(server.hits.values()) == 1
    assert archived_paths(settings.archive) == pages
    with reader(settings.archive) as archive:
        state = archive.poll_state(outlet)
    assert state.last_polled_at is not None and state.knowledge is not None
    assert state.knowledge.site_name == "Outlet 1 News"
