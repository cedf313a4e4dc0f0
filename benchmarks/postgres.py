"""The PostgreSQL archive's benchmarks (issue 16), one table of figures against anchors from the same run.

    .venv/bin/python benchmarks/postgres.py                    # quick (~3-4 minutes)
    BENCH_SCALE=full .venv/bin/python benchmarks/postgres.py   # 2,000 articles, 10,000 sources, 1M archive
    .venv/bin/python benchmarks/postgres.py --json out.json    # also keep every raw figure

The server: ``MONITOR_BENCH_POSTGRES`` or ``MONITOR_TEST_POSTGRES`` (URLs), else a throwaway cluster started
as the test suite starts one (``benchmarks/pgserver.py``); with neither, one line says how to get one, exit 0.

- **Workers**: 1, 2 and 4 real ``monitor run`` daemons on one PostgreSQL archive against one ``monitor run``
  on SQLite, each on a fresh archive, polling the simulator's outlets (``benchmarks/simulator.py``, one
  outlet per host, its own process). The sources are written and scheduled for tomorrow before the workers
  start; once every worker runs (on PostgreSQL: once the feed hosts are split ⌊H/W⌋/⌈H/W⌉ between them) all
  are made due through the archive (``reschedule``), and the clock runs until the archive holds every
  article. CPU: every worker's whole process tree (main process, fork server, pool workers) from
  ``/proc/<pid>/stat``, before and after.
- **Idle 304 polling**: the same with the simulator's many small feeds (``fetch_articles: false``): a first
  round stores each feed's ETag, then a second round, all due at once, gets 304 for every feed; CPU of the
  workers' trees during that round / polls, 2 workers against 1.
- **Insert cost and search** as the archive grows: synthetic articles (``benchmarks/archive.py``'s, one in
  fifty in Chinese) filled by COPY (``pgserver.fill``), then at each size the real writer's ``commit_batch``
  for fresh articles (20 a batch, after unmeasured warm-up batches) and the reader's ``search`` (what
  ``monitor search`` calls: limit 20, newest first; and ``--sort rank``, which orders the newest 500
  matches) for one- and two-word queries and Chinese ones, p50/p95 over two passes after a warm-up pass.

Measurements, not timed tests: nothing fails when the machine is busy (the load average is printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import archive
import pgserver
from machine import cpu_model
from simulator import MissingPages, SimulatorProcess, sentence_pool

SCALES: dict[str, dict[str, Any]] = {
    "quick": {
        "ingest": (20, 10),  # outlets (one host each), new articles per outlet
        "idle": (20, 50),  # hosts, feeds per host
        "sizes": [10_000, 30_000],
        "warmup": 250,
        "measured": 1_000,
    },
    "full": {
        "ingest": (100, 20),
        "idle": (50, 200),
        "sizes": [10_000, 100_000, 1_000_000],
        "warmup": 500,
        "measured": 2_000,
    },
}
WORKER_COUNTS = (1, 2, 4)
LEASE_S = 10.0
"""The benchmark's ``workers.lease`` (default 60 s): renewed every third of it, so the hosts are split between
the workers within seconds instead of a minute; a renewal is one short transaction per worker."""
BATCH = 20
TARGET_INSERT_RATIO, TARGET_P95_MS = 1.3, 100.0
SQLITE_INSERT_RATIO = 1.74  # benchmarks/PERFORMANCE.md, latest full run: SQLite at 1M against 10k
WAIT_S = 900.0
CHINESE_EVERY = 50
CHINESE = [
    "连接城市南北两岸的跨江大桥于今日上午正式通车，大桥全长三公里，双向六车道。",
    "交通部门介绍，大桥通车后，南北两岸之间的车程将由原来的四十分钟缩短到十分钟左右。",
    "许多市民一早便来到桥头，见证这一时刻，并表示期待周边道路和公交线路尽快完善。",
    "市政府周二宣布，新的地铁线路将在明年年底前开通，沿线设有十八座车站。",
    "地铁公司表示，新线路开通后，早晚高峰的客流压力有望明显缓解。",
    "气象部门预计，本周末将有一次明显的降温过程，部分地区可能出现大风和降雨。",
    "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。",
    "国家统计局发布的数据显示，今年第三季度经济同比增长百分之四点九。",
    "分析人士认为，消费和投资的回暖是经济增长的主要动力。",
    "教育部门表示，将进一步减轻中小学生的课业负担，增加体育锻炼时间。",
    "这家科技公司在发布会上展示了最新的人工智能芯片，性能比上一代提高了一倍。",
    "专家提醒，秋冬季节是流感高发期，老人和儿童应及时接种疫苗。",
    "足球联赛本赛季的最后一轮比赛将于周日举行，冠军归属仍有悬念。",
    "环保组织呼吁减少一次性塑料制品的使用，保护海洋生态环境。",
    "当地警方通报，事故造成两人受伤，目前伤者已被送往医院救治。",
    "博物馆新馆将于下月对公众开放，首批展出文物超过两千件。",
]
CHINESE_QUERIES = ["地铁", "大桥 通车", "经济增长"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


# -- process trees ------------------------------------------------------------------------------------


def tree_cpu_s(roots: list[int]) -> float:
    """CPU seconds (user + system) of the processes ``roots`` and all their descendants, with the children
    they have reaped (``/proc/<pid>/stat``: utime, stime, cutime, cstime)."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        ticks[pid] = sum(int(value) for value in fields[11:15])
    total, stack = 0, list(roots)
    while stack:
        pid = stack.pop()
        total += ticks.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def _until(what: Callable[[], bool], why: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not what():
        if time.monotonic() > deadline:
            raise RuntimeError(f"postgres bench: timed out waiting for {why}")
        time.sleep(0.1)


class Archive:
    """One fresh archive (a SQLite file or a PostgreSQL database) and SQL counts read beside monitor."""

    def __init__(self, location: str, conninfo: str | None) -> None:
        self.location, self.conninfo = location, conninfo

    def scalar(self, sql: str) -> Any:
        if self.conninfo is None:
            with sqlite3.connect(self.location, timeout=30) as db:
                return db.execute(sql).fetchone()[0]
        import psycopg

        with psycopg.connect(self.conninfo) as conn:
            row = conn.execute(sql.encode()).fetchone()
        return row[0] if row else None

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg

        assert self.conninfo is not None
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(sql.encode()).fetchall()


@contextmanager
def _archives(server: Any, tmp: Path) -> Iterator[Callable[[str], Any]]:
    """``fresh(kind)``: a new SQLite file or PostgreSQL database for each run, gone at the end."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        count = 0

        def fresh(kind: str) -> Archive:
            nonlocal count
            count += 1
            if kind == "sqlite":
                return Archive(str(tmp / f"archive-{count}.db"), None)
            conninfo = stack.enter_context(server.database())
            return Archive(pgserver.postgres_url(conninfo), conninfo)

        yield fresh


class Workers:
    """``count`` ``monitor run`` daemons on one archive, their sources written and not due until told."""

    def __init__(self, base: dict[str, Any], target: Archive, count: int, tmp: Path) -> None:
        self.target, self.count, self.tmp = target, count, tmp
        self.config = tmp / f"config-{id(self)}.yaml"
        config = {**base, "archive": target.location}
        if target.conninfo is not None:
            config["workers"] = {"lease": f"{LEASE_S:g}s"}
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def _store(self) -> Any:
        from monitor.config import load_config
        from monitor.store import open_archive

        settings = load_config(self.config)
        return settings, open_archive(settings.archive)

    def schedule(self, *, due: bool) -> None:
        """Every source due now, or tomorrow, through the archive as the daemon's own schedule is kept."""
        settings, store = self._store()
        try:
            sources = settings.resolved_sources()
            if not due:
                store.sync_sources(sources)
            when = datetime.now(UTC) + (timedelta(0) if due else timedelta(days=1))
            store.reschedule({source.id: when for source in sources})
        finally:
            store.close()

    def start(self, hosts: int) -> None:
        for n in range(self.count):
            path = self.tmp / f"worker-{id(self)}-{n}.log"
            self.logs.append(path)
            with path.open("wb") as out:
                command = [sys.executable, "-m", "monitor", "-c", str(self.config), "run"]
                self.processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
        _until(lambda: self._ready(hosts), f"{self.count} workers to start and share {hosts} hosts", 180)

    def _ready(self, hosts: int) -> bool:
        for process, path in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"postgres bench: a worker exited ({process.returncode}):\n{tail}")
        try:
            if self.target.conninfo is None:
                return bool(self.target.scalar("SELECT count(*) FROM heartbeat"))
            held = self.target.rows(
                "SELECT count(*) FROM host_leases AS l JOIN workers AS w ON w.id = l.worker "
                "WHERE l.expires_at > now() AND w.stopped_at IS NULL GROUP BY l.worker"
            )
        except Exception:  # the first worker has not created the schema yet
            return False
        counts = [row[0] for row in held]
        return len(counts) == self.count and sum(counts) == hosts and max(counts) - min(counts) <= 1

    def cpu_s(self) -> float:
        return tree_cpu_s([process.pid for process in self.processes])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _base_config(path: Path) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return config


