"""Datasette on the archive (issue 6): the shipped metadata against the real schema, its canned queries on a
real archive, `monitor serve` as a real server, and a real headless Chromium finding an article through the
search page."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from monitor import web
from monitor.store import SQLiteArchive, fts
from test_stories import SEED_PARAGRAPHS, atom, page
from tests.support.newssite import (
    NewsServer,
    add_fixture_outlet,
    add_outlets,
    free_port,
    stop_process,
    write_config,
)

if TYPE_CHECKING:
    from conftest import MonitorCLI

SEED_TITLE = "Khamenei to Maduro: Resistance is the only way to face US pressure"


@dataclass
class Built:
    config: Path
    archive: Path
    seed_id: int
    copy_ids: list[int]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, monitor_cli: MonitorCLI) -> Iterator[Built]:
    """A real archive: the seed article (via the golden fixture feed), two synthetic outlets, a story
    republished by a mirror, and a watch that matched."""
    folder = tmp_path_factory.mktemp("web")
    with NewsServer() as server:
        server.add("/origin/story", page("Resistance is the only way", SEED_PARAGRAPHS,
                                         published="2024-06-11T08:00:00Z"))  # fmt: skip
        server.add("/mirror/story", page("Leader: resistance is the only way", SEED_PARAGRAPHS[:4],
                                         footer="<p>Source » almayadeen</p>", published="2024-06-11T12:00:00Z"))  # fmt: skip
        server.add("/origin/feed.xml", atom(server, [("/origin/story", "Resistance", "2024-06-11T08:00:00Z")]),
                   content_type="application/atom+xml")  # fmt: skip
        server.add("/mirror/feed.xml", atom(server, [("/mirror/story", "Leader", "2024-06-11T12:00:00Z")]),
                   content_type="application/atom+xml")  # fmt: skip
        sources = [
            add_fixture_outlet(server),
            *add_outlets(server, outlets=2, articles=3),
            {"id": "origin", "feed": server.url("/origin/feed.xml")},
            {"id": "mirror", "feed": server.url("/mirror/feed.xml")},
        ]
        config, archive = folder / "config.yaml", folder / "news.db"
        write_config(config, sources, archive=archive)
        data = yaml.safe_load(config.read_text())
        data["watches"] = [
            {"id": "maduro-iran", "query": "Maduro AND Iran", "notify": [{"jsonl": str(folder / "a.jsonl")}]}
        ]
        config.write_text(yaml.safe_dump(data))
        assert monitor_cli(config, "run", "--once")[0] == 0
    db = sqlite3.connect(archive)
    try:
        seed_id = db.execute("SELECT id FROM articles WHERE title = ?", [SEED_TITLE]).fetchone()[0]
        story = db.execute("SELECT story_id FROM articles WHERE url LIKE '%/mirror/story'").fetchone()[0]
        copies = [  # the original first
            r[0]
            for r in db.execute(
                "SELECT id FROM articles WHERE story_id = ? ORDER BY duplicate_of IS NOT NULL", [story]
            )
        ]
    finally:
        db.close()
    assert len(copies) == 2
    yield Built(config, archive, seed_id, copies)


def canned(archive: Path, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run a shipped canned query with sqlite3, as Datasette would (named parameters, monitor's SQL
    functions registered as the plugin does)."""
    sql = web.metadata()["databases"]["monitor"]["queries"][name]["sql"]
    db = sqlite3.connect(archive)
    fts.register(db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in db.execute(sql, params)]
    finally:
        db.close()


def test_shipped_metadata_describes_real_tables_and_columns(tmp_path: Path) -> None:
    archive = SQLiteArchive(tmp_path / "fresh.db")
    archive.close()
    db = sqlite3.connect(tmp_path / "fresh.db")
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        described = web.metadata()["databases"]["monitor"]["tables"]
        assert set(described) <= tables
        for table, entry in described.items():
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            assert set(entry.get("columns", {})) <= columns, table
            for key in ("sort", "sort_desc", "label_column", "fts_pk"):
                assert entry.get(key) in columns | {None}, (table, key)
            assert set(entry.get("facets", [])) <= columns, table
        assert described["articles"]["fts_table"] in tables
        # every column of the contract tables has a human description
        for table in ("articles", "matches"):
            columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")} - {"id"}
            assert columns <= set(described[table]["columns"]), table
    finally:
        db.close()


def test_metadata_is_named_after_the_archive_file() -> None:
    assert set(web.metadata("news")["databases"]) == {"news"}
    assert web.database_name(Path("data/monitor.db")) == "monitor"


