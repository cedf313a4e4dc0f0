"""A PostgreSQL archive used by one daemon, end to end (issue 16, items 2 and 5): the same news site archived
into SQLite and into PostgreSQL, every reading command compared on both after masking ids and times; one
daemon per PostgreSQL archive; `serve` stays SQLite-only."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from monitor import Archive
from tests.support.newssite import NewsServer, add_fixture_outlet, add_outlets, stop_process, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI

ZH_TITLE = "城市地铁新线路本周正式开通运营"
ZH_BODY = [
    "本市地铁新线路于本周一正式开通运营，全长二十八公里，共设十九座车站，连接城市东部和西部的主要居住区。",
    "市交通部门表示，新线路开通后，东西方向的通勤时间预计将缩短约二十分钟，高峰时段的发车间隔为三分钟。",
    "不少市民在开通首日前来乘坐，表示新线路大大方便了日常出行，同时希望尽快完善站点周边的公交接驳。",
]


def add_chinese_outlet(server: NewsServer) -> dict[str, object]:
    path = "/zh/city/metro-line"
    body = "".join(f"<p>{p}</p>" for p in ZH_BODY)
    page = (
        f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>{ZH_TITLE} | 城市日报</title>"
        "<meta property='article:published_time' content='2024-05-06T09:30:00+08:00'>"
        "<meta name='author' content='王晓明'></head><body><nav><a href='/'>首页</a></nav>"
        f"<article><h1>{ZH_TITLE}</h1>{body}</article><footer>2024</footer></body></html>"
    )
    server.add(path, page, content_type="text/html; charset=utf-8")
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>城市日报</title>'
        f"<link>{server.url('/zh/')}</link><language>zh</language><item><title>{ZH_TITLE}</title>"
        f"<link>{server.url(path)}</link><guid>zh-1</guid><pubDate>Mon, 06 May 2024 01:30:00 GMT</pubDate>"
        "</item></channel></rss>"
    )
    server.add("/zh/rss.xml", feed, content_type="application/rss+xml", headers={"ETag": '"zh-1"'})
    return {"id": "citydaily", "name": "City Daily", "feed": server.url("/zh/rss.xml")}


def postgres_url(conninfo: str) -> str:
    """The test database's libpq ``key=value`` conninfo (a unix socket) as the URL a config holds."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(conninfo)
    return f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}"


def configure(path: Path, sources: list[dict[str, object]], archive: str) -> Path:
    write_config(path, sources, archive=Path("unused.db"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["archive"] = archive
    data["watches"] = [{"id": "talks", "query": "talks"}, {"id": "metro", "query": "地铁"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"(?m)^(\s*)\d+(?=\s)"), r"\1<id>"),  # a listing's first column
    (re.compile(r"\b(id|article|story|#)(:? *)\d+\b"), r"\1\2<id>"),
    (re.compile(r"(?m)^((archive )?bytes.*?)\d+$"), r"\1<bytes>"),  # sizes are each backend's own
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms|KB|MB|GB|kB|B|bytes|seconds?|minutes?|hours?|days?) ago\b"), "<ago>"),
]


