"""The poll's commits on PostgreSQL behave as on SQLite (issue 16): each scenario runs on both backends with
the same expectations, read back with the same plain SQL on both; and two workers
committing copies of one story at the same moment make one story.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from monitor.dedup import band_keys, content_hash
from monitor.models import (
    Article,
    ArticleBatch,
    DueRecheck,
    EntryAlias,
    FetchRecord,
    NextPoll,
    PollOutcome,
    Recheck,
    Source,
    Validators,
    Watch,
)
from monitor.store.postgres import PostgresArchive
from monitor.timefmt import utc_iso
from tests.support import backends
from tests.support.backends import AnyArchive, Backend
from tests.support.builders import T0, batch, harbour_body
from tests.support.builders import article as built_article

backend = backends.backend  # the fixture: each test below runs on both backends


_Archive = PostgresArchive  # the poll writer and the reader are among its bases


SOURCE = Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0)
OTHER = Source(id="wire", name="Wire", url="https://wire.example/feed", interval_s=900.0)


article = partial(built_article, body=harbour_body)


def syndicated(original: Article, n: int, *, source: str = "wire") -> Article:
    """A copy of ``original`` in another outlet, under its own URL and GUID."""
    url = f"https://{source}.example/{n}.html"
    return replace(original, source=source, url=url, link=url, urls=(url,), guid=f"{source}-{n}")


@pytest.fixture
def writer(backend: Backend) -> Iterator[AnyArchive]:
    """A fresh archive opened for writing, with the poll writer on PostgreSQL too."""
    opened = backend.open() if backend.name == "sqlite" else _Archive(str(backend.location))
    opened.sync_sources([SOURCE, OTHER])
    opened.sync_watches([Watch(id="mayor", query="mayor", channels=("jsonl:-",))])
    try:
        yield opened
    finally:
        opened.close()


def _plain(value: Any) -> Any:
    return utc_iso(value) if isinstance(value, datetime) else value


def rows(backend: Backend, archive: AnyArchive, sql: str) -> list[tuple[Any, ...]]:
    """Rows as both backends can agree on them: moments as SQLite's text."""
    return [tuple(_plain(v) for v in row) for row in backend.execute(archive, sql)]


def snapshot(backend: Backend, archive: AnyArchive) -> dict[str, list[tuple[Any, ...]]]:
    """What a commit leaves behind, table by table."""
    queries = {
        "articles": "SELECT id, url, source, guid, story_id, duplicate_of, next_check_at FROM articles "
        "ORDER BY id",
        "urls": "SELECT url, article_id, first_seen_at FROM article_urls ORDER BY url",
        "guids": "SELECT source, guid, article_id FROM entry_guids ORDER BY source, guid",
        "matches": "SELECT watch, article_id, CASE WHEN notify THEN 1 ELSE 0 END FROM matches ORDER BY id",
        "deliveries": "SELECT match_id, channel FROM deliveries ORDER BY id",
        "fetches": "SELECT source, url, kind, status FROM fetches ORDER BY id",
        "indexed": "SELECT count(*) FROM articles_fts",
    }
    return {name: rows(backend, archive, sql) for name, sql in queries.items()}


def _url(n: int) -> str:
    return f"https://outlet.example/news/{n}.html"


# -- scenarios on both backends ----------------------------------------------------------------------------


def test_new_articles_land_with_their_urls_guids_matches_and_fetch_log(
    writer: AnyArchive, backend: Backend
) -> None:
    result = writer.commit_batch(batch(article(1), article(2)))
    assert (result.inserted, result.revised) == ([1, 2], [])
    check_at = [utc_iso(T0 + timedelta(minutes=n + 1, hours=1)) for n in (1, 2)]
    assert snapshot(backend, writer) == {
        "articles": [
            (1, _url(1), "outlet", "g1", 1, None, check_at[0]),
            (2, _url(2), "outlet", "g2", 2, None, check_at[1]),
        ],
        "urls": [(_url(1), 1, utc_iso(T0)), (_url(2), 2, utc_iso(T0))],
        "guids": [("outlet", "g1", 1), ("outlet", "g2", 2)],
        "matches": [("mayor", 1, 1), ("mayor", 2, 1)],
        "deliveries": [(1, "jsonl:-"), (2, "jsonl:-")],
        "fetches": [("outlet", _url(1), "page", 200), ("outlet", _url(2), "page", 200)],
        "indexed": [(2,)],
    }
    # the source's state is the poll's end's to write
    assert writer.poll_state("outlet").last_polled_at is None


