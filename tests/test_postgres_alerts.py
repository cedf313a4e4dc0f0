"""The alert delivery queue on PostgreSQL behaves as on SQLite (issue 16): each scenario runs on both backends
with the same expectations; on PostgreSQL only, two workers asking at once get disjoint deliveries, and a
worker's claims that it never marks (it crashed) come back after their lease. Also: PostgresArchive now has
every method of both storage Protocols.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.models import Alert, Article, ArticleBatch, Source, Watch
from monitor.store import base
from monitor.store.postgres import PostgresArchive
from monitor.store.postgres.watching import CLAIM_LEASE
from monitor.timefmt import utc_iso
from tests.support import backends
from tests.support.backends import AnyArchive, Backend
from tests.support.builders import T0, article

backend = backends.backend  # the fixture: each scenario below runs on both backends

SOURCES = [
    Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0),
    Source(id="wire", name="Wire", url="https://wire.example/feed", interval_s=900.0),
]
WATCH = Watch(id="mayor", query="mayor", channels=("jsonl:a.jsonl", "jsonl:b.jsonl"))
NOW = T0 + timedelta(hours=1)


def _mayor(n: int) -> Article:
    return article(n, f"Story number {n}: the mayor opened harbour number {n} and spoke of nothing else.")


def _copy(original: Article, n: int) -> Article:
    url = f"https://wire.example/{n}.html"
    return replace(original, source="wire", url=url, link=url, urls=(url,), guid=f"wire-{n}")


def _commit(archive: AnyArchive, *articles: Article) -> list[int]:
    return archive.commit_batch(ArticleBatch(articles[0].source, T0, articles)).inserted


@pytest.fixture
def writer(backend: Backend) -> Iterator[AnyArchive]:
    opened = backend.open()
    opened.sync_sources(SOURCES)
    opened.sync_watches([WATCH])
    try:
        yield opened
    finally:
        opened.close()


# -- scenarios on both backends ----------------------------------------------------------------------------


def test_a_match_waits_on_every_channel_once_per_story_with_its_snippet(writer: AnyArchive) -> None:
    (first,) = _commit(writer, _mayor(1))
    _commit(writer, _copy(_mayor(1), 1))  # a copy of the same story: matched, not notified again
    _commit(writer, article(2))  # no match
    alerts = writer.pending_alerts(NOW)
    assert alerts == [
        Alert(
            delivery_id=delivery,
            match_id=1,
            channel=channel,
            watch="mayor",
            article_id=first,
            url="https://outlet.example/news/1.html",
            source="outlet",
            title="Headline 1",
            published_at=utc_iso(T0 + timedelta(minutes=1)),
            matched_at=str(utc_iso(T0)),
            snippet="Story number 1: the mayor opened harbour number 1 and spoke of nothing else.",
            attempts=0,
        )
        for delivery, channel in ((1, "jsonl:a.jsonl"), (2, "jsonl:b.jsonl"))
    ]
    # nothing marked: the same worker is given the same deliveries again, as SQLite's one daemon is
    assert writer.pending_alerts(NOW) == alerts
    assert writer.pending_alerts(NOW, limit=1) == alerts[:1]


def test_a_failed_channel_backs_off_and_the_match_is_delivered_when_all_are(writer: AnyArchive) -> None:
    _commit(writer, _mayor(1))
    a, b = writer.pending_alerts(NOW)
    writer.delivered([a.delivery_id], NOW)
    writer.delivery_failed(b.delivery_id, "receiver down", retry_at=NOW + timedelta(minutes=1), at=NOW)
    (record,) = writer.alerts(watch="mayor")
    assert (record.delivered_at, record.attempts, record.last_error) == (None, 2, "receiver down")
    assert writer.pending_alerts(NOW + timedelta(seconds=59)) == []
    (again,) = writer.pending_alerts(NOW + timedelta(minutes=1))
    assert (again.delivery_id, again.attempts) == (b.delivery_id, 1)
    later = NOW + timedelta(minutes=2)
    writer.delivered([again.delivery_id], later)
    (record,) = writer.alerts(watch="mayor")
    assert (record.delivered_at, record.attempts, record.last_error) == (utc_iso(later), 3, None)
    assert writer.pending_alerts(later + timedelta(days=1)) == []
    assert [(w.id, w.failing, w.pending) for w in writer.watch_statuses(later)] == [("mayor", 0, 0)]


def test_pending_deliveries_come_oldest_first_up_to_the_limit(writer: AnyArchive) -> None:
    _commit(writer, *(_mayor(n) for n in range(1, 6)))
    alerts = writer.pending_alerts(NOW, limit=4)
    assert [(alert.article_id, alert.channel[6]) for alert in alerts] == [
        (1, "a"),
        (1, "b"),
        (2, "a"),
        (2, "b"),
    ]
    writer.delivered([alert.delivery_id for alert in alerts], NOW)
    assert [alert.article_id for alert in writer.pending_alerts(NOW)] == [3, 3, 4, 4, 5, 5]


# -- many workers, PostgreSQL only -------------------------------------------------------------------------


@pytest.fixture
def workers(postgres_db: str) -> Iterator[list[PostgresArchive]]:
    opened = [PostgresArchive(postgres_db), PostgresArchive(postgres_db)]
    opened[0].sync_sources(SOURCES)
    opened[0].sync_watches([WATCH])
    try:
        yield opened
    finally:
        for worker in opened:
            worker.close()


@pytest.mark.postgres
def test_two_workers_asking_at_once_get_disjoint_deliveries(workers: list[PostgresArchive]) -> None:
    for round_ in range(5):
        _commit(workers[0], *(_mayor(100 * round_ + n) for n in range(20)))  # 40 deliveries
        barrier = threading.Barrier(2)
        got: dict[int, list[Alert]] = {}
        errors: list[BaseException] = []

        def ask(
            index: int,
            barrier: threading.Barrier = barrier,
            got: dict[int, list[Alert]] = got,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                got[index] = workers[index].pending_alerts(NOW, limit=25)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        ids = [{alert.delivery_id for alert in got[index]} for index in (0, 1)]
        assert ids[0].isdisjoint(ids[1])
        # neither waits for the other: each skips what the other holds (the split varies, up to 25 each)
        assert len(ids[0] | ids[1]) == 40 and max(map(len, ids)) <= 25
        # each sends what it claimed; nothing is left for anyone
        for index in (0, 1):
            workers[index].delivered(sorted(ids[index]), NOW)
        assert workers[0].pending_alerts(NOW) == [] and workers[1].pending_alerts(NOW) == []
    assert {record.delivered_at for record in workers[0].alerts(limit=1000)} == {utc_iso(NOW)}


@pytest.mark.postgres
def test_a_crashed_workers_claims_come_back_after_their_lease(
    workers: list[PostgresArchive], postgres_db: str
) -> None:
    _commit(workers[0], _mayor(1), _mayor(2))
    crashed = PostgresArchive(postgres_db)
    claimed = crashed.pending_alerts(NOW)
    crashed.close()  # never marks them: it died between claiming and sending
    assert len(claimed) == 4
    survivor = workers[1]
    assert survivor.pending_alerts(NOW) == []
    assert survivor.pending_alerts(NOW + CLAIM_LEASE - timedelta(seconds=1)) == []
    back = survivor.pending_alerts(NOW + CLAIM_LEASE)
    assert [alert.delivery_id for alert in back] == [alert.delivery_id for alert in claimed]
    assert workers[0].pending_alerts(NOW + CLAIM_LEASE) == []  # now the survivor's, for a lease
    survivor.delivery_failed(back[0].delivery_id, "down", retry_at=NOW + CLAIM_LEASE, at=NOW)
    # a failed delivery is released at once: due again, any worker may take it
    assert [a.delivery_id for a in workers[0].pending_alerts(NOW + CLAIM_LEASE)] == [back[0].delivery_id]


# -- both Protocols, whole ---------------------------------------------------------------------------------


def test_the_postgres_archive_has_every_method_of_both_storage_protocols() -> None:
    for protocol in (base.ArchiveWriter, base.ArchiveReader):
        declared = [
            name
            for name, value in vars(protocol).items()
            if inspect.isfunction(value) and not name.startswith("_")
        ]
        assert "pending_alerts" in declared or "search" in declared
        for name in declared:
            implemented = inspect.getattr_static(PostgresArchive, name)
            assert callable(implemented), name
            assert implemented is not getattr(protocol, name), name  # not the Protocol's empty body
            signature = inspect.signature(getattr(protocol, name))
            assert inspect.signature(getattr(PostgresArchive, name)).parameters.keys() == (
                signature.parameters.keys()
            ), name