def masked(text: str, archive: str) -> str:
    text = text.replace(archive, "<archive>")
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def test_one_daemon_archives_into_postgresql_and_every_command_reads_it(
    postgres_db: str, server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = [
        add_fixture_outlet(server),
        *add_outlets(server, outlets=2, articles=3),
        add_chinese_outlet(server),
    ]
    url = postgres_url(postgres_db)
    pg = configure(tmp_path / "pg.yaml", sources, url)
    lite = configure(tmp_path / "lite.yaml", sources, str(tmp_path / "a.db"))

    # before the first run: no daemon, and on PostgreSQL no archive yet either
    assert monitor_cli(pg, "check")[0] == 1

    code, out, err = monitor_cli(pg, "run", "--once")
    assert code == 0, err
    assert monitor_cli(lite, "run", "--once")[0] == 0
    code, out, _ = monitor_cli(pg, "export", "--format", "jsonl")
    assert code == 0
    exported = [json.loads(line) for line in out.splitlines()]
    urls = [article["url"] for article in exported]
    assert len(urls) == len(set(urls)) >= 2 * 3 + 1 + 1
    assert any(article["title"] == ZH_TITLE for article in exported)

    # a second pass adds nothing: the feeds answer 304 to the validators kept in PostgreSQL
    hits = sum(server.hits.values())
    assert monitor_cli(pg, "run", "--once")[0] == 0
    assert len(monitor_cli(pg, "export", "--format", "jsonl")[1].splitlines()) == len(exported)
    assert sum(server.hits.values()) - hits <= len(sources)  # feeds only, no article fetched again
    assert monitor_cli(lite, "run", "--once")[0] == 0

    # every reading command answers from PostgreSQL as from SQLite, ids and times aside
    first = exported[0]["id"]
    first_url = exported[0]["url"]  # ids follow the order the concurrent polls ended: show the same URL
    commands: list[tuple[str, ...]] = [
        ("search", "talks"),
        ("search", "talks", "--format", "json"),
        ("search", "地铁"),
        ("search", "地铁", "--format", "json"),
        ("sources",),
        ("stats",),
        ("tail", "-n", "3"),
        ("export", "--format", "jsonl"),
        ("duplicates",),
        ("watches",),
        ("alerts",),
    ]
    for args in commands:
        pg_code, pg_out, pg_err = monitor_cli(pg, *args)
        lite_code, lite_out, _ = monitor_cli(lite, *args)
        assert pg_code == lite_code == 0, (args, pg_err)
        assert pg_out.strip(), args
        if args[0] == "tail":  # the newest three, which depend on the order the concurrent polls ended
            newest = sorted(exported, key=lambda article: article["id"])[-3:]
            assert [line.split()[0] for line in pg_out.splitlines()[-3:]] == [str(a["id"]) for a in newest]
            assert len(pg_out.splitlines()) == len(lite_out.splitlines())
        elif args[0] == "export" or "json" in args:
            pg_records = _without_ids(pg_out)
            lite_records = _without_ids(lite_out)
            if args[0] == "export":  # in id order, that is in the order the concurrent polls ended
                pg_records.sort(key=lambda record: str(record.get("url")))
                lite_records.sort(key=lambda record: str(record.get("url")))
            for pg_record, lite_record in zip(pg_records, lite_records, strict=True):
                differing = {k: v for k, v in pg_record.items() if lite_record.get(k) != v}
                assert differing == {}, (args, lite_record)
        elif args[0] == "alerts":  # newest match first: the order the concurrent polls ended
            pg_lines = masked(pg_out, url).splitlines()
            lite_lines = masked(lite_out, str(tmp_path / "a.db")).splitlines()
            assert pg_lines[0] == lite_lines[0] and sorted(pg_lines) == sorted(lite_lines), args
        else:
            assert masked(pg_out, url) == masked(lite_out, str(tmp_path / "a.db")), args
    assert ZH_TITLE in monitor_cli(pg, "search", "地铁")[1]

    code, out, err = monitor_cli(pg, "show", str(first))
    assert code == 0 and exported[0]["title"] in out, err
    assert masked(monitor_cli(pg, "show", first_url)[1], url) == masked(
        monitor_cli(lite, "show", first_url)[1], str(tmp_path / "a.db")
    )

    with Archive(url) as api, Archive(tmp_path / "a.db") as lite_api:  # the Python API, on both
        assert api.count("talks") == lite_api.count("talks") > 0
        assert [hit.title for hit in api.search("地铁")] == [ZH_TITLE]
        assert api.article(first)["title"] == exported[0]["title"]

    code, out, err = monitor_cli(pg, "check")
    assert code == 1, out + err  # an archive, but no daemon running

    code, out, err = monitor_cli(pg, "reextract")
    assert code == 0, err
    assert len(monitor_cli(pg, "export", "--format", "jsonl")[1].splitlines()) == len(exported)

    # workers share a PostgreSQL archive by leases: `run --once` beside a running daemon waits (two leases,
    # 3 s each here) for the host the daemon holds, then reports its sources as polled by another worker
    data = yaml.safe_load(pg.read_text(encoding="utf-8"))
    data["workers"] = {"lease": "3s"}
    pg.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(pg), "run"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and monitor_cli(pg, "check")[0] != 0:
            time.sleep(0.1)
        code, out, _ = monitor_cli(pg, "check")
        assert code == 0 and f"pid {process.pid}" in out, out
        code, out, err = monitor_cli(pg, "run", "--once")
        assert code == 0 and "4 sources failed" in err and "polled by another worker; not polled" in err, err
        assert monitor_cli(pg, "search", "talks")[0] == 0  # readers are never blocked
    finally:
        stop_process(process)
    code, out, err = monitor_cli(pg, "run", "--once")  # the daemon handed its host back when it stopped
    assert code == 0 and "0 sources failed" in err, out + err

    code, _, err = monitor_cli(pg, "serve")
    assert code == 2 and "reads SQLite archives only" in err


def _without_ids(output: str) -> list[dict[str, object]]:
    text = output.strip()
    records = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines()]
    return [_strip(record) for record in records]  # type: ignore[misc]


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in {"id", "story_id", "fetched_at", "story"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
