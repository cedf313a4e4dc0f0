"""Extraction benchmark: monitor's per-page call (``extract_article``: body and metadata, what the pipeline
runs for every page) against trafilatura, body only and with metadata, on the shared pages, in one run.
``monitor-body`` (``extract_body`` alone) is shown as a breakdown, never as the whole.

Reads the pages from ../shared/benchmarks/extraction (never copied into the repo) and scores with that
folder's evaluate.py. Prints one table (F1, P, R, empty outputs, pages/s, ratio to trafilatura), the
machine, and monitor's figures on the two halves of the set (even/odd position by sorted id) that the rules
were tuned and checked on. Exits 0 with "skipped" when the data is not there.

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
from typing import Any

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


def timed_pass(extract: Extractor, pages: list[dict[str, Any]]) -> tuple[list[str], float]:
    """One single-process pass: the outputs (a crash counts as empty) and the seconds spent in extract."""
    texts: list[str] = []
    total = 0.0
    for page in pages:
        start = time.perf_counter()
        try:
            text = extract(page["html"], page["url"])
        except Exception:  # scored as an empty output, as evaluate.py does
            text = ""
        total += time.perf_counter() - start
        texts.append(text if isinstance(text, str) else "")
    return texts, total


def score(evaluate: Any, pages: list[dict[str, Any]], texts: list[str]) -> dict[str, float]:
    rows = [evaluate.match(page["truth"], text) for page, text in zip(pages, texts, strict=True)]
    summary: dict[str, float] = evaluate.aggregate(rows)
    summary["empty"] = sum(1 for text in texts if not evaluate.words(text))
    return summary


TARGET_SPEED, TARGET_F1 = 0.7, 0.975


def measure(repeat: int = 3, limit: int | None = None) -> dict[str, Any]:
    """Both extractors over the shared pages in one process, passes interleaved: pages/s (median pass),
    CPU-time pages/s, and the scores. ``{"skipped": ...}`` without the data."""
    if not (DATA / "evaluate.py").is_file() or not (DATA / "ground-truth.json").is_file():
        return {"skipped": f"extraction benchmark: data not found at {DATA}"}
    sys.path.insert(0, str(DATA))
    import evaluate  # the shared scorer, imported from the data folder

    warnings.filterwarnings("ignore")  # trafilatura and lxml warn about broken pages
    pages = evaluate.load_pages(DATA, limit)
    # Interleave the passes (monitor, trafilatura, monitor, ...) so drift in machine load hits both alike.
    extractors = {name: make() for name, make in EXTRACTORS.items()}
    for extract in extractors.values():  # warm-up, untimed, every page: imports, models, per-locale caches
        timed_pass(extract, pages)
    outputs: dict[str, list[str]] = {}
    seconds: dict[str, list[float]] = {name: [] for name in extractors}
    cpu: dict[str, float] = dict.fromkeys(extractors, 0.0)
    for _ in range(max(1, repeat)):
        for name, extract in extractors.items():
            started = time.process_time()
            texts, spent = timed_pass(extract, pages)
            cpu[name] += time.process_time() - started
            outputs.setdefault(name, texts)
            seconds[name].append(spent)
    result: dict[str, Any] = {"pages": len(pages), "evaluate": evaluate, "page_list": pages}
    for name, texts in outputs.items():
        result[name] = {
            "pages_per_s": len(pages) / statistics.median(seconds[name]),
            "cpu_pages_per_s": len(pages) * max(1, repeat) / cpu[name],
            "texts": texts,
            **score(evaluate, pages, texts),
        }
    result["speed_ratio"] = result["monitor"]["pages_per_s"] / result["trafilatura"]["pages_per_s"]
    result["cpu_speed_ratio"] = (
        result["monitor"]["cpu_pages_per_s"] / result["trafilatura"]["cpu_pages_per_s"]
    )
    result["cpu_speed_ratio_metadata"] = (
        result["monitor"]["cpu_pages_per_s"] / result["traf+meta"]["cpu_pages_per_s"]
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
        "--repeat", type=int, default=3, help="timed passes per extractor (median; default 3)"
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
    print(f"{'extractor':<12} {'F1':>6} {'P':>6} {'R':>6} {'empty':>6} {'pages/s':>8} {'x trafilatura':>14}")
    for name in EXTRACTORS:
        s = result[name]
        ratio = s["pages_per_s"] / result["trafilatura"]["pages_per_s"]
        print(
            f"{name:<12} {s['f1']:>6.3f} {s['precision']:>6.3f} {s['recall']:>6.3f} {int(s['empty']):>6}"
            f" {s['pages_per_s']:>8.1f} {ratio:>14.2f}"
        )
    print(
        "(monitor: extract_article, the pipeline's per-page call; monitor-body: extract_body alone, a part;"
        " traf+meta: trafilatura.bare_extraction with metadata; pages/s: single process, median of the timed"
        f" passes; in CPU time monitor is {result['cpu_speed_ratio']:.2f}x trafilatura and"
        f" {result['cpu_speed_ratio_metadata']:.2f}x trafilatura with metadata)"
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