# -- workers: ingest ----------------------------------------------------------------------------------


def measure_ingest(server: Any, scale: str, tmp: Path) -> dict[str, Any]:
    outlets, per_outlet = SCALES[scale]["ingest"]
    expected = outlets * per_outlet
    config = tmp / "ingest.yaml"
    runs = []
    args = ["ingest", "--outlets", str(outlets), "--articles", str(per_outlet), "--config", str(config)]
    with SimulatorProcess(*args) as sim, _archives(server, tmp) as fresh:
        base = _base_config(config)
        for kind, count in [("sqlite", 1), *(("postgres", n) for n in WORKER_COUNTS)]:
            log(f"postgres bench: ingest, {count} worker(s) on {kind} ...")
            target = fresh(kind)
            workers = Workers(base, target, count, tmp)
            workers.schedule(due=False)
            try:
                workers.start(outlets)
                sim.stats()
                cpu, started = workers.cpu_s(), time.perf_counter()
                workers.schedule(due=True)
                _until(lambda t=target: t.scalar("SELECT count(*) FROM articles") >= expected, "the articles")
                wall = time.perf_counter() - started
                cpu = workers.cpu_s() - cpu
                served = sim.stats()
            finally:
                workers.stop()
            archived = target.scalar("SELECT count(*) FROM articles")
            runs.append(
                {
                    "backend": kind,
                    "workers": count,
                    "articles": archived,
                    "wall_s": wall,
                    "pages_per_s": archived / wall,
                    "cpu_s": cpu,
                    "cpu_ms_per_article": 1000 * cpu / archived,
                    "served": served,
                }
            )
    anchor = runs[0]
    for run in runs:
        run["ratio"] = run["pages_per_s"] / anchor["pages_per_s"]
        run["cpu_ratio"] = run["cpu_ms_per_article"] / anchor["cpu_ms_per_article"]
    return {"outlets": outlets, "articles": expected, "runs": runs}


