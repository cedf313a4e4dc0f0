"""Export memory (issue 6; issue 8): peak RSS of the real ``monitor export`` as the archive grows.

    .venv/bin/python benchmarks/export.py                   # 10k and 100k articles, jsonl and csv
    BENCH_SCALE=full .venv/bin/python benchmarks/export.py  # adds 1M
    .venv/bin/python benchmarks/export.py --json out.json   # also keep every raw figure

The archives are ``benchmarks/archive.py``'s cached synthetic archives (``~/.cache/monitor-bench/``, or
``$MONITOR_BENCH_CACHE``; built once if missing: the 100k one takes a few minutes, the 1M one up to an hour).
They are only read: ``monitor export`` opens them read-only.

Each measurement is one process, ``python -m monitor -c CONFIG --archive PATH -q export --format FMT -o FILE``
(a config with no sources), started by a 5 MB wrapper (``WRAPPER``) that reaps it with ``os.wait4``: its
``ru_maxrss`` is that process's peak RSS alone, not the benchmark's (see ``WRAPPER``). The anchor, "idle", is
the same command on the same archive in the same run with ``--since 2100-01-01``: it starts, imports, opens
the archive and runs the same query (a full scan of ``articles``) but writes no row, so peak minus idle is
what exporting the rows costs. The output goes to a temporary file next to the cache; its rows are counted
afterwards (JSON lines; CSV records, whose quoted texts hold newlines) and checked against the archive's
``count(*)``. The idle run goes first and warms the page cache for the timed one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive import CACHE, SIZES, Articles, cached_archive
from machine import cpu_model
from simulator import MissingPages, sentence_pool

FORMATS = ("jsonl", "csv")
IDLE_SINCE = "2100-01-01"
TARGET_ABOVE_IDLE_MB = 100.0
CHUNK = 1 << 20


# Run as ``python -I -S -c WRAPPER COMMAND...``: fork and exec COMMAND, reap it with wait4, print its peak
# RSS. Linux starts a child's ru_maxrss at the RSS of the process that forked it (exec keeps the old mm's
# high-water mark), so the benchmark, with monitor, numpy and the sentence pool loaded, must not fork the
# export itself: its own RSS (about 50 MB) would be every child's floor, and would hide any smaller peak.
# This wrapper's 5 MB is the floor instead (checked against /usr/bin/time -v: the same peaks).
WRAPPER = """
import json, os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall_s": wall, "maxrss_kib": usage.ru_maxrss}))
"""


def run_export(
    config: Path, archive: Path, fmt: str, output: Path, *, since: str | None = None
) -> dict[str, Any]:
    """One ``monitor export`` in its own process: wall seconds, and that process's own peak RSS."""
    command = [sys.executable, "-m", "monitor", "-c", str(config), "--archive", str(archive), "-q"]
    command += ["export", "--format", fmt, "-o", str(output)]
    if since is not None:
        command += ["--since", since]
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", WRAPPER, *command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"export wrapper failed ({done.returncode}): {done.stderr.strip()}")
    child = json.loads(done.stdout.splitlines()[-1])
    if child["code"] != 0:
        raise RuntimeError(f"{' '.join(command)} exited {child['code']}: {done.stderr.strip()}")
    # ru_maxrss is in KiB on Linux
    return {"wall_s": child["wall_s"], "peak_mb": child["maxrss_kib"] / 1024}


def count_rows(path: Path, fmt: str) -> int:
    """Rows in an export: lines of JSON (a JSON string never holds a raw newline), or CSV records minus the
    header (quoted texts do). No file is no row: ``-o`` opens its file lazily, at the first write."""
    if not path.exists():
        return 0
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return sum(1 for _ in csv.reader(handle)) - 1
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
    return lines


def archive_rows(path: Path) -> int:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        conn.close()