def test_a_batch_then_the_poll_end_a_known_url_once_and_a_copy_in_its_story(
    writer: AnyArchive, backend: Backend
) -> None:
    first = writer.commit_batch(batch(article(1), article(2)))
    copy = syndicated(article(1), 3)
    second = writer.commit_batch(batch(article(1), copy))  # article 1 again: no new article
    assert second.inserted == [3]
    plan = NextPoll(next_poll_at=T0 + timedelta(minutes=15), interval_s=900.0, new_per_poll=1.5)
    end = writer.commit_poll(
        PollOutcome(
            "outlet",
            T0,
            articles=(article(4),),
            aliases=(EntryAlias("outlet", "g1-old", "https://outlet.example/amp/1.html"),),
            fetches=(FetchRecord("outlet", SOURCE.url, "feed", T0, status=200),),
            status=200,
            schedule=plan,
            validators=Validators(etag='"v2"', body_hash="abc"),
            recheck_s=3600.0,
        )
    )
    assert first.inserted == [1, 2] and end.inserted == [4]
    seen = snapshot(backend, writer)
    assert [row[:6] for row in seen["articles"]] == [
        (1, _url(1), "outlet", "g1", 1, None),
        (2, _url(2), "outlet", "g2", 2, None),
        (3, "https://wire.example/3.html", "wire", "wire-3", 1, 1),  # joined the original's story
        (4, _url(4), "outlet", "g4", 4, None),
    ]
    assert [url for url, *_ in seen["urls"]].count(_url(1)) == 1
    assert len(seen["urls"]) == 4  # the alias of a URL no article has is not remembered
    # the copy matched the watch but is not notified again: its story was
    assert seen["matches"] == [("mayor", 1, 1), ("mayor", 2, 1), ("mayor", 3, 0), ("mayor", 4, 1)]
    assert len(seen["deliveries"]) == 3 and seen["indexed"] == [(4,)]
    assert len(seen["fetches"]) == 5 and seen["fetches"][-1] == ("outlet", SOURCE.url, "feed", 200)
    assert rows(backend, writer, "SELECT score FROM (SELECT duplicate_score AS score FROM articles) AS s "
                "WHERE score IS NOT NULL") == [(1.0,)]  # fmt: skip
    state = writer.poll_state("outlet")
    assert (state.last_polled_at, state.next_poll_at, state.interval_s, state.new_per_poll) == (
        T0, plan.next_poll_at, 900.0, 1.5,
    )  # fmt: skip
    assert (state.etag, state.last_modified, state.body_hash, state.error_count) == ('"v2"', None, "abc", 0)
    assert rows(backend, writer, "SELECT poll_count, last_status FROM sources WHERE id = 'outlet'") == [
        (1, 200)
    ]


def test_an_alias_of_a_known_entry_is_remembered(writer: AnyArchive, backend: Backend) -> None:
    writer.commit_batch(batch(article(1)))
    amp = "https://outlet.example/amp/1.html"
    writer.commit_poll(PollOutcome("outlet", T0, aliases=(EntryAlias("outlet", "g1-amp", amp),), status=304))
    assert writer.known_entries("outlet", [], [amp])[1] == {}  # an alias names a URL already known
    writer.commit_poll(PollOutcome("outlet", T0, aliases=(EntryAlias("outlet", "g1-amp", _url(1)),)))
    assert rows(backend, writer, "SELECT guid, article_id FROM entry_guids ORDER BY guid") == [
        ("g1", 1), ("g1-amp", 1),
    ]  # fmt: skip


def test_a_failed_poll_records_its_error_and_keeps_the_validators(writer: AnyArchive) -> None:
    writer.commit_poll(PollOutcome("outlet", T0, status=200, validators=Validators(etag='"v1"')))
    writer.commit_poll(PollOutcome("outlet", T0 + timedelta(minutes=15), status=503, error="HTTP 503"))
    state = writer.poll_state("outlet")
    assert (state.etag, state.error_count, state.last_polled_at) == ('"v1"', 1, T0 + timedelta(minutes=15))


