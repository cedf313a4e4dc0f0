"""Crash safety and concurrent use: kill -9 mid-poll, over and over; a poll of 300 killed halfway keeps
its batches; readers while the daemon writes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from click.testing import CliRunner

from monitor.cli import cli
from tests.support.archive import EVERY_ARTICLE, peek, reader
from tests.support.gate import Gate, archived_paths
from tests.support.newssite import NewsServer, add_outlets, write_config


def check_archive(archive: Path) -> int:
    """Integrity, completeness and FTS sync; returns the number of articles."""
    db = sqlite3.connect(archive)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.execute(
            "INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')"
        )  # raises if out of sync
        assert (
            db.execute("SELECT count(*) FROM articles WHERE extraction = 'page' AND text = ''").fetchone()[0]
            == 0
        )
        assert (
            db.execute("SELECT count(*) FROM articles WHERE title IS NULL OR content_hash = ''").fetchone()[0]
            == 0
        )
        fts = db.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        articles = int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
        assert fts == articles
        # every URL an article is known by belongs to exactly one article, and no story points nowhere
        assert (
            db.execute(
                "SELECT count(*) FROM article_urls WHERE article_id NOT IN (SELECT id FROM articles)"
            ).fetchone()[0]
            == 0
        )
        assert (
            db.execute(
                "SELECT count(*) FROM articles WHERE story_id NOT IN (SELECT id FROM articles)"
            ).fetchone()[0]
            == 0
        )
        return articles
    finally:
        db.close()


def test_kill_9_mid_poll_loses_and_duplicates_nothing(server: NewsServer, tmp_path: Path) -> None:
    sources = add_outlets(server, outlets=6, articles=12)
    for path, route in server.routes.items():
        if "/news/" in path:
            route.delay_s = 0.05  # type: ignore[union-attr]
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    rng = random.Random(7)
    for _ in range(20):
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "-q", "run", "--once"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        time.sleep(rng.uniform(0.8, 2.5))
        os.killpg(process.pid, signal.SIGKILL)  # the daemon and its extraction workers, mid-poll
        process.wait()
        if archive.exists():
            check_archive(archive)
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"], catch_exceptions=False)
    assert result.exit_code == 0
    assert check_archive(archive) == 72  # everything, once
    server.hits.clear()
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"], catch_exceptions=False)
    assert "0 new articles" in result.stderr and not [p for p in server.hits if "/news/" in p]


def test_kill_9_halfway_through_a_long_poll_keeps_its_batches(server: NewsServer, tmp_path: Path) -> None:
    """Issue 15: 300 new articles, the daemon killed after 150 pages were served. The archive holds all but
    the pages in flight (at most twice max_connections) and the batch being filled (under commit.every);
    the next run requests only the pages not archived."""
    max_connections, every = 4, 20
    sources = add_outlets(server, outlets=1, articles=300)
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    raw = yaml.safe_load(config.read_text())
    raw["http"]["max_connections"] = max_connections
    raw["commit"] = {"every": every}
    config.write_text(yaml.safe_dump(raw))
    gate = Gate(server, opened=150)  # the rest wait, so the kill lands mid-poll however slow the machine
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "-q", "run"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while gate.requested < 150 and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(daemon.pid, signal.SIGKILL)  # the daemon and its extraction workers
        daemon.wait()
        served = gate.requested
    finally:
        gate.release()
    assert served >= 150, "the daemon did not get through 150 pages"
    kept = archived_paths(archive)
    assert check_archive(archive) == len(kept)
    assert served - 2 * max_connections - every <= len(kept) < 300
    with reader(archive) as archived:  # the source's state is written last: the poll never got there
        assert [status.last_polled_at for status in archived.source_statuses()] == [None]

    server.hits.clear()
    again = subprocess.run(
        [sys.executable, "-m", "monitor", "-c", str(config), "-q", "run", "--once"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    requested = [urlsplit(path).path for path in server.hits.elements() if "/news/" in path]
    pages = {urlsplit(path).path for path in server.routes if "/news/" in path}
    assert sorted(requested) == sorted(pages - kept)  # each page not yet archived, once; no other
    assert check_archive(archive) == 300 and archived_paths(archive) == pages


def test_readers_never_see_a_lock_or_a_half_written_article(server: NewsServer, tmp_path: Path) -> None:
    sources = add_outlets(server, outlets=8, articles=10)
    for source in sources:
        source["interval"] = "1s"
        source["recheck"] = 0
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "-q", "run"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the first articles are in (extraction workers start slowly)
            if peek(archive, lambda archived: archived.count(EVERY_ARTICLE), 0):
                break
            time.sleep(0.1)
        reads = 0
        polls_seen = set()
        end = time.monotonic() + 8
        while time.monotonic() < end:
            db = sqlite3.connect(f"{archive.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
            try:
                rows = db.execute("SELECT a.id, a.text, a.title, f.rowid FROM articles AS a "
                                  "LEFT JOIN articles_fts AS f ON f.rowid = a.id").fetchall()  # fmt: skip
                polls_seen.add(db.execute("SELECT sum(poll_count) FROM sources").fetchone()[0])
            finally:
                db.close()
            assert rows and all(text and title and fts_row is not None for _, text, title, fts_row in rows)
            for command in (["search", "talks", "--format", "json"], ["export", "--format", "csv"]):
                result = CliRunner().invoke(cli, ["-c", str(config), *command])
                assert result.exit_code == 0, result.stderr
                assert "locked" not in result.stderr
            reads += 1
        assert (
            reads > 5 and len(polls_seen) > 2
        )  # we really read while it wrote (sources re-polled every second)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0 and "locked" not in err
    check_archive(archive)
