"""`monitor copy FROM TO` (issue 16, item 4): a whole archive copied between SQLite and PostgreSQL, ids kept,
read alike by every command, resumed after an interruption, refused into an unrelated archive, and
continued by a daemon that fetches no article again."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
import yaml

from monitor.config import PostgresURL
from monitor.errors import ArchiveLockedError
from monitor.models import (
    Article,
    FetchRecord,
    NextPoll,
    PollOutcome,
    RawPage,
    Recheck,
    Source,
    Validators,
    Watch,
)
from monitor.store import SQLiteArchive, single_daemon
from monitor.store.copy_sqlite import copy_from as sqlite_from
from monitor.store.copying import SEARCH_INDEX, TABLES, CopyRefused, copy_archive
from monitor.store.postgres import PostgresArchive
from monitor.store.postgres.copying import copy_from as postgres_from
from tests.support.builders import T0, article
from tests.support.newssite import NewsServer, add_fixture_outlet, add_outlets
from tests.test_postgres_end_to_end import ZH_TITLE, add_chinese_outlet, configure, postgres_url

if TYPE_CHECKING:
    from conftest import MonitorCLI


# -- archives to copy ------------------------------------------------------------------------------------


class Interrupted(Exception):
    """Raised from the progress callback: the copy stops as after Ctrl-C, keeping what it committed."""


def _on(source: str, n: int, text: str | None = None, **changes: Any) -> Article:
    base = article(n, text)
    url = f"https://{source}.example/news/{n}.html"
    return replace(base, source=source, url=url, urls=(url,), link=url, guid=f"{source}-{n}", **changes)


def build_small(path: Path) -> Path:
    """A SQLite archive with a row in every copied table: two outlets (one story copied across them), an
    edit kept as a revision, a raw page, watches with a delivered and a failed alert."""
    archive = SQLiteArchive(path)
    try:
        archive.sync_sources(
            [
                Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0),
                Source(
                    id="wire", name="Wire", url="https://wire.example/feed", interval_s=600.0, tags=("w",)
                ),
            ]
        )
        archive.sync_watches([Watch(id="falcons", query="falcon", channels=("log", "mail"))])
        falcon = " ".join(
            ["A falcon was seen over the harbour at dawn, the first in years, said the coast guard today."]
            * 4
        )  # long enough for near-duplicate band keys
        page = RawPage(
            url="https://outlet.example/news/1.html",
            content_type="text/html",
            charset="utf-8",
            body=gzip.compress(b"<html><p>Story one</p></html>"),
            compression="gzip",
        )
        first = archive.commit_poll(
            PollOutcome(
                source="outlet",
                polled_at=T0 + timedelta(hours=1),
                status=200,
                validators=Validators(etag='"v1"', last_modified="Sun, 01 Nov 2026 12:00:00 GMT"),
                schedule=NextPoll(next_poll_at=T0 + timedelta(hours=2), interval_s=900.0),
                fetches=(
                    FetchRecord("outlet", "https://outlet.example/feed", "feed", T0, status=200, bytes=9),
                ),
                articles=(
                    _on("outlet", 1, raw=page),
                    _on("outlet", 2, falcon, title="Falcon returns"),
                    *[_on("outlet", n) for n in range(3, 9)],
                ),
            )
        ).inserted
        archive.commit_poll(
            PollOutcome(
                source="wire",
                polled_at=T0 + timedelta(hours=2),
                status=200,
                articles=(
                    _on("wire", 9, falcon, title="Falcon back"),
                    _on("wire", 10, "Turnout at a record."),
                ),
            )
        )
        edited = _on("outlet", 1, "Story number 1 now speaks of a glacier, after an editor's rewrite.")
        archive.commit_poll(
            PollOutcome(
                source="outlet",
                polled_at=T0 + timedelta(hours=3),
                status=200,
                rechecks=(Recheck(article_id=first[0], article=edited, checks=1),),
            )
        )
        now = T0 + timedelta(hours=4)
        alerts = archive.pending_alerts(now)
        archive.delivered([alerts[0].delivery_id], now)
        archive.delivery_failed(alerts[1].delivery_id, "boom", retry_at=now + timedelta(hours=1), at=now)
    finally:
        archive.close()
    return path


def table_rows(location: Path | PostgresURL) -> dict[str, list[tuple[Any, ...]]]:
    """Every copied table's rows, in key order, as the copy itself reads them (neutral values)."""
    end = sqlite_from(location) if isinstance(location, Path) else postgres_from(location)
    try:
        return {table.name: end.read(table, None, 1_000_000) for table in TABLES}
    finally:
        end.close()


