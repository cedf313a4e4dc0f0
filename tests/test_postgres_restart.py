"""The PostgreSQL server restarted under a running daemon (issue 16, item 6): calls fail at once while it is
away, the store says so once and once again when it is back, nothing committed is lost, the daemon's lock is
taken again, and a daemon polling mid-way through a restart ends with every article archived exactly once.

These tests stop and start a server, so they run on a throwaway cluster of this module's own (the session's
server stays up for the others); they need the server's binaries, not only ``MONITOR_TEST_POSTGRES``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from monitor.errors import ArchiveUnavailableError, StoreError
from monitor.models import Source
from monitor.store.postgres.outage import Outage
from tests.support.gate import Gate
from tests.support.newssite import NewsServer, add_outlets, stop_process, write_config
from tests.support.postgres import ThrowawayCluster, find_bindir, postgres_url, throwaway_cluster

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
OUTAGE = "archive: PostgreSQL at"
BACK = "archive: PostgreSQL back after"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> bool:
    """Wait for what the daemon or the server does (the assertions never read the clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


# -- the outage tracker, alone ----------------------------------------------------------------------------


def test_one_warning_per_outage_and_one_line_when_back(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    outage = Outage("postgresql://db.example/monitor", clock=clock)
    caplog.set_level(logging.INFO, logger="monitor.store")
    assert outage.may_try() and not outage.down
    outage.recovered()  # nothing to recover from: nothing said
    assert caplog.records == []

    outage.failed("connection refused")
    assert outage.down and outage.reason == "connection refused"
    # calls fail at once until the next attempt is due: 1 s, then 2, 4, 8 ... 30 s at most
    waits = []
    for _ in range(8):
        assert not outage.may_try()
        before = clock.now
        while not outage.may_try():
            clock.now += 0.25
        waits.append(clock.now - before)
        assert not outage.may_try()  # that attempt is claimed: the others still fail at once
        outage.failed("the database system is starting up")
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    clock.now += 30
    assert outage.may_try()
    outage.recovered()
    assert not outage.down and outage.may_try() and outage.reason == ""

    outage.failed("server closed the connection unexpectedly")  # a second outage starts afresh
    clock.now += 1
    assert outage.may_try()
    outage.recovered()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            "WARNING",
            "archive: PostgreSQL at postgresql://db.example/monitor unreachable (connection refused); "
            "waiting and retrying",
        ),
        ("INFO", "archive: PostgreSQL back after 151s"),
        (
            "WARNING",
            "archive: PostgreSQL at postgresql://db.example/monitor unreachable (server closed the "
            "connection unexpectedly); waiting and retrying",
        ),
        ("INFO", "archive: PostgreSQL back after 1s"),
    ]


