"""End-to-end ingest (issue 8, item 1): new articles from feed poll to committed row, against the limit.

    .venv/bin/python benchmarks/ingest.py                  # quick: 400 articles across 20 outlets
    BENCH_SCALE=full .venv/bin/python benchmarks/ingest.py # 2,000 articles across 100 outlets

The ingest is monitor's real ``run_once`` (``benchmarks/probe.py``, its own process) on a fresh archive,
against the simulator (another process) serving one outlet per host on 127.0.0.x. The limit is the same
page bytes through ``monitor.extract.extract_article`` on a process pool of one worker per core, warmed up,
no HTTP and no SQLite, measured while the simulator is not running.

The limit times ``extract_article(..., decided=False)``, the call the pipeline's workers make (D69).
Extraction share = CPU inside ``extract_article`` (summed in the pool workers) / CPU of the whole monitor
process tree during ``run_once`` (the main process plus the forkserver and its workers, from
``RUSAGE_CHILDREN`` after they are reaped). Worker start-up (importing trafilatura) is *not* extraction.

The anchor (issue 14): ``trafilatura.bare_extraction(html, url=url, with_metadata=True,
include_comments=False)`` over the SAME page bytes, in one process (this one, before the simulator starts),
after a warm-up pass over a few pages, timed in CPU (``process_time``). What a user chaining feedparser,
httpx and trafilatura by hand would pay per page for extraction alone. Compared with monitor's ingest in
pages per CPU-second of its whole process tree (main process + forkserver + pool workers, during
``run_once``; target >= 1.0x).
"""

from __future__ import annotations

import gc
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
TARGET_RATE = 0.7
TARGET_ANCHOR = 1.0  # ingest pages per CPU-second of the tree / trafilatura with metadata's (issue 14)
ANCHOR_WARMUP = 5
_NOW = datetime.now(UTC)


def _warm(page: bytes) -> None:
    from monitor.extract import extract_article

    extract_article(page, url="http://127.0.0.2/warm-up", now=_NOW)


def _extract(item: tuple[str, bytes]) -> float:
    from monitor.extract import extract_article

    started = time.process_time()
    # the call the pipeline's pool workers make: the page-only decision is left to build_article (D69)
    extract_article(item[1], url=item[0], now=_NOW, decided=False)
    return time.process_time() - started


def measure_limit(pages: dict[tuple[int, int], bytes], workers: int) -> dict[str, float]:
    """Pages/s of ``extract_article`` over these pages on ``workers`` processes, after a warm-up."""
    items = [(_page_url(o, i), page) for (o, i), page in pages.items()]
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


def _page_url(outlet: int, index: int) -> str:
    return f"http://127.0.0.{outlet + 1}/news/{outlet}/{index}-story.html"


def measure_anchor(pages: dict[tuple[int, int], bytes]) -> dict[str, float]:
    """trafilatura with metadata over these page bytes, one process, CPU time, after a warm-up pass."""
    import trafilatura

    items = [(_page_url(o, i), page) for (o, i), page in pages.items()]

    def run(url: str, page: bytes) -> bool:
        document = trafilatura.bare_extraction(page, url=url, with_metadata=True, include_comments=False)
        return document is not None and bool(getattr(document, "text", None))

    for url, page in items[:ANCHOR_WARMUP]:
        run(url, page)
    gc.collect()
    empty = 0
    started, wall_started = time.process_time(), time.perf_counter()
    for url, page in items:
        empty += not run(url, page)
    cpu = time.process_time() - started
    return {
        "pages": len(items),
        "cpu_s": cpu,
        "wall_s": time.perf_counter() - wall_started,
        "pages_per_cpu_s": len(items) / cpu,
        "empty": empty,
    }


