"""The PostgreSQL archive behaves as the SQLite one (issue 16): each scenario runs on both backends
(tests/support/backends.py) with the same expectations, and one transcript of every call is compared whole.

So far: the sources' poll state (``sync_sources``, ``poll_states``, ``poll_state``, ``reschedule``,
``due_sources``), the dedup lookup (``known_entries``), the heartbeat (``beat``, ``heartbeat``), the watches'
list (``sync_watches``), opening for reading and writing, and ``close``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import StoreError
from monitor.models import KnownEntry, PollState, Source, SourceKnowledge, Watch
from monitor.store.postgres import PostgresArchive
from tests.support import backends
from tests.support.backends import AnyArchive, Backend

backend, archive = backends.backend, backends.archive  # the fixtures: each test below runs on both backends

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
A = Source(id="a", name="Outlet A", url="https://a.example/feed", interval_s=900.0, tags=("news", "fr"))
B = Source(id="b", name="Outlet B", url="https://b.example/feed", interval_s=600.0, pinned=True)
C = Source(id="c", name="Outlet C", url="https://c.example/sitemap.xml", interval_s=1800.0, kind="sitemap")
NOTHING_LEARNED = SourceKnowledge(None, None, (), ())


def _fresh(source: Source) -> PollState:
    """The state of a source just configured and never polled."""
    return PollState(interval_s=source.interval_s, url=source.url, knowledge=NOTHING_LEARNED)


# -- sources and their poll state -------------------------------------------------------------------


def test_configured_sources_start_with_an_empty_state(archive: AnyArchive) -> None:
    archive.sync_sources([A, B, C])
    assert archive.poll_states() == {"a": _fresh(A), "b": _fresh(B), "c": _fresh(C)}
    assert archive.poll_state("b") == _fresh(B)
    assert archive.poll_state("unknown") == PollState()


def test_a_source_left_out_of_the_config_keeps_its_state_but_is_not_polled(archive: AnyArchive) -> None:
    archive.sync_sources([A, B])
    archive.reschedule({"b": T0 + timedelta(hours=1)})
    archive.sync_sources([A])
    assert set(archive.poll_states()) == {"a"}
    assert archive.due_sources(T0 + timedelta(days=1)) == ["a"]
    assert archive.poll_state("b").next_poll_at == T0 + timedelta(hours=1)  # kept, should it come back
    archive.sync_sources([A, B])
    assert archive.poll_states()["b"].next_poll_at == T0 + timedelta(hours=1)


def test_a_learned_interval_survives_a_restart_unless_the_source_is_pinned(
    archive: AnyArchive, backend: Backend
) -> None:
    archive.sync_sources([A, B])
    backend.execute(archive, "UPDATE sources SET interval_s = %s", [1234.0])  # as a poll would learn it
    archive.reschedule({"a": T0, "b": T0})
    archive.sync_sources([replace(A, interval_s=60.0), B])
    states = archive.poll_states()
    assert (states["a"].interval_s, states["a"].next_poll_at) == (1234.0, T0)
    # pinned: the configured interval again, and at once, since the stored one differed
    assert (states["b"].interval_s, states["b"].next_poll_at) == (600.0, None)


def test_a_changed_pinned_interval_applies_at_once(archive: AnyArchive) -> None:
    archive.sync_sources([A, B])
    archive.reschedule({"a": T0, "b": T0})
    archive.sync_sources([A, replace(B, interval_s=60.0)])
    states = archive.poll_states()
    assert (states["b"].interval_s, states["b"].next_poll_at) == (60.0, None)
    assert states["a"].next_poll_at == T0
    archive.reschedule({"b": T0})
    archive.sync_sources([replace(A, pinned=True), replace(B, interval_s=60.0, pinned=False)])
    states = archive.poll_states()
    assert (states["a"].next_poll_at, states["b"].next_poll_at) == (None, None)  # pinned or unpinned: now


def test_a_new_address_forgets_what_was_learned_of_the_old_feed(
    archive: AnyArchive, backend: Backend
) -> None:
    archive.sync_sources([A, B])
    backend.execute(
        archive,
        "UPDATE sources SET etag = %s, last_modified = %s, body_hash = %s, not_found_count = %s, "
        "error_count = %s, feed = %s",
        ['"v1"', "Sun, 01 Nov 2026 12:00:00 GMT", "abc", 3, 2, "https://moved.example/feed"],
    )
    archive.reschedule({"a": T0, "b": T0})
    archive.sync_sources([replace(A, url="https://a.example/new-feed"), B])
    a, b = archive.poll_state("a"), archive.poll_state("b")
    assert (a.url, a.etag, a.last_modified, a.body_hash, a.not_found_count, a.next_poll_at) == (
        "https://a.example/new-feed", None, None, None, 0, None,
    )  # fmt: skip
    assert a.error_count == 2  # errors are the poll's business, not the address's
    assert (b.url, b.etag, b.body_hash, b.not_found_count, b.next_poll_at) == (
        "https://moved.example/feed", '"v1"', "abc", 3, T0,
    )  # fmt: skip  # same configured address: a permanent redirect's new feed is kept


def test_learned_knowledge_is_read_back(archive: AnyArchive, backend: Backend) -> None:
    archive.sync_sources([A])
    backend.execute(
        archive,
        "UPDATE sources SET site_name = %s, template_language = %s, page_samples = %s",
        ["Outlet A", "en", '{"titles": ["One | Outlet A"], "languages": [["en", "fr", 0.9]]}'],
    )
    knowledge = archive.poll_state("a").knowledge
    assert knowledge == SourceKnowledge("Outlet A", "en", ("One | Outlet A",), (("en", "fr", 0.9),))


# -- what is due -------------------------------------------------------------------------------------


def test_due_sources_never_polled_first_then_the_most_overdue(archive: AnyArchive) -> None:
    d = Source(id="d", name="Off", url="https://d.example/feed", interval_s=900.0, enabled=False)
    archive.sync_sources([A, B, C, d])
    archive.reschedule(
        {"a": T0 - timedelta(minutes=1), "b": T0 - timedelta(hours=1), "c": T0 + timedelta(seconds=1)}
    )
    archive.reschedule({"d": T0 - timedelta(days=1)})
    assert archive.due_sources(T0 - timedelta(days=1)) == []
    assert archive.due_sources(T0) == ["b", "a"]
    assert archive.due_sources(T0 + timedelta(seconds=1)) == ["b", "a", "c"]  # due at the moment itself
    archive.sync_sources([A, B, C, d, replace(A, id="new")])
    assert archive.due_sources(T0) == ["new", "b", "a"]


def test_moments_are_kept_to_the_second_in_utc(archive: AnyArchive) -> None:
    archive.sync_sources([A])
    paris = timezone(timedelta(hours=1))
    archive.reschedule({"a": datetime(2026, 11, 1, 13, 0, 0, 999_999, tzinfo=paris)})
    when = archive.poll_state("a").next_poll_at
    assert when == T0 and when is not None and when.utcoffset() == timedelta(0)
    assert archive.due_sources(T0 + timedelta(microseconds=500)) == ["a"]  # `now` is cut to the second too
    archive.reschedule({"unknown": T0})  # a source the archive does not know: nothing to move
    assert set(archive.poll_states()) == {"a"}


# -- the heartbeat -----------------------------------------------------------------------------------


def test_the_heartbeat_is_the_last_beat(archive: AnyArchive) -> None:
    assert archive.heartbeat() is None
    archive.beat(pid=41, started_at=T0, now=T0 + timedelta(seconds=5), version="1.0")
    archive.beat(
        pid=42,
        started_at=T0 + timedelta(minutes=1),
        now=datetime(2026, 11, 1, 13, 2, 3, 456_789, tzinfo=timezone(timedelta(hours=1))),
        version="1.1",
    )
    beat = archive.heartbeat()
    assert beat is not None
    assert (beat.pid, beat.started_at, beat.beat_at, beat.version) == (
        42, "2026-11-01T12:01:00Z", "2026-11-01T12:02:03Z", "1.1",
    )  # fmt: skip


def test_a_reader_sees_the_writer_and_refuses_a_missing_archive(backend: Backend) -> None:
    with pytest.raises(StoreError, match=r"no archive at .*run `monitor run` first"):
        backend.open(readonly=True)
    writer = backend.open()
    try:
        writer.sync_sources([A])
        writer.beat(pid=7, started_at=T0, now=T0, version="1.0")
        reader = backend.open(readonly=True)
        try:
            beat = reader.heartbeat()
            assert beat is not None and beat.pid == 7
            assert reader.poll_state("a") == _fresh(A)
        finally:
            reader.close()
    finally:
        writer.close()


# -- watches -----------------------------------------------------------------------------------------


def test_sync_watches_keeps_the_configured_ones(archive: AnyArchive, backend: Backend) -> None:
    mayor = Watch(id="mayor", query="mayor", sources=("a",), channels=("jsonl:-",))
    floods = Watch(id="floods", query='"flash flood"', tags=("news",), languages=("en", "fr"))
    archive.sync_watches([mayor, floods])
    archive.sync_watches([replace(mayor, query="mayor OR council"), Watch(id="new", query="x")])
    rows = backend.execute(
        archive,
        "SELECT id, query, sources, tags, languages, channels, in_config FROM watches ORDER BY id",
    )
    assert [(*row[:6], bool(row[6])) for row in rows] == [
        ("floods", '"flash flood"', [], ["news"], ["en", "fr"], [], False),
        ("mayor", "mayor OR council", ["a"], [], [], ["jsonl:-"], True),
        ("new", "x", [], [], [], [], True),
    ]


# -- the dedup lookup --------------------------------------------------------------------------------


def _archived(
    backend: Backend, archive: AnyArchive, article_id: int, source: str, url: str, guid: str
) -> None:
    """An article known by ``url`` and, in ``source``'s feed, ``guid`` (until commit_batch lands on both)."""
    backend.execute(
        archive,
        "INSERT INTO articles (id, url, source, guid, fetched_at, extraction, content_hash, entry_hash) "
        "VALUES (%s, %s, %s, %s, %s, 'page', %s, %s)",
        [article_id, url, source, guid, "2026-11-01T12:00:00Z", f"hash{article_id}", f"entry{article_id}"],
    )
    backend.execute(
        archive,
        "INSERT INTO article_urls (url, article_id, source, first_seen_at) VALUES (%s, %s, %s, %s)",
        [url, article_id, source, "2026-11-01T12:00:00Z"],
    )
    backend.execute(
        archive,
        "INSERT INTO entry_guids (source, guid, article_id) VALUES (%s, %s, %s)",
        [source, guid, article_id],
    )