# -- workers: idle 304 polling ------------------------------------------------------------------------


def measure_idle(server: Any, scale: str, tmp: Path) -> dict[str, Any]:
    hosts, feeds = SCALES[scale]["idle"]
    sources = hosts * feeds
    config = tmp / "idle.yaml"
    args = ["idle", "--hosts", str(hosts), "--feeds", str(feeds), "--items", "2", "--config", str(config)]
    args += ["--http", '{"fetch_articles": false}']
    runs = []
    with SimulatorProcess(*args) as sim, _archives(server, tmp) as fresh:
        base = _base_config(config)
        for count in (1, 2):
            log(f"postgres bench: idle 304 polling, {sources:,} sources, {count} worker(s) ...")
            target = fresh("postgres")
            workers = Workers(base, target, count, tmp)
            workers.schedule(due=False)

            def polled(rounds: int, t: Archive = target) -> bool:
                return t.scalar(f"SELECT count(*) FROM sources WHERE poll_count >= {rounds}") >= sources

            try:
                workers.start(hosts)
                workers.schedule(due=True)
                _until(lambda: polled(1), "the first round")
                time.sleep(1.0)  # the last polls' commits and the pool settle
                sim.stats()
                cpu, started = workers.cpu_s(), time.perf_counter()
                workers.schedule(due=True)
                _until(lambda: polled(2), "the second round")
                wall = time.perf_counter() - started
                cpu = workers.cpu_s() - cpu
                served = sim.stats()
            finally:
                workers.stop()
            not_modified = target.scalar("SELECT sum(not_modified_count) FROM sources")
            runs.append(
                {
                    "workers": count,
                    "sources": sources,
                    "wall_s": wall,
                    "polls_per_s": sources / wall,
                    "cpu_s": cpu,
                    "cpu_ms_per_poll": 1000 * cpu / sources,
                    "not_modified": int(not_modified or 0),
                    "served": served,
                }
            )
    runs[1]["ratio"] = runs[1]["cpu_ms_per_poll"] / runs[0]["cpu_ms_per_poll"]
    return {"hosts": hosts, "sources": sources, "runs": runs}