def measure(scale: str = "quick", profile: Path | None = None) -> dict[str, Any]:
    outlets, articles = SCALES[scale]
    try:
        pages = ingest_pages(outlets, articles)
    except MissingPages as exc:
        return {"skipped": str(exc)}
    cores = os.cpu_count() or 1
    limit = measure_limit(pages, cores)
    anchor = measure_anchor(pages)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-ingest-") as tmp:
        config = Path(tmp) / "config.yaml"
        args = ["ingest", "--outlets", str(outlets), "--articles", str(articles), "--config", str(config)]
        with SimulatorProcess(*args) as sim:
            sim.stats()
            run = run_probe(config, profile)
            served = sim.stats()
    tree = run["self_cpu_s"] + run["children_cpu_s"]
    rate = run["new"] / run["wall_s"]
    per_cpu_s = run["new"] / tree if tree else 0.0
    return {
        "scale": scale,
        "outlets": outlets,
        "articles": outlets * articles,
        "cores": cores,
        "limit": limit,
        "anchor": anchor,
        "run": run,
        "served": served,
        "ingest_per_s": rate,
        "rate_ratio": rate / limit["pages_per_s"],
        "extract_share": run["extract_cpu_s"] / tree if tree else 0.0,
        "tree_cpu_s": tree,
        # the whole tree's CPU per article, split: main process; workers inside extract_article; the
        # workers' and fork server's rest (start-up imports, feed parsing, pickling pages and results)
        "ingest_per_cpu_s": per_cpu_s,
        "anchor_ratio": per_cpu_s / anchor["pages_per_cpu_s"],
        "main_ms_per_article": 1000 * run["self_cpu_s"] / max(run["new"], 1),
        "extract_ms_per_article": 1000 * run["extract_cpu_s"] / max(run["new"], 1),
        "workers_rest_ms_per_article": 1000
        * (run["children_cpu_s"] - run["extract_cpu_s"])
        / max(run["new"], 1),
        "commit_ms_per_article": 1000 * run["commit_cpu_s"] / max(run["new"], 1),
    }


def describe(result: dict[str, Any]) -> str:
    """The ingest's figures, each labelled with what was timed on which pages."""
    if "skipped" in result:
        return f"ingest: {result['skipped']}; skipped"
    run, anchor, n = result["run"], result["anchor"], result["articles"]
    pages = f"the {n} simulator pages ({result['outlets']} outlets; real shared markup, re-filled text)"
    verdict = "met" if result["anchor_ratio"] >= TARGET_ANCHOR else "MISSED"
    return "\n".join(
        [
            f"ingest, run_once over HTTP into a fresh archive, {pages}: {run['new']} new articles,",
            f"  whole process tree {result['tree_cpu_s']:.1f} s CPU = "
            f"{result['ingest_per_cpu_s']:.2f} pages/CPU-s",
            f"  per article: main process {result['main_ms_per_article']:.1f} ms (commit_poll "
            f"{result['commit_ms_per_article']:.1f}), workers in extract_article "
            f"{result['extract_ms_per_article']:.1f} ms, workers' and fork server's rest "
            f"{result['workers_rest_ms_per_article']:.1f} ms",
            "anchor, trafilatura.bare_extraction(with_metadata=True, include_comments=False) on the same "
            f"{n} page bytes, 1 process, warmed: {anchor['pages_per_cpu_s']:.2f} pages/CPU-s "
            f"({anchor['empty']} without text)",
            f"ratio, ingest / anchor, pages per CPU-second: {result['anchor_ratio']:.2f}x "
            f"(target >= {TARGET_ANCHOR}x {verdict})",
            f"share of the ingest tree's CPU inside extract_article: {result['extract_share']:.2f}",
            f"extract_article alone on the same pages (the workers' call, decided=False; {result['cores']} "
            "processes, warmed): "
            f"{1 / result['limit']['cpu_per_page_s']:.2f} pages/CPU-s, "
            f"{result['limit']['pages_per_s']:.2f} pages/s all-core; ingest {result['ingest_per_s']:.2f} "
            f"art/s wall ({result['rate_ratio']:.2f}x)",
        ]
    )


def main() -> None:
    scale = os.environ.get("BENCH_SCALE", "quick")
    profile = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    result = measure(scale, profile)
    print(json.dumps(result, indent=2))
    print(describe(result), file=sys.stderr)


if __name__ == "__main__":
    main()