def test_known_entries_by_guid_of_this_source_and_url_of_any(archive: AnyArchive, backend: Backend) -> None:
    archive.sync_sources([A, B])
    assert archive.known_entries("a", ["g1"], ["https://a.example/1"]) == ({}, {})
    _archived(backend, archive, 1, "a", "https://a.example/1", "g1")
    _archived(backend, archive, 2, "b", "https://b.example/2", "g2")
    guids, urls = archive.known_entries(
        "a", iter(["g1", "g2", "g1"]), ["https://a.example/1", "https://b.example/2", "https://x.example/"]
    )
    assert guids == {"g1": KnownEntry(1, "entry1")}  # b's g2 is another feed's GUID
    assert urls == {
        "https://a.example/1": KnownEntry(1, "entry1"),
        "https://b.example/2": KnownEntry(2, "entry2"),
    }
    assert archive.known_entries("a", [], []) == ({}, {})


# -- one transcript, compared whole -------------------------------------------------------------------


def _transcript(archive: AnyArchive) -> list[Any]:
    """Every implemented call's answer along one session of the daemon. ``due_sources`` is recorded with
    its ties (sources due at one moment, or never polled) as a set: SQLite leaves them in the order the
    sources were first configured, PostgreSQL sorts them by id."""
    said: list[Any] = []

    def due(now: datetime) -> list[Any]:
        states = archive.poll_states()
        groups: dict[datetime | None, set[str]] = {}
        for source in archive.due_sources(now):
            groups.setdefault(states[source].next_poll_at, set()).add(source)
        return list(groups.items())

    archive.sync_sources([A, B, C])
    said += [archive.poll_states(), due(T0)]
    archive.reschedule({"a": T0 + timedelta(minutes=5), "b": T0 - timedelta(minutes=5)})
    said += [due(T0), due(T0 + timedelta(hours=1)), archive.poll_state("a")]
    archive.sync_sources([replace(A, url="https://a.example/rss"), replace(B, interval_s=30.0)])
    said += [archive.poll_states(), archive.poll_state("c"), due(T0)]
    said += [archive.heartbeat()]
    archive.beat(pid=1, started_at=T0, now=T0 + timedelta(seconds=30), version="x")
    said += [archive.heartbeat(), archive.known_entries("a", ["g"], ["u"])]
    archive.sync_watches([Watch(id="w", query="w")])
    return said