def measure_size(size: int, articles: Articles, tmp: Path, log: Any = print) -> dict[str, Any]:
    path = cached_archive(size, articles, log)
    config = tmp / "config.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    expected = archive_rows(path)
    formats: dict[str, Any] = {}
    for fmt in FORMATS:
        output = tmp / f"export.{fmt}"
        log(f"export: {size:,} articles, {fmt} ...")
        output.unlink(missing_ok=True)
        idle = run_export(config, path, fmt, output, since=IDLE_SINCE)
        idle_rows = count_rows(output, fmt)
        full = run_export(config, path, fmt, output)
        rows = count_rows(output, fmt)
        formats[fmt] = {
            "rows": rows,
            "rows_ok": rows == expected and idle_rows == 0,
            "bytes": output.stat().st_size,
            "wall_s": full["wall_s"],
            "rows_per_s": rows / full["wall_s"],
            "peak_mb": full["peak_mb"],
            "idle_mb": idle["peak_mb"],
            "idle_wall_s": idle["wall_s"],
            "above_idle_mb": full["peak_mb"] - idle["peak_mb"],
        }
        output.unlink(missing_ok=True)
    return {"articles": size, "archive_rows": expected, "formats": formats}


def measure(scale: str = "quick", log: Any = print) -> dict[str, Any]:
    try:
        articles = Articles(sentence_pool())
    except MissingPages as exc:
        return {"skipped": str(exc)}
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-export-", dir=CACHE) as tmp:
        sizes = [measure_size(size, articles, Path(tmp), log) for size in SIZES[scale]]
    first = sizes[0]
    for size in sizes:
        for fmt, run in size["formats"].items():
            run["ratio_to_first"] = run["peak_mb"] / first["formats"][fmt]["peak_mb"]
    last = sizes[-1]["formats"]
    return {
        "scale": scale,
        "sizes": sizes,
        "target_above_idle_mb": TARGET_ABOVE_IDLE_MB,
        "met": all(run["above_idle_mb"] < TARGET_ABOVE_IDLE_MB for run in last.values()),
    }


def short_size(n: int) -> str:
    """10k, 100k, 1M."""
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def print_table(results: dict[str, Any]) -> None:
    header = (
        "articles",
        "format",
        "rows",
        "MB out",
        "wall s",
        "rows/s",
        "idle s",
        "peak MB",
        "idle MB",
        "above idle",
        "vs 10k",
    )
    rows = [header]
    for size in results["sizes"]:
        for fmt, run in size["formats"].items():
            rows.append(
                (
                    f"{size['articles']:,}",
                    fmt,
                    f"{run['rows']:,}" + ("" if run["rows_ok"] else f" (archive {size['archive_rows']:,}!)"),
                    f"{run['bytes'] / 1e6:.0f}",
                    f"{run['wall_s']:.1f}",
                    f"{run['rows_per_s']:,.0f}",
                    f"{run['idle_wall_s']:.1f}",
                    f"{run['peak_mb']:.1f}",
                    f"{run['idle_mb']:.1f}",
                    f"{run['above_idle_mb']:+.1f}",
                    f"{run['ratio_to_first']:.2f}x",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    largest = results["sizes"][-1]
    worst = max(run["above_idle_mb"] for run in largest["formats"].values())
    verdict = "met" if results["met"] else "MISSED"
    print(
        f"target: peak RSS < {results['target_above_idle_mb']:.0f} MB above idle at {largest['articles']:,} "
        f"articles: {verdict} (worst {worst:+.1f} MB); flat is a peak ratio near 1.00x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=None, help="write every raw figure here")
    args = parser.parse_args()
    scale = os.environ.get("BENCH_SCALE", "quick")
    started = time.perf_counter()
    results = measure(scale, log=lambda m: print(m, file=sys.stderr, flush=True))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}; scale {scale}; "
        f"{time.perf_counter() - started:.0f}s"
    )
    if "skipped" in results:
        print(f"export: {results['skipped']}, skipped")
        return
    print_table(results)


if __name__ == "__main__":
    main()