# -- archive growth: insert cost and search -----------------------------------------------------------


def _article_of(sentences: list[str]) -> Callable[[int], Any]:
    english = archive.Articles(sentences)
    chinese = archive.Articles(CHINESE)

    def article(n: int) -> Any:
        if n % CHINESE_EVERY == 7:
            return dataclasses.replace(chinese.article(n), language="zh")
        return english.article(n)

    return article


def _queries(sentences: list[str]) -> list[str]:
    """Half one word, half two, drawn by frequency (common words more often, as users' queries are), and
    the Chinese ones."""
    rng = random.Random(16)
    tokens = [w.strip(".,;:\"'()").lower() for s in sentences for w in s.split()]
    vocabulary = [w for w in tokens if w.isalpha() and len(w) >= 5]
    one = [rng.choice(vocabulary) for _ in range(12)]
    two = [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(12)]
    return one + two + CHINESE_QUERIES


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _insert(store: Any, article_of: Callable[[int], Any], ids: range) -> tuple[float, float]:
    """Wall and CPU (this process) seconds of ``commit_batch`` for articles ``ids``, ``BATCH`` a call."""
    from monitor.models import ArticleBatch

    wall = cpu = 0.0
    for start in range(ids.start, ids.stop, BATCH):
        articles = tuple(article_of(n) for n in range(start, min(start + BATCH, ids.stop)))
        batch = ArticleBatch(source=articles[0].source, polled_at=articles[-1].fetched_at, articles=articles)
        started, cpu_started = time.perf_counter(), time.process_time()
        store.commit_batch(batch)
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return wall, cpu


def measure_growth(server: Any, scale: str, sizes: list[int] | None = None) -> dict[str, Any]:
    from monitor.models import SearchQuery
    from monitor.store.postgres import PostgresArchive

    settings = SCALES[scale]
    sentences = sentence_pool()
    article_of = _article_of(sentences)
    queries = _queries(sentences)
    results = []
    with server.database() as conninfo:
        url = pgserver.postgres_url(conninfo)
        writer = PostgresArchive(url)
        writer.sync_sources(archive._sources())
        filled = 0
        extra = 10_000_000
        try:
            for size in sizes or settings["sizes"]:
                log(f"postgres bench: filling the archive to {size:,} articles by COPY ...")
                started = time.perf_counter()
                pgserver.fill(conninfo, article_of, range(filled, size), log)
                fill_s = time.perf_counter() - started
                filled = size
                warm = range(extra, extra + settings["warmup"])
                _insert(writer, article_of, warm)  # the connections' caches warm, as a running worker's
                measured = range(warm.stop, warm.stop + settings["measured"])
                wall, cpu = _insert(writer, article_of, measured)
                extra = measured.stop
                reader = PostgresArchive(url, readonly=True)
                try:
                    timings: dict[str, list[float]] = {"date": [], "rank": [], "zh": []}
                    hits = []
                    for rounds in range(3):
                        for query in queries:
                            for sort in ("date", "rank"):
                                began = time.perf_counter()
                                found = reader.search(SearchQuery(query=query, sort=sort, limit=20))
                                took = time.perf_counter() - began
                                if rounds == 0:  # warm-up
                                    if sort == "date":
                                        hits.append(len(found))
                                    continue
                                timings[sort].append(took * 1000)
                                if query in CHINESE_QUERIES:
                                    timings["zh"].append(took * 1000)
                    count = reader.count(SearchQuery(query=CHINESE_QUERIES[0]))
                finally:
                    reader.close()
                total = size + measured.stop - 10_000_000
                results.append(
                    {
                        "articles": size,
                        "archive_rows": total,
                        "fill_s": fill_s,
                        "insert_wall_ms": 1000 * wall / len(measured),
                        "insert_cpu_ms": 1000 * cpu / len(measured),
                        "search_ms": _percentiles(timings["date"]),
                        "search_rank_ms": _percentiles(timings["rank"]),
                        "search_zh_ms": _percentiles(timings["zh"]),
                        "search_hits_median": statistics.median(hits),
                        "zh_hits": count,
                        "queries": len(queries),
                    }
                )
                log(
                    f"postgres bench: {size:,}: insert {results[-1]['insert_wall_ms']:.2f} ms/article, "
                    f"search p95 {results[-1]['search_ms'][1]:.1f} ms (filled in {fill_s:.0f}s)"
                )
        finally:
            writer.close()
    first = results[0]
    for size in results:
        size["insert_ratio"] = size["insert_wall_ms"] / first["insert_wall_ms"]
        size["insert_cpu_ratio"] = size["insert_cpu_ms"] / first["insert_cpu_ms"]
    return {"sizes": results, "queries": queries, "batch": BATCH}