def test_due_rechecks_after_a_commit_and_a_revision(writer: AnyArchive, backend: Backend) -> None:
    writer.commit_batch(batch(article(1), article(2)))
    assert writer.due_rechecks("outlet", T0, limit=10) == []
    later = T0 + timedelta(hours=2)
    assert writer.due_rechecks("outlet", later, limit=10) == [
        DueRecheck(1, _url(1), 0, T0),
        DueRecheck(2, _url(2), 0, T0),
    ]
    assert writer.due_rechecks("outlet", later, limit=1) == [DueRecheck(1, _url(1), 0, T0)]
    text = harbour_body(1) + " The harbour reopened on Tuesday."
    edited = replace(
        article(1), text=text, content_hash=content_hash(text), bands=band_keys(text), title="New"
    )
    result = writer.commit_poll(
        PollOutcome(
            "outlet",
            later,
            rechecks=(
                Recheck(1, edited, checks=1, next_check_at=later + timedelta(hours=4)),
                Recheck(2, article(2), checks=1, next_check_at=None),  # the same text: no revision
            ),
        )
    )
    assert (result.inserted, result.revised) == ([], [1])
    assert rows(backend, writer, "SELECT article_id, title, text FROM revisions") == [
        (1, "Headline 1", harbour_body(1))
    ]
    assert rows(backend, writer, "SELECT title, text, checks FROM articles ORDER BY id") == [
        ("New", text, 1),
        ("Headline 2", harbour_body(2), 1),
    ]
    assert writer.due_rechecks("outlet", later + timedelta(days=1), limit=10) == [
        DueRecheck(1, _url(1), 1, T0)
    ]
    # the revised article is matched again: already recorded, so no second match
    assert rows(backend, writer, "SELECT watch, article_id FROM matches ORDER BY id") == [
        ("mayor", 1), ("mayor", 2),
    ]  # fmt: skip


# -- many workers, PostgreSQL only ------------------------------------------------------------------------


def _long_body(n: int) -> str:
    words = " ".join(f"word{(n * 7919 + i * 104729) % 100003}" for i in range(120))
    return f"Wire story {n}: the council voted on the harbour. {words}"


@pytest.mark.parametrize("near", [False, True], ids=["same-text", "near-copy"])
def test_two_workers_committing_copies_of_one_story_at_once_make_one_story(
    postgres_db: str, near: bool
) -> None:
    workers = [_Archive(postgres_db), _Archive(postgres_db)]
    try:
        workers[0].sync_sources([SOURCE, OTHER])
        for round_ in range(8):
            text = _long_body(round_)
            original = built_article(100 + round_, text)
            copy_text = text + " (Reuters)" if near else text
            copy = replace(
                syndicated(original, round_), text=copy_text, content_hash=content_hash(copy_text),
                bands=band_keys(copy_text),
            )  # fmt: skip
            assert original.bands and copy.bands and (copy.content_hash == original.content_hash) != near
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def commit(
                worker: _Archive,
                item: Article,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    worker.commit_batch(ArticleBatch(item.source, T0, (item,)))
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)

            threads = [
                threading.Thread(target=commit, args=(worker, item))
                for worker, item in zip(workers, (original, copy), strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
        with workers[0]._transaction() as conn:
            per_round = conn.execute(
                "SELECT substr(text, 1, 13), count(*), count(DISTINCT story_id) FROM articles GROUP BY 1 "
                "ORDER BY 1"
            ).fetchall()
        assert per_round == [(f"Wire story {r}:", 2, 1) for r in range(8)]  # each round: one story
    finally:
        for worker in workers:
            worker.close()


@pytest.mark.postgres
def test_a_big_batch_holds_a_bounded_number_of_locks_and_excludes_its_keys(postgres_db: str) -> None:
    """PostgreSQL's lock table is shared and small: a commit's ~27 keys per article are folded into at most
    LOCK_BUCKETS advisory locks, and another writer still cannot take the lock of any of them."""
    import psycopg

    from monitor.store.postgres.locking import LOCK_BUCKETS, LOCK_CLASS, lock_buckets, lock_keys
    from tests.support.newssite import article_text

    articles = [built_article(n, " ".join(article_text(1, n))) for n in range(100)]
    keys = {key for a in articles for key in a.bands}
    assert len(keys) > LOCK_BUCKETS  # unfolded, this batch alone would take more
    with psycopg.connect(postgres_db) as conn, psycopg.connect(postgres_db, autocommit=True) as other:
        with conn.transaction():
            lock_keys(conn, articles)
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            ).fetchone()
            assert held is not None and held[0] <= LOCK_BUCKETS
            (bucket,) = lock_buckets([articles[7].bands[0]])
            taken = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, bucket]).fetchone()
            assert taken == (False,)
        taken = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_CLASS, bucket]).fetchone()
        assert taken == (True,)  # released with the transaction
