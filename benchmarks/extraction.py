"""Extraction benchmark: monitor's per-page call (``extract_article``: body and metadata, what the pipeline
runs for every page) against trafilatura, body only and with metadata, on the shared pages, in one run.
``monitor-body`` (``extract_body`` alone) is shown as a breakdown, never as the whole.

Reads the pages from ../shared/benchmarks/extraction (never copied into the repo) and scores with that
folder's evaluate.py. The four are timed in one process, interleaved page by page over every page (each
page: every extractor once, the order reversed from page to page and round to round), ``--repeat`` rounds
after an untimed warm-up round; CPU time (``time.process_time``) per call, the median of each extractor's
round totals. Prints one table (F1, P, R, empty outputs, pages per CPU-second, ratios to trafilatura and to
trafilatura with metadata), the per-page call's ratio to trafilatura with metadata with its spread over the
rounds, the machine, and the figures on the two halves of the set (even/odd position by sorted id) that the
rules were tuned and checked on. Exits 0 with "skipped" when the data is not there.

    .venv/bin/python benchmarks/extraction.py [--repeat N] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from machine import cpu_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "extraction"
Extractor = Callable[[str, str], str]


def _monitor() -> Extractor:
    """The pipeline's per-page call: one parse, metadata, body, dates, language, attribution."""
    from datetime import UTC, datetime

    from monitor.extract.article import extract_article

    now = datetime(2026, 11, 29, tzinfo=UTC)
    return lambda html, url: extract_article(html, url=url, now=now).text


def _monitor_body() -> Extractor:
    """A breakdown: the body extraction alone (not what the pipeline calls)."""
    from monitor.extract.body import extract_body

    return lambda html, url: extract_body(html, url=url)


def _trafilatura() -> Extractor:
    import trafilatura

    return lambda html, url: trafilatura.extract(html, include_comments=False) or ""


def _trafilatura_metadata() -> Extractor:
    """trafilatura doing what monitor's per-page call does: body and metadata."""
    import trafilatura

    def run(html: str, url: str) -> str:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
        return str(getattr(document, "text", None) or "") if document is not None else ""

    return run


EXTRACTORS: dict[str, Callable[[], Extractor]] = {
    "monitor": _monitor,
    "monitor-body": _monitor_body,
    "trafilatura": _trafilatura,
    "traf+meta": _trafilatura_metadata,
}


class Timings(NamedTuple):
    """What :func:`interleaved` measured."""

    outputs: dict[str, list[Any]]
    """Each extractor's output on each page, from the first timed round (an exception stands as output)."""
    cpu: dict[str, list[list[float]]]
    """CPU seconds of each call: per extractor, per round, per page."""
    wall: dict[str, list[float]]
    """Wall-clock seconds of each extractor's calls, per round."""


