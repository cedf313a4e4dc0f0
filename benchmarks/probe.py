"""Run monitor's real ``run_once`` on a config, instrumented, and print one JSON line of what it cost.

    python benchmarks/probe.py CONFIG [--profile OUT.prof]

The benchmarks start this in its own process, so that the simulator's CPU is never counted. Measured:

- ``wall_s``, ``self_cpu_s``: wall-clock and this process's CPU (``time.process_time``) around ``run_once``;
- ``children_cpu_s``: the extraction pool (the forkserver and its workers) from ``RUSAGE_CHILDREN``, read
  after the pool is shut down and the forkserver reaped (otherwise the workers' time would be lost);
- ``extract_cpu_s``: CPU spent *inside* ``extract_article``, summed in the workers: a pool initializer wraps
  ``monitor.workers._extract`` (what the pool pickles by name) with ``time.process_time`` and appends each
  call's cost to a file per worker;
- ``parse_cpu_s``/``parses``: ``parse_feed`` in the pool workers; ``sync_cpu_s``: ``sync_sources``
  (a start-up cost, not a poll's); ``commit_cpu_s``: ``commit_poll`` (the writer);
- ``max_rss_mb``: this process's peak RSS (``VmHWM``: ``ru_maxrss`` would also count the parent's RSS at the
  fork that started this process, which survives the ``exec``).

Only monkeypatching from the outside: nothing in ``src/`` knows it is being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import monitor.pipeline
import monitor.workers
from monitor.config import load_config
from monitor.daemon import run_once
from monitor.store.sqlite import SQLiteArchive


def _rusage_cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class _Timed:
    """Wrap a callable; sum the CPU (``process_time``) and count the calls."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.cpu_s = 0.0
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.cpu_s += time.process_time() - started
            self.calls += 1


def _init_worker(log_dir: str) -> None:
    """In each pool worker: time every extraction and every feed parse, one line per call in this worker's
    files (feed parsing runs in the pool too)."""

    def timed(inner: Any, path: Path) -> Any:
        def call(*args: Any) -> Any:
            started = time.process_time()
            try:
                return inner(*args)
            finally:
                with path.open("a", encoding="ascii") as log:
                    log.write(f"{time.process_time() - started:.6f}\n")

        return call

    pid = os.getpid()
    monitor.workers._extract = timed(monitor.workers._extract, Path(log_dir) / f"worker-{pid}.log")  # type: ignore[assignment]
    monitor.workers._parse_feed = timed(monitor.workers._parse_feed, Path(log_dir) / f"parse-{pid}.log")  # type: ignore[assignment]


class TimedPoolExtractor(monitor.workers.ProcessPoolExtractor):
    """monitor's own pool extractor; only the pool gets an initializer that times the extractions."""

    def __init__(self, log_dir: str, workers: int | None = None) -> None:
        self.log_dir = log_dir
        super().__init__(workers)

    def _new_pool(self) -> ProcessPoolExecutor:
        # monitor's own context, with its fork-server preload (without it every worker would import this
        # script, and with it the whole pipeline, on its own)
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=monitor.workers.pool_context(),
            initializer=_init_worker,
            initargs=(self.log_dir,),
        )


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe(config: Path, profile: Path | None = None) -> dict[str, Any]:
    settings = load_config(config)
    sync = _Timed(SQLiteArchive.sync_sources)
    SQLiteArchive.sync_sources = lambda self, *a, **k: sync(self, *a, **k)  # type: ignore[method-assign]
    commit = _Timed(SQLiteArchive.commit_poll)
    SQLiteArchive.commit_poll = lambda self, *a, **k: commit(self, *a, **k)  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="monitor-probe-") as log_dir:
        extractor = TimedPoolExtractor(log_dir)
        profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not wall
        children_before = _rusage_cpu(resource.RUSAGE_CHILDREN)
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        reports = asyncio.run(run_once(settings, extractor=extractor))  # closes the pool (wait=True)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - wall_before
        self_cpu = time.process_time() - cpu_before
        multiprocessing.forkserver._forkserver._stop()  # type: ignore[attr-defined]  # reap it: its rusage
        children = _rusage_cpu(resource.RUSAGE_CHILDREN) - children_before
        costs = [
            float(line) for log in Path(log_dir).glob("worker-*.log") for line in log.read_text().split()
        ]
        parses = [
            float(line) for log in Path(log_dir).glob("parse-*.log") for line in log.read_text().split()
        ]
    if profiler and profile:
        profiler.dump_stats(str(profile))
    return {
        "polls": len(reports),
        "errors": sum(1 for r in reports if r.error),
        "error_samples": sorted({r.error for r in reports if r.error})[:3],
        "not_modified": sum(1 for r in reports if r.not_modified),
        "new": sum(r.new for r in reports),
        "entries": sum(r.entries for r in reports),
        "pages_failed": sum(r.pages_failed for r in reports),
        "wall_s": wall,
        "self_cpu_s": self_cpu,
        "children_cpu_s": children,
        "extract_cpu_s": sum(costs),
        "extract_slowest_s": sorted(costs)[-5:],  # first-use costs (dateparser's locales) show up here
        "extractions": len(costs),
        "workers": extractor.workers,
        "parse_cpu_s": sum(parses),
        "parses": len(parses),
        "sync_cpu_s": sync.cpu_s,
        "commit_cpu_s": commit.cpu_s,
        "commits": commit.calls,
        "max_rss_mb": _peak_rss_mb(),
    }


def run_probe(config: Path, profile: Path | None = None, timeout_s: float = 1800) -> dict[str, Any]:
    """Run the probe in a child process; ``tree_cpu_s`` is that whole process tree from ``RUSAGE_CHILDREN``
    (interpreter start-up and imports included), a cross-check of ``self_cpu_s + children_cpu_s``."""
    import subprocess

    command = [sys.executable, str(Path(__file__).resolve()), str(config)]
    if profile:
        command += ["--profile", str(profile)]
    before = _rusage_cpu(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    tree = _rusage_cpu(resource.RUSAGE_CHILDREN) - before
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["tree_cpu_s"] = tree
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", type=Path)
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the main process")
    args = parser.parse_args()
    print(json.dumps(probe(args.config, args.profile)), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