# -- a cluster of this module's own -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    pytest.importorskip("psycopg")
    bindir = find_bindir()
    if bindir is None:
        message = (
            "restarting PostgreSQL needs its binaries (Debian's postgresql package; .ci/run installs it)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_cluster(bindir) as server:
        yield server


def running(cluster: ThrowawayCluster) -> bool:
    import psycopg

    try:
        rows(cluster.admin, "SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


@pytest.fixture
def database(cluster: ThrowawayCluster) -> Iterator[str]:
    with cluster.database() as conninfo:
        try:
            yield conninfo
        finally:
            if not running(cluster):  # a test that failed mid-outage: the server is started for the next
                cluster.start()


def rows(conninfo: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute(sql, params or None).fetchall()


SOURCE = Source(id="a", name="A", url="http://127.0.0.1:9/feed", interval_s=900.0)


@pytest.mark.postgres
def test_calls_fail_at_once_while_the_server_is_away_and_work_again_when_it_is_back(
    cluster: ThrowawayCluster, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.store.postgres import PostgresArchive

    clock = FakeClock()
    caplog.set_level(logging.INFO, logger="monitor.store")
    archive = PostgresArchive(database, clock=clock)
    try:
        archive.sync_sources([SOURCE])
        assert archive.due_sources(NOW) == ["a"]  # the pool's connection, which the restart breaks
        cluster.stop()
        for _ in range(20):  # the first finds the server away; the others do not wait for it
            with pytest.raises(StoreError, match="unreachable"):
                archive.due_sources(NOW)
        cluster.start()
        with pytest.raises(StoreError, match="unreachable"):  # back, but not asked again before its time
            archive.due_sources(NOW)
        clock.now += 1
        assert archive.due_sources(NOW) == ["a"]  # asked, and every connection the restart broke replaced
        for _ in range(5):
            assert archive.poll_states()["a"].next_poll_at is None
        archive.reschedule({"a": NOW})
    finally:
        archive.close()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "monitor.store"]
    outages = [line for line in lines if OUTAGE in line[1]]
    assert len(outages) == 1 and outages[0][0] == "WARNING" and "; waiting and retrying" in outages[0][1]
    assert [line for line in lines if BACK in line[1]] == [("INFO", f"{BACK} 1s")]
    assert rows(database, "SELECT id FROM sources WHERE next_poll_at IS NOT NULL") == [("a",)]


@pytest.mark.postgres
def test_a_transaction_cut_off_by_a_restart_is_rolled_back(cluster: ThrowawayCluster, database: str) -> None:
    import psycopg

    from monitor.store.postgres import PostgresArchive

    clock = FakeClock()
    archive = PostgresArchive(database, clock=clock)
    try:
        archive.sync_sources([SOURCE])
        with pytest.raises(ArchiveUnavailableError) as cut, archive._transaction() as conn:
            conn.execute("UPDATE sources SET name = 'half-written'")
            cluster.stop()
            conn.execute("UPDATE sources SET interval_s = 1")
        assert "mid-transaction" in str(cut.value)  # naming the lost connection's own reason
        assert isinstance(cut.value.__cause__, psycopg.OperationalError)
        cluster.start()
        clock.now += 1
        assert [status.name for status in archive.source_statuses()] == ["A"]
    finally:
        archive.close()


# -- the archive's lock (monitor copy) across a restart -------------------------------------------------------------------


def lock_holders(conninfo: str) -> list[str]:
    from monitor.store.postgres.lock import DAEMON_LOCK

    found = rows(
        conninfo,
        "SELECT a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND (l.classid::bigint << 32 | l.objid::bigint) = %s",
        (DAEMON_LOCK,),
    )
    return [row[0] for row in found]


@pytest.mark.postgres
def test_the_archive_lock_is_taken_again_after_a_restart(cluster: ThrowawayCluster, database: str) -> None:
    from monitor.store.postgres.lock import daemon_lock

    lost: list[bool] = []
    with daemon_lock(database, display="x", on_lost=lambda: lost.append(True), check_every_s=0.1):
        assert lock_holders(database) == [f"monitor daemon pid {os.getpid()}"]
        cluster.stop()
        cluster.start()
        assert wait_for(lambda: lock_holders(database) == [f"monitor daemon pid {os.getpid()}"])
    assert wait_for(lambda: lock_holders(database) == []) and lost == []  # its session ends as it closes


@pytest.mark.postgres
def test_a_lock_another_took_meanwhile_is_reported_and_its_holder_stops(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    from monitor.store.postgres.lock import DAEMON_LOCK, daemon_lock

    lost = threading.Event()
    with (
        daemon_lock(database, display="the archive", on_lost=lost.set, check_every_s=0.5),
        psycopg.connect(database, autocommit=True, application_name="monitor daemon pid 4242") as other,
    ):
        ours = f"monitor daemon pid {os.getpid()}"
        keeper = rows(database, "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (ours,))
        # its session ends (as in a restart) and another daemon takes the lock in the same breath
        taken = other.execute(
            "SELECT pg_terminate_backend(%s, 5000), pg_try_advisory_lock(%s)", [keeper[0][0], DAEMON_LOCK]
        ).fetchone()
        assert taken == (True, True)
        assert lost.wait(30)
        assert lock_holders(database) == ["monitor daemon pid 4242"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "store: the lock on the archive was lost with its session (the server restarted) and monitor daemon "
        "pid 4242 holds it now; stopping"
    ]


# -- a daemon polling through a restart -------------------------------------------------------------------


@dataclass
class Restart:
    """What one daemon did while the server restarted under it mid-poll."""

    log: list[str]
    before: set[str]
    after: list[str]
    requests_of_before: list[int]
    """How many times each page archived before the outage was requested, in the end."""
    slots_freed: bool
    """Whether, once every article was archived, no host slot stayed held (those whose release the outage
    failed are freed at the worker's next take, not a minute and more later)."""


ARTICLES, OPENED = 30, 10


@pytest.fixture(scope="module")
def restart(cluster: ThrowawayCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restart]:
    """One `monitor run` polling one outlet of 30 articles into PostgreSQL. The first 10 pages are served
    and committed (batches of 5), the rest held; the server stops; the held pages are released, so the
    poll's next commit fails; the server starts again; the daemon, never restarted, polls again."""
    import psycopg

    tmp = tmp_path_factory.mktemp("restart")
    with cluster.database() as conninfo, NewsServer() as server:
        sources = add_outlets(server, outlets=1, articles=ARTICLES)
        config = tmp / "c.yaml"
        write_config(config, sources, archive=Path("unused.db"))
        raw = yaml.safe_load(config.read_text())
        raw["archive"] = postgres_url(conninfo)
        raw["commit"] = {"every": 5}
        raw["http"]["max_connections"] = 2
        config.write_text(yaml.safe_dump(raw))
        gate = Gate(server, opened=OPENED)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-v", "-c", str(config), "run"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        log: list[str] = []
        assert daemon.stderr is not None
        stream = daemon.stderr
        reader = threading.Thread(target=lambda: log.extend(stream), daemon=True)
        reader.start()

        def archived() -> list[str]:
            try:
                return [row[0] for row in rows(conninfo, "SELECT url FROM articles ORDER BY url")]
            except psycopg.errors.UndefinedTable:  # the daemon has not migrated the database yet
                return []

        def said(text: str, after: int = 0) -> Callable[[], bool]:
            return lambda: any(text in line for line in log[after:])

        try:
            assert wait_for(lambda: len(archived()) == OPENED), log
            before = set(archived())
            cluster.stop()  # mid-poll: the rest of its pages are held by the gate
            assert wait_for(said(OUTAGE)), log
            released = len(log)
            gate.release()  # the poll fetches the rest, and its next commit finds the server away
            # the poll ends, not recorded (said at debug level: the store's one warning is the outage's line)
            assert wait_for(said("daemon: poll of outlet1 not recorded", after=released)), log
            assert daemon.poll() is None
            cluster.start()
            assert wait_for(said(BACK)), log
            assert wait_for(lambda: len(archived()) == ARTICLES), log
            held = "SELECT count(*) FROM host_slots WHERE worker IS NOT NULL AND expires_at > now()"
            slots_freed = wait_for(lambda: rows(conninfo, held) == [(0,)], timeout=15.0)
            assert daemon.poll() is None, log  # never restarted
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(60) == 0
            reader.join(30)
            after = archived()
        finally:
            gate.release()
            stop_process(daemon)
            if not running(cluster):
                cluster.start()
        requested = [
            sum(hits for path, hits in server.hits.items() if urlsplit(path).path == urlsplit(url).path)
            for url in before
        ]
        yield Restart(log, before, after, requested, slots_freed)


@pytest.mark.postgres
def test_a_daemon_recovers_from_a_restart_mid_poll_and_loses_nothing(restart: Restart) -> None:
    assert len(restart.before) == OPENED
    assert len(restart.after) == len(set(restart.after)) == ARTICLES  # all archived, each exactly once
    assert restart.before <= set(restart.after)  # what was committed before the outage is still there
    # one line when the server went away, one when it came back; not one per poll or tick
    outages = [line for line in restart.log if OUTAGE in line]
    assert len(outages) == 1 and "WARNING" in outages[0] and "unreachable" in outages[0], restart.log
    assert len([line for line in restart.log if BACK in line]) == 1, restart.log
    # the poll after the restart fetched only what was not archived
    assert restart.requests_of_before == [1] * OPENED
    # and the slots the outage kept it from releasing were freed when it next took one
    assert restart.slots_freed


@pytest.mark.postgres
def test_the_outage_is_the_only_thing_the_daemon_says_about_it(restart: Restart) -> None:
    start = next(i for i, line in enumerate(restart.log) if OUTAGE in line)
    end = next(i for i, line in enumerate(restart.log) if BACK in line)
    during = restart.log[start + 1 : end]
    assert not [line for line in during if line.startswith("Traceback") or " ERROR " in line], during