def test_sources_and_watches_are_listed_in_the_order_first_configured(archive: AnyArchive) -> None:
    """SQLite lists them by rowid; PostgreSQL had ordered them by id, so `monitor sources` and the first
    polls' order differed between the backends."""
    archive.sync_sources([C, A, B])
    archive.sync_sources([B, C, A, replace(A, id="0-new")])  # a later one goes last, whatever its name
    assert [s.id for s in archive.source_statuses(T0)] == ["c", "a", "b", "0-new"]
    assert archive.due_sources(T0) == ["c", "a", "b", "0-new"]  # never polled: all due, in that order
    archive.sync_watches([Watch(id="z", query="zebra"), Watch(id="m", query="mango")])
    assert [w.id for w in archive.watch_statuses(T0)] == ["z", "m"]


@pytest.mark.postgres
def test_both_backends_say_the_same(tmp_path: Path, postgres_db: str) -> None:
    sqlite, postgres = Backend("sqlite", tmp_path / "archive.db").open(), PostgresArchive(postgres_db)
    try:
        assert _transcript(postgres) == _transcript(sqlite)
    finally:
        sqlite.close()
        postgres.close()


# -- PostgreSQL's own edges ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_an_unreachable_server_is_a_store_error_without_the_password(postgres_db: str) -> None:
    url = "postgresql://monitor:s3cret@127.0.0.1:1/archive?connect_timeout=2"
    with pytest.raises(StoreError, match="cannot open archive") as raised:
        PostgresArchive(url)
    assert "s3cret" not in str(raised.value) and "monitor:***@" in str(raised.value)
    missing = postgres_db.replace("dbname=", "password=s3cret dbname=no_such_") + " "
    with pytest.raises(StoreError, match="no_such_") as raised:
        PostgresArchive(missing.strip())
    assert "s3cret" not in str(raised.value)


@pytest.mark.postgres
def test_a_reader_cannot_write_and_a_closed_archive_says_so(postgres_db: str) -> None:
    PostgresArchive(postgres_db).close()
    reader = PostgresArchive(postgres_db, readonly=True)
    with pytest.raises(StoreError, match=r"sync_sources failed.*read-only"):
        reader.sync_sources([A])
    reader.close()
    with pytest.raises(StoreError, match="poll_states failed"):
        reader.poll_states()


@pytest.mark.postgres
def test_workers_opening_together_share_one_schema(postgres_db: str) -> None:
    first, second = PostgresArchive(postgres_db), PostgresArchive(postgres_db)
    try:
        first.sync_sources([A])
        assert second.poll_states() == {"a": _fresh(A)}
    finally:
        first.close()
        second.close()