def test_canned_queries_answer_the_analysts_questions(built: Built) -> None:
    per_day = canned(built.archive, "articles_per_outlet_per_day", q="", since="2000-01-01")
    db = sqlite3.connect(built.archive)
    try:
        expected = db.execute(
            "SELECT substr(coalesce(published_at, fetched_at), 1, 10), source, count(*) FROM articles "
            "GROUP BY 1, 2"
        ).fetchall()
        total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        db.close()
    assert sorted((r["day"], r["source"], r["articles"]) for r in per_day) == sorted(expected)
    assert sum(r["articles"] for r in per_day) == total == 11 and len(per_day) == 7
    mentioning = canned(built.archive, "articles_per_outlet_per_day", q="Maduro AND Iran", since="2000-01-01")
    assert [(r["source"], r["articles"]) for r in mentioning] == [("digest", 1)]
    assert canned(built.archive, "articles_per_outlet_per_day", q="", since="") == []  # all from 2022-2024

    latest = canned(built.archive, "latest_matches_per_watch")
    assert [(r["watch"], r["article_id"], r["title"]) for r in latest] == [
        ("maduro-iran", built.seed_id, SEED_TITLE)
    ]

    original, copy = built.copy_ids
    story = canned(built.archive, "copies_of_a_story", article_id=copy)
    assert [(r["id"], r["role"]) for r in story] == [(original, "original"), (copy, "copy")]
    assert story[1]["credits"] == "almayadeen" and 0.6 <= story[1]["duplicate_score"] < 1

    most = canned(built.archive, "most_copied_stories", since="2000-01-01")
    assert [(r["story_id"], r["copies"], r["outlets"]) for r in most] == [(original, 2, 2)]
    health = canned(built.archive, "source_health")
    assert {r["id"] for r in health} == {"digest", "outlet1", "outlet2", "origin", "mirror"}


def test_serve_without_datasette_says_how_to_install(
    built: Built, monkeypatch: pytest.MonkeyPatch, monitor_cli: MonitorCLI
) -> None:
    monkeypatch.setitem(sys.modules, "datasette", None)  # what an install without the extra looks like
    code, _, err = monitor_cli(built.config, "serve")
    assert code == 1 and "pip install 'monitor[web]'" in err


def test_serve_needs_an_archive(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    config = tmp_path / "c.yaml"
    write_config(config, [{"id": "a", "feed": "http://127.0.0.1:9/feed"}], archive=tmp_path / "none.db")
    code, _, err = monitor_cli(config, "serve")
    assert code == 1 and "no archive at" in err and "monitor run" in err


def test_print_metadata_is_valid_for_datasette(built: Built, monitor_cli: MonitorCLI) -> None:
    code, out, _ = monitor_cli(built.config, "serve", "--print-metadata")
    assert code == 0 and set(json.loads(out)["databases"]) == {"news"}


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]


def start_serve(config: Path) -> Served:
    """`monitor serve` as a user starts it: the installed command, a real port; returns once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "monitor", "-c", str(config), "serve", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/-/versions.json", timeout=2).status_code == 200:
                return Served(base, process)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"monitor serve did not start: {err.decode(errors='replace')}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def served(built: Built) -> Iterator[Served]:
    running = start_serve(built.config)
    try:
        yield running
    finally:
        stop_process(running.process)


def test_datasette_search_uses_fts5_syntax_and_canned_queries_run(built: Built, served: Served) -> None:
    found = httpx.get(
        f"{served.base}/news/articles.json", params={"_search": "Maduro AND Iran", "_shape": "array"}
    ).json()
    assert [row["id"] for row in found] == [built.seed_id]
    none = httpx.get(
        f"{served.base}/news/articles.json", params={"_search": "Maduro AND flights", "_shape": "array"}
    ).json()
    assert none == []
    original, copy = built.copy_ids
    story = httpx.get(
        f"{served.base}/news/copies_of_a_story.json", params={"article_id": copy, "_shape": "array"}
    ).json()
    assert [row["id"] for row in story] == [original, copy]
    home = httpx.get(f"{served.base}/news").text
    for title in ("Articles per outlet per day", "Latest matches per watch", "Copies of a story"):
        assert title in home
    assert "article_bands" not in home  # internal tables are hidden
    assert "/monitor-static/monitor.css" in home
    assert "column-descriptions" in httpx.get(f"{served.base}/monitor-static/monitor.css").text


def test_serve_stops_datasette_on_sigterm(built: Built) -> None:
    running = start_serve(built.config)
    running.process.send_signal(signal.SIGTERM)
    try:
        running.process.wait(timeout=30)
    finally:
        stop_process(running.process)
    with pytest.raises(httpx.TransportError):  # the Datasette child went too, not only the launcher
        httpx.get(f"{running.base}/-/versions.json", timeout=2)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "no chromium on this machine (Debian: apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true the browser test must run")
    pytest.skip(reason)


def browser_dom(url: str, profile: Path) -> str:
    """The page at ``url`` as headless Chromium renders it (its DOM once scripts have run)."""
    # Flags from this machine's notes: no sandbox as root, no GPU, and no background networking (the
    # network here is closed, and Chromium would otherwise keep trying to reach Google's hosts).
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8", errors="replace")


def test_a_real_browser_finds_the_article_through_the_search_page(
    built: Built, served: Served, tmp_path: Path
) -> None:
    dom = browser_dom(f"{served.base}/news/articles?_search=maduro+AND+iran", tmp_path / "profile")
    # the rendered page: the search box holds the query, the one matching article is listed
    assert 'name="_search"' in dom and "maduro AND iran" in dom
    assert SEED_TITLE in dom
    assert "1 row" in dom
    assert "Outlet 1 story" not in dom and "Leader: resistance" not in dom