# -- the report ---------------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    ing = results.get("ingest")
    if ing:
        anchor = ing["runs"][0]
        what = f"{ing['articles']:,} simulator pages, {ing['outlets']} hosts"
        for run in ing["runs"]:
            name = (
                "SQLite, 1 daemon"
                if run["backend"] == "sqlite"
                else f"PostgreSQL, {run['workers']} worker{'s' if run['workers'] > 1 else ''}"
            )
            rows.append(
                (
                    f"ingest, {name} ({what})",
                    f"{run['pages_per_s']:.2f} pages/s, {run['cpu_ms_per_article']:.0f} ms CPU/article",
                    f"{anchor['pages_per_s']:.2f} pages/s 1 SQLite daemon",
                    f"{run['ratio']:.2f}x",
                    "- (CPU x" + f"{run['cpu_ratio']:.2f})",
                )
            )
    idle = results.get("idle")
    if idle:
        one, two = idle["runs"]
        rows.append(
            (
                f"idle 304 poll CPU, {idle['sources']:,} sources, 1 worker",
                f"{one['cpu_ms_per_poll']:.2f} ms/poll, {one['polls_per_s']:.0f} polls/s",
                "",
                "",
                "-",
            )
        )
        rows.append(
            (
                f"idle 304 poll CPU, {idle['sources']:,} sources, 2 workers",
                f"{two['cpu_ms_per_poll']:.2f} ms/poll, {two['polls_per_s']:.0f} polls/s",
                f"{one['cpu_ms_per_poll']:.2f} ms/poll 1 worker",
                f"{two['ratio']:.2f}x",
                "-",
            )
        )
    growth = results.get("growth")
    if growth:
        first = growth["sizes"][0]
        for size in growth["sizes"]:
            n = _short(size["articles"])
            last = size is growth["sizes"][-1] and size is not first
            ratio = size["insert_ratio"]
            rows.append(
                (
                    f"insert at {n} (commit_batch, {growth['batch']}/batch)",
                    f"{size['insert_wall_ms']:.2f} ms/article",
                    f"{first['insert_wall_ms']:.2f} ms at {_short(first['articles'])}",
                    f"{ratio:.2f}x",
                    f"<= {TARGET_INSERT_RATIO}x {_verdict(ratio <= TARGET_INSERT_RATIO)} (SQLite 1.74x at 1M)"
                    if last
                    else "-",
                )
            )
            p50, p95 = size["search_ms"]
            r50, r95 = size["search_rank_ms"]
            z50, z95 = size["search_zh_ms"]
            rows.append(
                (
                    f"search at {n}: p50/p95 newest, by rank, Chinese",
                    f"{p50:.1f}/{p95:.1f}, {r50:.1f}/{r95:.1f}, {z50:.1f}/{z95:.1f} ms",
                    f"{size['search_hits_median']:.0f} hits median; "
                    f"{size['zh_hits']:,} for {CHINESE_QUERIES[0]}",
                    "",
                    f"p95 < {TARGET_P95_MS:.0f} ms {_verdict(max(p95, r95) < TARGET_P95_MS)}",
                )
            )
    return rows