def interleaved(extractors: dict[str, Callable[[Any], Any]], pages: list[Any], rounds: int = 3) -> Timings:
    """Time the extractors page by page in one process: on each page every extractor runs once, in an
    order reversed from one page to the next and from one round to the next, so that the load of the
    machine's other work (two shared cores) falls on all of them alike; timed separately, pass after pass,
    their ratio moved by +-0.08. One untimed round first, over every page: imports, models and per-locale
    caches (dateparser's, which htmldate loads on first use: ~1.6 s) are a long-lived worker's once, not a
    page's. CPU time is ``time.process_time`` around each call."""
    names = list(extractors)
    outputs: dict[str, list[Any]] = {name: [] for name in names}
    cpu: dict[str, list[list[float]]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(max(1, rounds) + 1):
        timed = round_index > 0
        if timed:
            for name in names:
                cpu[name].append([])
                wall[name].append(0.0)
        for page_index, page in enumerate(pages):
            order = names if (round_index + page_index) % 2 == 0 else names[::-1]
            for name in order:
                started_wall, started = time.perf_counter(), time.process_time()
                try:
                    output = extractors[name](page)
                except Exception as exc:  # scored as the scorer scores a crash
                    output = exc
                spent, spent_wall = time.process_time() - started, time.perf_counter() - started_wall
                if timed:
                    cpu[name][-1].append(spent)
                    wall[name][-1] += spent_wall
                if round_index == 1:
                    outputs[name].append(output)
    return Timings(outputs, cpu, wall)


def round_totals(seconds: list[list[float]], indexes: list[int] | None = None) -> list[float]:
    """Per round, the seconds spent on the pages at ``indexes`` (all pages by default)."""
    if indexes is None:
        return [sum(per_page) for per_page in seconds]
    return [sum(per_page[i] for i in indexes) for per_page in seconds]


def cpu_ratio(
    timings: Timings, name: str, anchor: str, indexes: list[int] | None = None
) -> tuple[float, float, float]:
    """``name``'s pages per CPU-second as a multiple of ``anchor``'s: the median over the rounds of each
    one's round total, and the lowest and highest ratio of a single round (the spread)."""
    mine, theirs = round_totals(timings.cpu[name], indexes), round_totals(timings.cpu[anchor], indexes)
    per_round = [t / m for m, t in zip(mine, theirs, strict=True)]
    return statistics.median(theirs) / statistics.median(mine), min(per_round), max(per_round)


def _on_page(extract: Extractor) -> Callable[[dict[str, Any]], str]:
    return lambda page: extract(page["html"], page["url"])


def score(evaluate: Any, pages: list[dict[str, Any]], texts: list[str]) -> dict[str, float]:
    rows = [evaluate.match(page["truth"], text) for page, text in zip(pages, texts, strict=True)]
    summary: dict[str, float] = evaluate.aggregate(rows)
    summary["empty"] = sum(1 for text in texts if not evaluate.words(text))
    return summary


TARGET_SPEED, TARGET_F1 = 0.7, 0.975


def measure(repeat: int = 3, limit: int | None = None) -> dict[str, Any]:
    """The four extractors over the shared pages, interleaved page by page (:func:`interleaved`, ``repeat``
    timed rounds): pages/s (wall, median round), pages per CPU-second (median round), the ratios in CPU
    time with their spread over the rounds, and the scores. ``{"skipped": ...}`` without the data."""
    if not (DATA / "evaluate.py").is_file() or not (DATA / "ground-truth.json").is_file():
        return {"skipped": f"extraction benchmark: data not found at {DATA}"}
    sys.path.insert(0, str(DATA))
    import evaluate  # the shared scorer, imported from the data folder

    warnings.filterwarnings("ignore")  # trafilatura and lxml warn about broken pages
    pages = evaluate.load_pages(DATA, limit)
    extractors = {name: _on_page(make()) for name, make in EXTRACTORS.items()}
    timings = interleaved(extractors, pages, repeat)
    result: dict[str, Any] = {"pages": len(pages), "rounds": max(1, repeat), "evaluate": evaluate}
    result["page_list"] = pages
    for name in EXTRACTORS:
        texts = [text if isinstance(text, str) else "" for text in timings.outputs[name]]
        result[name] = {
            "pages_per_s": len(pages) / statistics.median(timings.wall[name]),
            "cpu_pages_per_s": len(pages) / statistics.median(round_totals(timings.cpu[name])),
            "texts": texts,
            **score(evaluate, pages, texts),
        }
    result["speed_ratio"] = result["monitor"]["pages_per_s"] / result["trafilatura"]["pages_per_s"]
    result["cpu_speed_ratio"], *result["cpu_speed_ratio_spread"] = cpu_ratio(
        timings, "monitor", "trafilatura"
    )
    result["cpu_speed_ratio_metadata"], *result["cpu_speed_ratio_metadata_spread"] = cpu_ratio(
        timings, "monitor", "traf+meta"
    )
    return result


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """``measure``'s result without the pages and texts (JSON-ready)."""
    if "skipped" in result:
        return result
    plain = {k: v for k, v in result.items() if k not in ("evaluate", "page_list")}
    for name in EXTRACTORS:
        plain[name] = {k: v for k, v in result[name].items() if k != "texts"}
    return plain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed rounds over the pages (median; default 3)"
    )
    parser.add_argument("--limit", type=int, help="only the first N pages (smoke test)")
    args = parser.parse_args(argv)

    result = measure(args.repeat, args.limit)
    if "skipped" in result:
        print(f"{result['skipped']}; skipped")
        return 0
    evaluate, pages = result["evaluate"], result["page_list"]
    outputs = {name: result[name]["texts"] for name in EXTRACTORS}
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"pages: {len(pages)} from {DATA}")
    print()
    print(
        f"{'extractor':<12} {'F1':>6} {'P':>6} {'R':>6} {'empty':>6} {'pages/CPU-s':>12}"
        f" {'x trafilatura':>14} {'x traf+meta':>12}"
    )
    for name in EXTRACTORS:
        s = result[name]
        ratio = s["cpu_pages_per_s"] / result["trafilatura"]["cpu_pages_per_s"]
        ratio_metadata = s["cpu_pages_per_s"] / result["traf+meta"]["cpu_pages_per_s"]
        print(
            f"{name:<12} {s['f1']:>6.3f} {s['precision']:>6.3f} {s['recall']:>6.3f} {int(s['empty']):>6}"
            f" {s['cpu_pages_per_s']:>12.1f} {ratio:>14.2f} {ratio_metadata:>12.2f}"
        )
    low, high = result["cpu_speed_ratio_metadata_spread"]
    print(
        "(monitor: extract_article, the pipeline's per-page call (one parse, metadata with its one decision,"
        " body, dates, language, attribution; no feed evidence); monitor-body: extract_body alone, a part;"
        " traf+meta: trafilatura.bare_extraction with metadata. Timed in one process, the four interleaved"
        f" page by page over all {result['pages']} pages, {result['rounds']} round(s) after an untimed one;"
        " pages/CPU-s: time.process_time, the median round's total.)"
    )
    print(
        f"per-page call x trafilatura with metadata, CPU: {result['cpu_speed_ratio_metadata']:.2f}x"
        f" (rounds {low:.2f}-{high:.2f}); wall clock x trafilatura: {result['speed_ratio']:.2f}x"
    )
    print()
    print("halves by sorted id (rules tuned on 'even', 'odd' held out):")
    for name, texts in outputs.items():
        for half, parity in (("even", 0), ("odd", 1)):
            indexes = [i for i in range(len(pages)) if i % 2 == parity]
            s = score(evaluate, [pages[i] for i in indexes], [texts[i] for i in indexes])
            print(
                f"  {name:<12} {half:<5} n={len(indexes):<4} F1={s['f1']:.3f} P={s['precision']:.3f}"
                f" R={s['recall']:.3f} empty={int(s['empty'])}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
