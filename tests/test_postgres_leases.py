"""Workers sharing a PostgreSQL archive (issue 16, store level): feed hosts split ⌊H/W⌋..⌈H/W⌉ between the
live daemon workers, never one host to two; a dead worker's hosts taken over once its lease runs out, a
stopped one's at once; `run --once` leasing only what it polls; every host's request slots and pace held
across workers. Time passing is made by ageing rows (``beat_at``, ``expires_at``), never by waiting.
SQLite's one daemon holds every host."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ArchiveLockedError
from monitor.models import Source
from monitor.store import SQLiteArchive
from monitor.store.postgres import PostgresArchive

HOSTS = [f"feeds{n}.example" for n in range(7)]


@pytest.fixture
def archive(postgres_db: str) -> Iterator[PostgresArchive]:
    opened = PostgresArchive(postgres_db)
    try:
        yield opened
    finally:
        opened.close()


def _join(archive: PostgresArchive, worker: str, *, daemon: bool = True, lease_s: float = 60.0) -> None:
    archive.join_worker(worker, hostname="box", pid=1, version="test", lease_s=lease_s, daemon=daemon)


def _sql(archive: PostgresArchive, sql: str, *params: object) -> list[tuple[object, ...]]:
    with archive._transaction() as conn:
        cursor = conn.execute(sql.encode(), list(params))
        return cursor.fetchall() if cursor.description else []


def _die(archive: PostgresArchive, worker: str) -> None:
    """What a `kill -9` looks like a lease later: its heartbeat and leases have run out."""
    _sql(archive, "UPDATE workers SET beat_at = now() - interval '2 minutes' WHERE id = %s", worker)
    _sql(archive, "UPDATE host_leases SET expires_at = now() - interval '1 second' WHERE worker = %s", worker)


def _rounds(archive: PostgresArchive, workers: list[str], n: int = 2) -> dict[str, frozenset[str]]:
    held: dict[str, frozenset[str]] = {}
    for _ in range(n):
        for worker in workers:
            held[worker] = archive.renew_leases(worker, HOSTS)
    return held


def _assert_split(held: dict[str, frozenset[str]]) -> None:
    hosts = [host for mine in held.values() for host in mine]
    assert sorted(hosts) == sorted(HOSTS)  # every host held, none twice
    low, high = len(HOSTS) // len(held), math.ceil(len(HOSTS) / len(held))
    assert all(low <= len(mine) <= high for mine in held.values()), {w: len(m) for w, m in held.items()}


@pytest.mark.postgres
def test_hosts_are_split_between_live_workers_and_rebalanced_when_one_joins(archive: PostgresArchive) -> None:
    _join(archive, "a")
    assert archive.renew_leases("a", HOSTS) == frozenset(HOSTS)  # alone, it takes them all
    _join(archive, "b")
    _join(archive, "c")
    held = _rounds(archive, ["a", "b", "c"])
    _assert_split(held)
    assert archive.host_holders() == {host: w for w, mine in held.items() for host in mine}


@pytest.mark.postgres
def test_a_busy_host_is_kept_beyond_the_share_until_its_poll_ends(archive: PostgresArchive) -> None:
    _join(archive, "a")
    archive.renew_leases("a", HOSTS)
    _join(archive, "b")
    kept = archive.renew_leases("a", HOSTS, busy=HOSTS)
    assert kept == frozenset(HOSTS)
    assert archive.renew_leases("b", HOSTS) == frozenset()
    _assert_split(_rounds(archive, ["a", "b"]))


@pytest.mark.postgres
def test_a_dead_workers_hosts_are_taken_over_and_a_stopped_ones_at_once(archive: PostgresArchive) -> None:
    for worker in "abc":
        _join(archive, worker)
    held = _rounds(archive, ["a", "b", "c"])
    _die(archive, "c")
    after = _rounds(archive, ["a", "b"])
    _assert_split(after)
    assert held["c"] <= after["a"] | after["b"]
    archive.leave_worker("b")
    assert archive.renew_leases("a", HOSTS) == frozenset(HOSTS)
    statuses = {w.id: w for w in archive.workers(datetime.now(UTC))}
    assert statuses["a"].live and statuses["a"].hosts == tuple(sorted(HOSTS))
    assert not statuses["b"].live and statuses["b"].stopped_at is not None and statuses["b"].hosts == ()
    assert not statuses["c"].live


@pytest.mark.postgres
def test_a_live_workers_lease_is_never_taken(archive: PostgresArchive) -> None:
    _join(archive, "a")
    archive.renew_leases("a", HOSTS)
    _join(archive, "once", daemon=False)
    assert archive.renew_leases("once", HOSTS[:2], balance=False) == frozenset()
    archive.release_leases("a", HOSTS[:2])
    assert archive.renew_leases("once", HOSTS[:2], balance=False) == frozenset(HOSTS[:2])
    # a `run --once` worker does not count among the daemons sharing the hosts
    assert archive.renew_leases("a", HOSTS) == frozenset(HOSTS[2:])
    archive.leave_worker("once")
    assert archive.renew_leases("a", HOSTS) == frozenset(HOSTS)


@pytest.mark.postgres
def test_racing_workers_never_take_one_host_twice(postgres_db: str) -> None:
    archives = [PostgresArchive(postgres_db) for _ in range(4)]
    try:
        for n, opened in enumerate(archives):
            _join(opened, f"w{n}")
        held: dict[str, frozenset[str]] = {}
        start = threading.Barrier(len(archives))

        def renew(n: int) -> None:
            start.wait()
            for _ in range(3):
                held[f"w{n}"] = archives[n].renew_leases(f"w{n}", HOSTS)

        threads = [threading.Thread(target=renew, args=(n,)) for n in range(len(archives))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        taken = [host for mine in held.values() for host in mine]
        assert len(taken) == len(set(taken))
        _assert_split({worker: archives[0].renew_leases(worker, HOSTS) for worker in sorted(held)})
    finally:
        for opened in archives:
            opened.close()


@pytest.mark.postgres
def test_polls_are_counted_per_worker(archive: PostgresArchive) -> None:
    _join(archive, "a")
    archive.renew_leases("a", HOSTS, polled=3)
    archive.renew_leases("a", HOSTS, polled=2)
    (status,) = archive.workers(datetime.now(UTC))
    assert status.polls_last_hour == 5 and status.hostname == "box" and status.live


@pytest.mark.postgres
def test_host_slots_cap_concurrency_and_pace_starts_across_workers(archive: PostgresArchive) -> None:
    first = archive.take_host_slot("pages.example", "a", per_host=2, delay_s=5.0, hold_s=30.0)
    second = archive.take_host_slot("pages.example", "b", per_host=2, delay_s=5.0, hold_s=30.0)
    assert first is not None and second is not None and {first.slot, second.slot} == {0, 1}
    assert first.wait_s == 0.0
    assert 4.0 < second.wait_s <= 5.0  # the host's delay after the first start, whoever made it
    assert archive.take_host_slot("pages.example", "c", per_host=2, delay_s=5.0, hold_s=30.0) is None
    archive.release_host_slot("pages.example", first.slot, "a", slow_down=True, base_delay_s=5.0)
    third = archive.take_host_slot("pages.example", "c", per_host=2, delay_s=5.0, hold_s=30.0)
    assert third is not None and third.slot == first.slot and third.delay_s == 10.0  # a 429 doubled it
    archive.release_host_slot("pages.example", third.slot, "c", slow_down=False, base_delay_s=5.0)
    assert _sql(archive, "SELECT delay_s FROM host_pace WHERE host = 'pages.example'") == [(5.0,)]


@pytest.mark.postgres
def test_a_dead_workers_host_slot_frees_itself(archive: PostgresArchive) -> None:
    taken = archive.take_host_slot("pages.example", "dead", per_host=1, delay_s=0.0, hold_s=30.0)
    assert taken is not None
    assert archive.take_host_slot("pages.example", "b", per_host=1, delay_s=0.0, hold_s=30.0) is None
    _sql(archive, "UPDATE host_slots SET expires_at = now() - interval '1 second' WHERE worker = 'dead'")
    assert archive.take_host_slot("pages.example", "b", per_host=1, delay_s=0.0, hold_s=30.0) is not None


def test_sqlite_has_one_daemon_holding_every_host(tmp_path: Path) -> None:
    archive = SQLiteArchive(tmp_path / "a.db")
    try:
        assert not archive.shared
        assert archive.renew_leases("anyone", HOSTS) == frozenset(HOSTS)
        assert archive.workers(datetime.now(UTC)) == []
        source = Source(id="s", name="S", url="https://Feeds0.example:8443/rss", interval_s=900.0)
        archive.sync_sources([source])
        now = datetime.now(UTC)
        archive.beat(pid=42, started_at=now, now=now, version="test")
        (daemon,) = archive.workers(now)
        assert daemon.live and daemon.pid == 42 and daemon.hosts == ("feeds0.example",)
        assert archive.host_holders() == {"feeds0.example": daemon.id}
    finally:
        archive.close()


@pytest.mark.postgres
def test_no_worker_starts_on_an_unfinished_copy(archive: PostgresArchive) -> None:
    _sql(archive, "CREATE TABLE monitor_copy (key text PRIMARY KEY, value text)")
    _sql(archive, "INSERT INTO monitor_copy VALUES ('source', 'a.db')")
    with pytest.raises(ArchiveLockedError, match="monitor copy"):
        _join(archive, "a")
    _sql(archive, "INSERT INTO monitor_copy VALUES ('finished_at', '2026-11-29T00:00:00Z')")
    _join(archive, "a")


@pytest.mark.postgres
def test_a_request_that_left_late_pushes_the_next_start_back(archive: PostgresArchive) -> None:
    """The next start is a delay after the request really started, not after its turn: a worker slow to
    send (a busy event loop, the round trip) must not shorten the gap to the next request."""
    taken = archive.take_host_slot("pages.example", "a", per_host=1, delay_s=5.0, hold_s=30.0)
    assert taken is not None and taken.wait_s == 0.0
    # its turn came 2 s ago (the next start is 3 s away), but it only starts now
    _sql(archive, "UPDATE host_pace SET next_start = now() + interval '3 seconds'")
    archive.release_host_slot(
        "pages.example", taken.slot, "a", slow_down=False, base_delay_s=5.0, started_ago_s=0.0
    )
    after = archive.take_host_slot("pages.example", "b", per_host=1, delay_s=5.0, hold_s=30.0)
    assert after is not None and 4.5 < after.wait_s <= 5.0
