"""Three `monitor run` workers share one PostgreSQL archive (issue 16): six outlets whose feeds are on three
hosts (127.0.0.1-3) and whose article pages are all on a fourth (127.0.0.4), `per_host: 1`, leases of 3 s.

Every published article is archived once; no server ever sees two requests at once (each server is one
host, and counts the requests it is serving); the feed hosts are split one per worker; two outlets
publishing one story make one story whichever workers archive them; an alert is posted once. Then one worker
is killed with -9: its host's lease passes to another worker, which polls that host's feeds and archives
what they publish next. Assertions read lease rows, the archive and the servers' counters; the clock only
bounds how long the test waits.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.conftest import MonitorCLI
from tests.support.newssite import NewsServer, Response, article_page, rss_feed, stop_process
from tests.test_postgres_end_to_end import postgres_url

ARTICLES = 5
START = datetime(2024, 5, 1, tzinfo=UTC)
WAIT_S = 90.0


class Outlets:
    """Outlet n's feed on feed host (n - 1) // 2, its pages on the page host."""

    def __init__(self, feeds: list[NewsServer], pages: NewsServer) -> None:
        self.feeds, self.pages = feeds, pages
        self.items: dict[int, list[dict[str, str]]] = {n: [] for n in range(1, 7)}

    def feed_server(self, outlet: int) -> NewsServer:
        return self.feeds[(outlet - 1) // 2]

    def publish(self, outlet: int, index: int, *, text_of: tuple[int, int] | None = None) -> str:
        path = f"/outlet{outlet}/news/{index}"
        published = START + timedelta(hours=outlet * 100 + index)
        title = f"Outlet {outlet} story {index}: harbour talks continue"
        body_outlet, body_index = text_of or (outlet, index)
        page = article_page(
            body_outlet, body_index, title=title, published=published, canonical=self.pages.url(path)
        )
        self.pages.add(path, page)
        self.items[outlet].append(
            {
                "title": title,
                "link": self.pages.url(path),
                "guid": f"outlet{outlet}-{index}",
                "rfc822": format_datetime(published),
                "iso": published.isoformat(),
                "summary": title,
            }
        )
        feed = rss_feed(
            self.items[outlet], title=f"Outlet {outlet}", link=self.pages.url(f"/outlet{outlet}/")
        )
        self.feed_server(outlet).add(
            f"/outlet{outlet}/rss.xml", feed, content_type="application/rss+xml",
            headers={"ETag": f'"{outlet}-{len(self.items[outlet])}"'},
        )  # fmt: skip
        return self.pages.url(path)

    def sources(self) -> list[dict[str, object]]:
        return [
            {"id": f"outlet{n}", "feed": self.feed_server(n).url(f"/outlet{n}/rss.xml"), "interval": "2s"}
            for n in range(1, 7)
        ]


@pytest.fixture
def servers() -> Iterator[list[NewsServer]]:
    started = [NewsServer(host=f"127.0.0.{n}") for n in range(1, 6)]
    for server in started:
        server.__enter__()
    try:
        yield started
    finally:
        for server in started:
            server.__exit__(None, None, None)


def _until(what: Callable[[], bool], message: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(message())
        time.sleep(0.2)


def _rows(conninfo: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql.encode(), list(params)).fetchall()


def _archived(conninfo: str) -> int:
    try:
        return int(_rows(conninfo, "SELECT count(*) FROM articles")[0][0])
    except psycopg.errors.UndefinedTable:  # the workers have not created the schema yet
        return 0


def _commands_show_the_workers(
    monitor_cli: MonitorCLI, config: Path, workers: list[subprocess.Popen[str]], conninfo: str
) -> None:
    """`monitor workers`, `sources` and `check` while three workers run."""
    code, out, err = monitor_cli(config, "workers", "--format", "json")
    listed = json.loads(out)
    assert code == 0 and sorted(w["pid"] for w in listed if w["live"]) == sorted(w.pid for w in workers), out
    assert sorted(len(w["hosts"]) for w in listed) == [1, 1, 1]
    code, out, err = monitor_cli(config, "workers")
    assert code == 0 and out.count(" live ") == 3 and "127.0.0.1" in out, out
    holders = {host: worker for host, worker in _rows(conninfo, "SELECT host, worker FROM host_leases")}
    code, out, err = monitor_cli(config, "sources", "--format", "json")
    assert code == 0 and all(
        row["worker"] == holders[row["url"].split("//")[1].split(":")[0]] for row in json.loads(out)
    )
    code, out, err = monitor_cli(config, "check")
    assert code == 0 and "3 live workers hold 3 feed hosts" in out, out + err


def _deliveries(conninfo: str) -> list[tuple[Any, ...]]:
    return _rows(
        conninfo,
        "SELECT d.id, d.channel, d.delivered_at, d.attempts, d.last_error, d.claimed_by, m.article_id "
        "FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id",
    )


def _leases(conninfo: str) -> dict[str, str]:
    rows = _rows(
        conninfo,
        "SELECT l.host, w.pid FROM host_leases AS l JOIN workers AS w ON w.id = l.worker "
        "WHERE l.expires_at > now() AND w.stopped_at IS NULL",
    )
    return {host: pid for host, pid in rows}


@pytest.mark.postgres
def test_three_workers_share_the_outlets_politely_and_take_over_a_killed_ones_hosts(
    servers: list[NewsServer], postgres_db: str, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    feeds, pages, hooks = servers[:3], servers[3], servers[4]
    outlets = Outlets(feeds, pages)
    for outlet in range(1, 7):
        for index in range(1, ARTICLES + 1):
            # outlet 3 (feed host 2) carries outlet 1's (feed host 1) first story: a syndicated copy
            outlets.publish(outlet, index, text_of=(1, 1) if (outlet, index) == (3, 1) else None)
    hooks.routes["/hook"] = Response(b"ok")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "archive": postgres_url(postgres_db),
                "http": {"allow_private_networks": True, "timeout": "5s", "per_host": 1, "per_host_delay": 0},
                "workers": {"lease": "3s", "processes": 1},
                "commit": {"every": 2, "interval": "1s"},
                "sources": outlets.sources(),
                "watches": [
                    {"id": "ref", "query": "OUT1ART1", "notify": [{"webhook": hooks.url("/hook")}]},
                ],
            }
        ),
        encoding="utf-8",
    )
    logs = [(tmp_path / f"worker{n}.log").open("w") for n in range(3)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        for log in logs
    ]

    def log_text() -> str:
        return "\n".join((tmp_path / f"worker{n}.log").read_text() for n in range(3))

    try:
        total = 6 * ARTICLES
        _until(
            lambda: _archived(postgres_db) >= total,
            lambda: f"not every article archived:\n{log_text()[-3000:]}",
        )
        _until(
            lambda: sorted(_leases(postgres_db).values()) == sorted(w.pid for w in workers),
            lambda: f"hosts not split one per worker: {_leases(postgres_db)}\n{log_text()[-3000:]}",
        )
        assert _rows(postgres_db, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (total, total)
        assert all(server.peak_active <= 1 for server in servers[:4]), [s.peak_active for s in servers]
        _commands_show_the_workers(monitor_cli, config, workers, postgres_db)
        pages_fetched = [hits for path, hits in pages.hits.items() if "/news/" in path]
        assert len(pages_fetched) == total and set(pages_fetched) == {1}, (
            pages.hits
        )  # each once, by one worker
        # the syndicated copy joined the original's story, whichever worker archived which
        (story,) = _rows(
            postgres_db,
            "SELECT count(DISTINCT coalesce(duplicate_of, id)), count(*) FROM articles WHERE title LIKE %s "
            "OR title LIKE %s",
            "Outlet 1 story 1:%",
            "Outlet 3 story 1:%",
        )
        assert story == (1, 2)
        # the watch matched both copies of the story and alerts once per story: one post, by one worker
        assert _rows(postgres_db, "SELECT count(*), count(*) FILTER (WHERE notify) FROM matches")[0] == (2, 1)
        _until(lambda: len(hooks.posts) >= 1, lambda: f"no alert posted: {_deliveries(postgres_db)}")
        _until(
            lambda: all(row[2] is not None for row in _deliveries(postgres_db)),
            lambda: f"delivery not marked: {_deliveries(postgres_db)}",
        )
        time.sleep(6.0)  # two of the daemons' delivery rounds (every 5 s): a second post would come here
        assert len(hooks.posts) == 1 and len(_deliveries(postgres_db)) == 1

        # kill -9 one worker: its host passes to another, which polls that host's feeds from then on
        leases = _leases(postgres_db)
        victim = workers[0]
        (host,) = [h for h, pid in leases.items() if pid == victim.pid]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        _until(
            lambda: _leases(postgres_db).get(host) in {w.pid for w in workers[1:]},
            lambda: f"{host} not taken over: {_leases(postgres_db)}",
        )
        orphan = [
            n for n in range(1, 7) if outlets.feed_server(n).base_url.split("//")[1].startswith(host + ":")
        ]
        assert len(orphan) == 2
        new_urls = [outlets.publish(n, ARTICLES + 1) for n in orphan]
        _until(
            lambda: (
                _rows(postgres_db, "SELECT count(*) FROM articles WHERE url = ANY(%s)", new_urls)[0][0] == 2
            ),
            lambda: f"the killed worker's outlets were not polled again:\n{log_text()[-3000:]}",
        )
        assert all(server.peak_active <= 1 for server in servers[:4])
        assert _rows(postgres_db, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (total + 2,) * 2
    finally:
        for worker in workers:
            stop_process(worker)
        for log in logs:
            log.close()
    # stopped workers hand their leases back at once
    assert _leases(postgres_db) == {}
    assert "Traceback" not in log_text()


def test_a_sqlite_archive_shows_its_one_daemon(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    from monitor.models import Source
    from monitor.store import SQLiteArchive

    config = tmp_path / "config.yaml"
    feed = "http://feeds.example:8080/rss"
    config.write_text(
        yaml.safe_dump({"archive": str(tmp_path / "a.db"), "sources": [{"id": "one", "feed": feed}]}),
        encoding="utf-8",
    )
    assert monitor_cli(config, "workers")[0] == 1  # no archive yet
    archive = SQLiteArchive(tmp_path / "a.db")
    archive.sync_sources([Source(id="one", name="One", url=feed, interval_s=900.0)])
    code, out, _ = monitor_cli(config, "workers")
    assert code == 0 and "no worker has run" in out
    now = datetime.now(UTC)
    archive.beat(pid=4242, started_at=now, now=now, version="test")
    archive.close()
    code, out, _ = monitor_cli(config, "workers", "--format", "jsonl")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and row["pid"] == 4242 and row["live"] and row["hosts"] == ["feeds.example"]
    code, out, _ = monitor_cli(config, "sources", "--format", "json")
    assert json.loads(out)[0]["worker"] == row["id"]


def test_metrics_count_this_workers_leases() -> None:
    from prometheus_client import generate_latest

    from monitor.metrics import Metrics

    metrics = Metrics()
    metrics.leased("box:12:ab", 3)
    assert 'monitor_worker_leases{worker="box:12:ab"} 3.0' in generate_latest(metrics.registry).decode()