def describe(results: dict[str, Any]) -> list[str]:
    """What was timed on which data, one paragraph per part."""
    lines = []
    ing = results.get("ingest")
    if ing:
        lines.append(
            f"ingest: real `monitor run` daemons polling {ing['outlets']} simulated outlets (one host "
            f"each, {ing['articles']:,} new article pages: shared real markup, re-filled text) into a fresh "
            "archive each; timed from the moment every source is made due until the archive holds every "
            "article; CPU of the workers' whole process trees (pool workers included);"
            " PostgreSQL workers.lease "
            f"{LEASE_S:g}s, workers.processes default (one per core, each worker its own pool)."
        )
    idle = results.get("idle")
    if idle:
        one = idle["runs"][0]
        lines.append(
            f"idle: {idle['sources']:,} feeds on {idle['hosts']} simulated hosts, all 304 in the measured "
            "round (a first round stored the ETags); CPU of the workers' whole process trees during the "
            f"round / polls ({one['not_modified']:,} not-modified answers in the archive with 1 worker)."
        )
    growth = results.get("growth")
    if growth:
        lines.append(
            "insert/search: synthetic articles (benchmarks/archive.py's, 1 in "
            f"{CHINESE_EVERY} Chinese) filled by COPY of the rows the writer makes (pgserver.fill), then "
            f"the real PostgresArchive.commit_batch for fresh articles ({growth['batch']} a call, after "
            "warm-up calls), "
            "wall time per article; search: the reader's search() as `monitor search` calls it (limit 20; "
            "`--sort rank` orders the newest 500 matches, all of them when there are no more), "
            f"{len(growth['queries'])} queries (12 one-word, 12 two-word, {len(CHINESE_QUERIES)} Chinese), "
            "two timed passes after a warm-up pass."
        )
    return lines


def measure(scale: str, parts: list[str], sizes: list[int] | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {"scale": scale}
    with pgserver.bench_server() as server, tempfile.TemporaryDirectory(prefix="monitor-bench-pg-") as tmp:
        with server.database() as conninfo:
            results["server"] = pgserver.describe_server(conninfo)
        steps = {
            "ingest": lambda: measure_ingest(server, scale, Path(tmp)),
            "idle": lambda: measure_idle(server, scale, Path(tmp)),
            "growth": lambda: measure_growth(server, scale, sizes),
        }
        for name in parts:
            started = time.perf_counter()
            results[name] = steps[name]()
            log(f"postgres bench: {name} done in {time.perf_counter() - started:.0f}s")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=None, help="write every raw figure here")
    parser.add_argument("--only", choices=["ingest", "idle", "growth"], action="append", default=None)
    parser.add_argument(
        "--sizes",
        default=None,
        help="archive sizes instead of the scale's, e.g. 10000,200000 (the first is the anchor)",
    )
    args = parser.parse_args(argv)
    scale = os.environ.get("BENCH_SCALE", "quick")
    if scale not in SCALES:
        parser.error(f"BENCH_SCALE must be one of {', '.join(SCALES)}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("postgres bench: skipped (no psycopg: pip install -e '.[postgres]')")
        return 0
    load_before, started = _load(), time.perf_counter()
    try:
        sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else None
        results = measure(scale, args.only or ["ingest", "idle", "growth"], sizes)
    except pgserver.Unavailable as exc:
        print(f"postgres bench: skipped, no PostgreSQL server ({exc})")
        return 0
    except MissingPages as exc:
        print(f"postgres bench: skipped ({exc})")
        return 0
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}; scale {scale}; "
        f"load average {load_before} before, {_load()} after; {time.perf_counter() - started:.0f}s"
    )
    print(f"server: {results['server']}")
    rows = [("measure", "figure", "anchor (same run)", "ratio", "target"), *table(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    for line in describe(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