def pg(conninfo: str) -> PostgresURL:
    return PostgresURL(postgres_url(conninfo))


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, monitor_cli: MonitorCLI
) -> Iterator[tuple[NewsServer, Path]]:
    """One local news site (English outlets, the golden Arabic/French pages, a Chinese outlet) archived into
    SQLite by `monitor run --once`, with a watch that notifies; the server and the SQLite config."""
    folder = tmp_path_factory.mktemp("site")
    with NewsServer() as server:
        sources = [
            add_fixture_outlet(server),
            *add_outlets(server, outlets=2, articles=4),
            add_chinese_outlet(server),
        ]
        config = configure(folder / "lite.yaml", sources, str(folder / "a.db"))
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["watches"][1]["notify"] = [{"jsonl": str(folder / "metro.jsonl")}]
        config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        code, _, err = monitor_cli(config, "run", "--once")
        assert code == 0, err
        yield server, config


def archive_of(config: Path) -> str:
    return str(yaml.safe_load(config.read_text(encoding="utf-8"))["archive"])


def retarget(config: Path, archive: str, name: str) -> Path:
    """The same config with another archive."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["archive"] = archive
    path = config.with_name(name)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def counts_table(out: str) -> dict[str, tuple[int, int]]:
    rows = {}
    for line in out.splitlines()[1:]:
        match = re.match(r"(.+?)\s+(\d+)\s+(\d+)", line)
        assert match, line
        rows[match.group(1).strip()] = (int(match.group(2)), int(match.group(3)))
    return rows


# -- SQLite -> PostgreSQL, and back -----------------------------------------------------------------------


def test_sqlite_to_postgresql_copies_every_table_and_every_command_reads_it_alike(
    site: tuple[NewsServer, Path], postgres_db: str, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    _, lite = site
    url = pg(postgres_db)
    code, out, err = monitor_cli(lite, "copy", archive_of(lite), url.url)
    assert code == 0, err
    # no terminal (a log, a pipe): the progress as a line at every tenth, ending at 100%
    progress = [line for line in err.splitlines() if line.startswith("copying: ")]
    assert progress[0].endswith("(0%)") and progress[-1].endswith("(100%)") and len(progress) <= 11, err
    counts = counts_table(out)
    assert set(counts) == {table.name for table in TABLES} | {SEARCH_INDEX}
    assert all(source == target for source, target in counts.values()), out
    for table in ("sources", "articles", "article_urls", "entry_guids", "article_bands", "raw_pages"):
        assert counts[table][0] > 0, table
    assert counts["matches"][0] > 0 and counts["deliveries"][0] > 0
    assert "verified" in err and "copying" in err  # the progress bar and the verdict, on stderr
    # a finished copy leaves the planner statistics of what it wrote, as autovacuum would later (D71)
    with psycopg.connect(postgres_db) as conn:
        vacuumed = conn.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
        ).fetchall()
    assert {"articles", "articles_fts", "article_bands"} <= {row[0] for row in vacuumed}

    copied = retarget(lite, url.url, "pg.yaml")
    commands: list[tuple[str, ...]] = [
        ("search", "talks"),
        ("search", "talks", "--format", "json"),
        ("search", "地铁"),
        ("search", "地铁", "--format", "json"),
        ("search", "grève"),
        ("sources",),
        ("stats",),
        ("tail", "-n", "5"),
        ("export", "--format", "jsonl"),
        ("duplicates",),
        ("watches",),
        ("alerts",),
        ("show", "1"),
        ("show", "2"),
    ]
    for args in commands:
        lite_code, lite_out, lite_err = monitor_cli(lite, *args)
        pg_code, pg_out, pg_err = monitor_cli(copied, *args)
        assert lite_code == pg_code == 0, (args, lite_err, pg_err)
        assert lite_out.strip(), args
        if args[0] == "stats":  # the archive's size is each backend's own
            lite_out, pg_out = (
                re.sub(r"(?m)^((archive )?bytes.*?)\d+$", r"\1<bytes>", o) for o in (lite_out, pg_out)
            )
        assert pg_out.replace(url.display, "<archive>") == lite_out.replace(archive_of(lite), "<archive>"), (
            args
        )
    assert ZH_TITLE in monitor_cli(copied, "search", "地铁")[1]


def test_postgresql_to_sqlite_gives_back_every_row(
    tmp_path: Path, postgres_db: str, monitor_cli: MonitorCLI
) -> None:
    source = build_small(tmp_path / "a.db")
    url = pg(postgres_db)
    config = tmp_path / "c.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    assert monitor_cli(config, "copy", str(source), url.url)[0] == 0
    code, out, err = monitor_cli(config, "copy", url.url, str(tmp_path / "back.db"))
    assert code == 0, err
    assert all(a == b for a, b in counts_table(out).values()), out
    original = table_rows(source)
    assert [table.name for table in TABLES if not original[table.name]] == []  # a row in every table
    assert table_rows(url) == original
    assert table_rows(tmp_path / "back.db") == original
    for args in [("search", "falcon"), ("search", "glacier", "--format", "json"), ("show", "1"), ("alerts",)]:
        here = monitor_cli(retarget(config, str(source), "a.yaml"), *args)[1]
        back = monitor_cli(retarget(config, str(tmp_path / "back.db"), "b.yaml"), *args)[1]
        assert back.replace(str(tmp_path / "back.db"), str(source)) == here, args


def test_sqlite_to_sqlite(tmp_path: Path) -> None:
    source = build_small(tmp_path / "a.db")
    report = copy_archive(source, tmp_path / "b.db")
    assert report.verified and not report.resumed
    assert table_rows(tmp_path / "b.db") == table_rows(source)


# -- resuming, refusing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("to_postgres", [False, pytest.param(True, marks=pytest.mark.postgres)])
def test_an_interrupted_copy_resumes_without_duplicates(
    tmp_path: Path, request: pytest.FixtureRequest, monitor_cli: MonitorCLI, to_postgres: bool
) -> None:
    source = build_small(tmp_path / "a.db")
    target: Path | PostgresURL = (
        pg(request.getfixturevalue("postgres_db")) if to_postgres else tmp_path / "b.db"
    )
    chunks = []

    def stop_after_three(table: str, rows: int) -> None:
        chunks.append((table, rows))
        if len(chunks) == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        copy_archive(source, target, chunk_rows=2, on_chunk=stop_after_three)
    partial = table_rows(target)
    assert [len(partial["sources"]), len(partial["watches"]), len(partial["articles"])] == [2, 1, 2]

    # a second interruption, in another table, then the rest by the command itself
    chunks.clear()
    with pytest.raises(Interrupted):
        copy_archive(source, target, chunk_rows=2, on_chunk=stop_after_three)
    assert len(table_rows(target)["articles"]) == 8

    config = tmp_path / "c.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    code, out, err = monitor_cli(
        config, "copy", str(source), target.url if isinstance(target, PostgresURL) else str(target)
    )
    assert code == 0, err
    assert err.startswith("copying") or "resumed: copied" in err
    assert "resumed: copied" in err
    assert all(a == b for a, b in counts_table(out).values()), out
    assert table_rows(target) == table_rows(source)  # every row once: the same rows in the same order

    # a finished copy is not copied into again
    code, _, err = monitor_cli(
        config, "copy", str(source), target.url if isinstance(target, PostgresURL) else str(target)
    )
    assert code == 2 and "already a finished copy" in err, err


def test_a_target_that_is_not_empty_nor_a_copy_of_the_source_is_refused(
    tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    source = build_small(tmp_path / "a.db")
    other = build_small(tmp_path / "other.db")
    config = tmp_path / "c.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    before = table_rows(other)

    code, out, err = monitor_cli(config, "copy", str(source), str(other))
    assert code == 2 and "is not empty" in err and "articles" in err, err
    assert out == ""
    assert table_rows(other) == before
    assert "monitor_copy" not in {
        row[0] for row in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")
    }

    # a database that is not an archive is left as it is
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    code, _, err = monitor_cli(config, "copy", str(source), str(foreign))
    assert code == 2 and "not a monitor archive" in err, err
    assert tables_in(foreign) == {"notes"}

    # an interrupted copy of another archive is not resumed from this one
    fresh = SQLiteArchive(tmp_path / "third.db")
    fresh.sync_sources([Source(id="elsewhere", name="E", url="https://e.example/feed", interval_s=60.0)])
    fresh.close()
    with pytest.raises(Interrupted):
        copy_archive(tmp_path / "third.db", tmp_path / "half.db", on_chunk=_interrupt)
    code, _, err = monitor_cli(config, "copy", str(source), str(tmp_path / "half.db"))
    assert code == 2 and "unfinished copy of another archive" in err and "third.db" in err, err

    code, _, err = monitor_cli(config, "copy", str(source), str(source))
    assert code == 2 and "onto itself" in err
    code, _, err = monitor_cli(config, "copy", str(source), "mysql://u:secret@h/db")
    assert code == 2 and "TO" in err and "secret" not in err
    code, _, err = monitor_cli(config, "copy", str(tmp_path / "missing.db"), str(tmp_path / "new.db"))
    assert code == 1 and "no archive at" in err


def tables_in(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def _interrupt(table: str, rows: int) -> None:
    raise Interrupted


def test_a_target_a_daemon_writes_to_is_refused(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    source = build_small(tmp_path / "a.db")
    config = tmp_path / "c.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    with single_daemon(tmp_path / "b.db"):
        code, _, err = monitor_cli(config, "copy", str(source), str(tmp_path / "b.db"))
    assert code == 1 and "already writing" in err, err
    assert monitor_cli(config, "copy", str(source), str(tmp_path / "b.db"))[0] == 0


def test_a_postgresql_target_with_a_running_worker_is_refused(tmp_path: Path, postgres_db: str) -> None:
    source = build_small(tmp_path / "a.db")
    PostgresArchive(postgres_db).close()  # migrated
    archive = PostgresArchive(postgres_db)
    try:
        with archive._transaction() as conn:
            conn.execute(
                "INSERT INTO workers (id, hostname, pid, version, daemon, lease_s) "
                "VALUES ('w1', 'box', 4242, 'x', true, 60)"
            )
    finally:
        archive.close()
    with pytest.raises(ArchiveLockedError, match="box pid 4242"):
        copy_archive(source, pg(postgres_db))


def test_a_schema_with_a_column_the_copy_does_not_know_is_refused(tmp_path: Path) -> None:
    source = build_small(tmp_path / "a.db")
    target = SQLiteArchive(tmp_path / "b.db")
    target.db.execute("ALTER TABLE articles ADD COLUMN mood TEXT")
    target.close()
    with pytest.raises(CopyRefused, match=r"articles\.mood is not known"):
        copy_archive(source, tmp_path / "b.db")


def test_the_password_is_never_shown(tmp_path: Path, postgres_db: str, monitor_cli: MonitorCLI) -> None:
    source = build_small(tmp_path / "a.db")
    url = postgres_url(postgres_db).replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    config = tmp_path / "c.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    code, out, err = monitor_cli(config, "copy", str(source), url)
    assert code == 0, err  # trust authentication: the password is not asked for
    assert "s3cret" not in out + err and "postgres:***@" in err


# -- a daemon on the copy ---------------------------------------------------------------------------------


def test_a_daemon_on_the_copy_continues_where_the_old_one_stopped(
    site: tuple[NewsServer, Path], postgres_db: str, monitor_cli: MonitorCLI
) -> None:
    server, lite = site
    url = pg(postgres_db)
    assert monitor_cli(lite, "copy", archive_of(lite), url.url)[0] == 0
    copied = retarget(lite, url.url, "pg-daemon.yaml")
    articles = len(monitor_cli(copied, "export", "--format", "jsonl")[1].splitlines())
    archive = PostgresArchive(url)
    try:
        with archive._transaction() as conn:  # every identity is past the copied ids
            for table in [t for t in TABLES if t.identity]:
                sequence = conn.execute(
                    "SELECT pg_get_serial_sequence(%s, %s)", [table.name, table.identity]
                ).fetchone()
                assert sequence is not None
                highest = conn.execute(f"SELECT max({table.identity}) FROM {table.name}".encode()).fetchone()
                last = conn.execute(f"SELECT last_value FROM {sequence[0]}".encode()).fetchone()
                assert highest is not None and last is not None
                assert highest[0] is None or last[0] >= highest[0], table.name
    finally:
        archive.close()

    # the Chinese outlet publishes one more article: its feed is read again, its old entry is known
    highest = max(
        json.loads(line)["id"] for line in monitor_cli(copied, "export", "--format", "jsonl")[1].splitlines()
    )
    add_second_chinese_article(server)
    before = dict(server.hits)
    code, _, err = monitor_cli(copied, "run", "--once")
    assert code == 0, err
    requested = {path: n - before.get(path, 0) for path, n in server.hits.items() if n > before.get(path, 0)}
    pages = [path for path in requested if not re.search(r"(rss|atom)\.xml$|robots\.txt$", path)]
    assert "/zh/rss.xml" in requested
    assert pages == [NEW_ZH_PATH], requested  # only the new article: none fetched again
    exported = [
        json.loads(line) for line in monitor_cli(copied, "export", "--format", "jsonl")[1].splitlines()
    ]
    assert len(exported) == articles + 1
    assert [a["id"] for a in exported if a["url"].endswith(NEW_ZH_PATH)] == [highest + 1]
    status = json.loads(monitor_cli(copied, "sources", "--format", "json")[1])
    assert all(source["error_count"] == 0 for source in status), status


NEW_ZH_PATH = "/zh/city/river-bridge"
NEW_ZH_TITLE = "跨江大桥今日通车"


def add_second_chinese_article(server: NewsServer) -> None:
    """A second article on the Chinese outlet of tests/test_postgres_end_to_end, and its feed with both."""
    body = "".join(
        f"<p>{p}</p>"
        for p in [
            "连接城市南北两岸的跨江大桥于今日上午正式通车，大桥全长三公里，双向六车道，设计时速八十公里。",
            "交通部门介绍，大桥通车后，南北两岸之间的车程将由原来的四十分钟缩短到十分钟左右。",
            "许多市民一早便来到桥头，见证这一时刻，并表示期待周边道路和公交线路尽快完善。",
        ]
    )
    server.add(
        NEW_ZH_PATH,
        f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{NEW_ZH_TITLE} | 城市日报</title>"
        "<meta property='article:published_time' content='2024-05-07T09:30:00+08:00'></head><body>"
        f"<article><h1>{NEW_ZH_TITLE}</h1>{body}</article></body></html>",
        content_type="text/html; charset=utf-8",
    )
    items = [
        (ZH_TITLE, "/zh/city/metro-line", "zh-1", "Mon, 06 May 2024 01:30:00 GMT"),
        (NEW_ZH_TITLE, NEW_ZH_PATH, "zh-2", "Tue, 07 May 2024 01:30:00 GMT"),
    ]
    entries = "".join(
        f"<item><title>{title}</title><link>{server.url(path)}</link><guid>{guid}</guid><pubDate>{date}</pubDate></item>"
        for title, path, guid, date in items
    )
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>城市日报</title>'
        f"<link>{server.url('/zh/')}</link><language>zh</language>{entries}</channel></rss>"
    )
    server.add("/zh/rss.xml", feed, content_type="application/rss+xml", headers={"ETag": '"zh-2"'})
