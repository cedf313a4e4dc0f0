"""End-to-end ingest (issue 8, item 1): new articles from feed poll to committed row, against the limit.

    .venv/bin/python benchmarks/ingest.py                  # quick: 400 articles across 20 outlets
    BENCH_SCALE=full .venv/bin/python benchmarks/ingest.py # 2,000 articles across 100 outlets

The ingest is monitor's real ``run_once`` (``benchmarks/probe.py``, its own process) on a fresh archive,
against the simulator (another process) serving one outlet per host on 127.0.0.x. The limit is the same
page bytes through ``monitor.extract.extract_article`` on a process pool of one worker per core, warmed up,
no HTTP and no SQLite, measured while the simulator is not running.

Extraction share = CPU inside ``extract_article`` (summed in the pool workers) / CPU of the whole monitor
process tree during ``run_once`` (the main process plus the forkserver and its workers, from
``RUSAGE_CHILDREN`` after they are reaped). Worker start-up (importing trafilatura) is *not* extraction.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe import run_probe
from simulator import MissingPages, SimulatorProcess, ingest_pages

SCALES = {"quick": (20, 20), "full": (100, 20)}
TARGET_RATE, TARGET_SHARE = 0.7, 0.85
_NOW = datetime.now(UTC)


def _warm(page: bytes) -> None:
    from monitor.extract import extract_article

    extract_article(page, url="http://127.0.0.2/warm-up", now=_NOW)


def _extract(item: tuple[str, bytes]) -> float:
    from monitor.extract import extract_article

    started = time.process_time()
    extract_article(item[1], url=item[0], now=_NOW)
    return time.process_time() - started


def measure_limit(pages: dict[tuple[int, int], bytes], workers: int) -> dict[str, float]:
    """Pages/s of ``extract_article`` over these pages on ``workers`` processes, after a warm-up."""
    items = [(f"http://127.0.0.{o + 1}/news/{o}/{i}-story.html", page) for (o, i), page in pages.items()]
    first = next(iter(pages.values()))
    with ProcessPoolExecutor(max_workers=workers, initializer=_warm, initargs=(first,)) as pool:
        list(pool.map(_extract, items[:workers]))  # every worker started and warm
        started = time.perf_counter()
        costs = list(pool.map(_extract, items, chunksize=1))
        wall = time.perf_counter() - started
    return {
        "pages": len(items),
        "wall_s": wall,
        "pages_per_s": len(items) / wall,
        "cpu_per_page_s": sum(costs) / len(items),
    }


def measure(scale: str = "quick", profile: Path | None = None) -> dict[str, Any]:
    outlets, articles = SCALES[scale]
    try:
        pages = ingest_pages(outlets, articles)
    except MissingPages as exc:
        return {"skipped": str(exc)}
    cores = os.cpu_count() or 1
    limit = measure_limit(pages, cores)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-ingest-") as tmp:
        config = Path(tmp) / "config.yaml"
        args = ["ingest", "--outlets", str(outlets), "--articles", str(articles), "--config", str(config)]
        with SimulatorProcess(*args) as sim:
            sim.stats()
            run = run_probe(config, profile)
            served = sim.stats()
    tree = run["self_cpu_s"] + run["children_cpu_s"]
    rate = run["new"] / run["wall_s"]
    return {
        "scale": scale,
        "outlets": outlets,
        "articles": outlets * articles,
        "cores": cores,
        "limit": limit,
        "run": run,
        "served": served,
        "ingest_per_s": rate,
        "rate_ratio": rate / limit["pages_per_s"],
        "extract_share": run["extract_cpu_s"] / tree if tree else 0.0,
        "tree_cpu_s": tree,
    }


def main() -> None:
    scale = os.environ.get("BENCH_SCALE", "quick")
    profile = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(measure(scale, profile), indent=2))


if __name__ == "__main__":
    main()
