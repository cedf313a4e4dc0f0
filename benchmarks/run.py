"""Every issue-8 benchmark in one run, printed as one table of ratios measured in that run.

    .venv/bin/python benchmarks/run.py                   # quick (a few minutes; the first run also builds
                                                         # the 100k archive cache)
    BENCH_SCALE=full .venv/bin/python benchmarks/run.py  # 2,000 articles / 100 outlets, 10,000 sources, 1M
    .venv/bin/python benchmarks/run.py --json out.json   # also keep every raw figure

Each ratio's two sides come from the same run on the same machine (the anchors: all-core extraction for
ingest, a bare httpx client for idle polling, the 10k archive for archive growth, the same export writing no
row for export memory, trafilatura alone for extraction speed). These are measurements, not timed tests:
nothing fails when the machine is busy, but wall-clock ratios are only as quiet as the machine (the load
average is printed before and after; compare runs with similar load).
See ``benchmarks/PERFORMANCE.md`` for what each figure means and where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import archive
import export
import extraction
import feeds
import idle
import ingest
from machine import cpu_model


def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "MISSED")


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Rows of (measure, figure, anchor, ratio, target + verdict)."""
    rows: list[tuple[str, str, str, str, str]] = []
    ing = results["ingest"]
    if "skipped" in ing:
        rows.append(("ingest", ing["skipped"], "", "", "skipped"))
    else:
        run, limit = ing["run"], ing["limit"]
        rows.append(
            (
                f"ingest rate ({ing['articles']} articles, {ing['outlets']} outlets)",
                f"{ing['ingest_per_s']:.2f} art/s",
                f"{limit['pages_per_s']:.2f} pages/s all-core extract",
                f"{ing['rate_ratio']:.2f}x",
                f">= {ingest.TARGET_RATE}x {_verdict(ing['rate_ratio'] >= ingest.TARGET_RATE)}",
            )
        )
        anchor = ing["anchor"]
        rows.append(
            (
                f"ingest pages per CPU-s, whole tree ({ing['articles']} simulator pages)",
                f"{ing['ingest_per_cpu_s']:.2f} pages/CPU-s",
                f"{anchor['pages_per_cpu_s']:.2f} trafilatura+metadata, same bytes, 1 proc",
                f"{ing['anchor_ratio']:.2f}x",
                f">= {ingest.TARGET_ANCHOR}x {_verdict(ing['anchor_ratio'] >= ingest.TARGET_ANCHOR)}",
            )
        )
        rows.append(
            (
                "ingest CPU per article: main / extract / rest",
                f"{ing['main_ms_per_article']:.1f} / {ing['extract_ms_per_article']:.1f} / "
                f"{ing['workers_rest_ms_per_article']:.1f} ms",
                "main process / workers in extract_article / workers' and fork server's rest",
                "",
                "-",
            )
        )
        rows.append(
            (
                "ingest CPU in extraction",
                f"{run['extract_cpu_s']:.1f} s",
                f"{ing['tree_cpu_s']:.1f} s process tree",
                f"{ing['extract_share']:.2f}",
                "- (reported; falls as extract_article gets cheaper)",
            )
        )
        rows.append(
            (
                "ingest CPU in feed parsing",
                f"{run['parse_cpu_s']:.2f} s",
                f"{ing['tree_cpu_s']:.1f} s process tree",
                f"{run['parse_cpu_s'] / ing['tree_cpu_s']:.3f}",
                "-",
            )
        )
        rows.append(
            (
                "ingest CPU in commit_poll (writer)",
                f"{run['commit_cpu_s']:.2f} s",
                f"{ing['tree_cpu_s']:.1f} s process tree",
                f"{run['commit_cpu_s'] / ing['tree_cpu_s']:.3f}",
                "-",
            )
        )
    idl = results["idle"]
    rows.append(
        (
            f"idle poll CPU ({idl['sources']} sources, 304)",
            f"{idl['cpu_per_poll_s'] * 1000:.2f} ms/poll",
            f"{idl['bare_cpu_per_request_s'] * 1000:.2f} ms/req bare httpx",
            f"{idl['cpu_ratio']:.2f}x",
            f"<= {idle.TARGET_CPU_RATIO}x {_verdict(idl['cpu_ratio'] <= idle.TARGET_CPU_RATIO)}",
        )
    )
    rows.append(
        (
            "idle polls per second",
            f"{idl['polls_per_s']:.0f} polls/s",
            f"{idl['bare_requests_per_s']:.0f} req/s bare httpx",
            f"{idl['polls_per_s'] / idl['bare_requests_per_s']:.2f}x",
            "-",
        )
    )
    rss = idl["second"]["max_rss_mb"]
    rows.append(
        (
            f"peak RSS, poll round of {idl['sources']} sources",
            f"{rss:.0f} MB",
            "",
            "",
            f"< 300 MB {_verdict(rss < 300)}",
        )
    )
    rows.append(
        (
            "poll CPU in feed parsing (changed feeds)",
            f"{idl['first']['parse_cpu_s']:.2f} s",
            f"{idl['first']['self_cpu_s']:.1f} s first idle run",
            f"{idl['first_parse_share']:.3f}",
            "-",
        )
    )
    fd = results["feeds"]
    for name, rate in fd["feeds_per_s"].items():
        rows.append(
            (f"parse_feed {name} ({fd['bytes'][name] // 1024} KiB)", f"{rate:.1f} feeds/s", "", "", "-")
        )
    bh = fd["body_hash"]
    rows.append(
        (
            "unchanged body (no validators) parsed again",
            f"{bh['second_parses']} of {bh['feeds']}",
            f"{bh['first_parses']} parsed on first poll",
            "",
            f"0 {_verdict(bh['second_parses'] == 0)}",
        )
    )
    arc = results["archive"]
    if "skipped" in arc:
        rows.append(("archive", arc["skipped"], "", "", "skipped"))
    else:
        first = arc["sizes"][0]
        for size in arc["sizes"]:
            n = f"{size['articles'] // 1000}k"
            ratio = size["insert_wall_ms"] / first["insert_wall_ms"]
            last = size is arc["sizes"][-1]
            rows.append(
                (
                    f"archive insert at {n} (commit_poll, 20/poll)",
                    f"{size['insert_wall_ms']:.2f} ms/article",
                    f"{first['insert_wall_ms']:.2f} ms at 10k",
                    f"{ratio:.2f}x",
                    f"<= {archive.TARGET_INSERT_RATIO}x {_verdict(ratio <= archive.TARGET_INSERT_RATIO)}"
                    if last and size is not first
                    else "-",
                )
            )
            rows.append(
                (f"archive known_entries at {n} (20 entries)", f"{size['lookup_ms_p50']:.2f} ms", "", "", "-")
            )
            p50, p95 = size["search_ms"]
            f50, f95 = size["search_filtered_ms"]
            ok = p95 < archive.TARGET_P95_S * 1000 and f95 < archive.TARGET_P95_S * 1000
            rows.append(
                (
                    f"archive FTS at {n}: p50/p95, filtered p50/p95",
                    f"{p50:.1f}/{p95:.1f} ms, {f50:.1f}/{f95:.1f} ms",
                    f"{size['search_hits_median']:.0f} hits median",
                    "",
                    f"p95 < 100 ms {_verdict(ok)}",
                )
            )
            rows.append(
                (
                    f"archive size at {n}",
                    f"{size['bytes_per_article'] / 1024:.1f} KiB/article",
                    f"+{arc['raw_bytes_per_article'] / 1024:.1f} KiB raw page",
                    "",
                    "-",
                )
            )
    rows.extend(_export_rows(results["export"]))
    rows.extend(_extraction_rows(results.get("extraction")))
    return rows


def _export_rows(exp: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    if "skipped" in exp:
        return [("export", exp["skipped"], "", "", "skipped")]
    rows: list[tuple[str, str, str, str, str]] = []
    first, last = exp["sizes"][0], exp["sizes"][-1]
    small = export.short_size(first["articles"])
    target = exp["target_above_idle_mb"]
    for size in exp["sizes"]:
        n = export.short_size(size["articles"])
        for fmt, run in size["formats"].items():
            ok = run["above_idle_mb"] < target
            rows.append(
                (
                    f"export peak RSS above idle ({n} articles, {fmt})",
                    f"{run['above_idle_mb']:+.1f} MB",
                    f"{run['idle_mb']:.0f} MB idle (same command, 0 rows)",
                    "",
                    f"< {target:.0f} MB {_verdict(ok)}"
                    if run["rows_ok"]
                    else f"MISSED: {run['rows']:,} rows of {size['archive_rows']:,}",
                )
            )
            if size is not first:
                rows.append(
                    (
                        f"export peak RSS {n} vs {small} ({fmt})",
                        f"{run['peak_mb']:.1f} MB",
                        f"{first['formats'][fmt]['peak_mb']:.1f} MB at {small}",
                        f"{run['ratio_to_first']:.2f}x",
                        "-",
                    )
                )
    for fmt, run in last["formats"].items():
        rows.append(
            (
                f"export rate at {export.short_size(last['articles'])} ({fmt}, process start included)",
                f"{run['rows_per_s']:,.0f} rows/s",
                f"{run['rows']:,} rows in {run['wall_s']:.1f} s",
                "",
                "-",
            )
        )
    return rows


def _extraction_rows(ext: dict[str, Any] | None) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
    if ext is not None and "skipped" in ext:
        rows.append(("extraction", ext["skipped"], "", "", "skipped"))
    elif ext is not None:
        mon, tra = ext["monitor"], ext["trafilatura"]
        rows.append(
            (
                f"extract_article speed ({ext['pages']} shared pages, 1 process)",
                f"{mon['pages_per_s']:.1f} pages/s",
                f"{tra['pages_per_s']:.1f} pages/s trafilatura",
                f"{ext['speed_ratio']:.2f}x",
                f">= {extraction.TARGET_SPEED}x {_verdict(ext['speed_ratio'] >= extraction.TARGET_SPEED)}",
            )
        )
        rows.append(
            (
                "extraction speed in CPU time",
                f"{mon['cpu_pages_per_s']:.1f} pages/s",
                f"{tra['cpu_pages_per_s']:.1f} pages/s trafilatura",
                f"{ext['cpu_speed_ratio']:.2f}x",
                "-",
            )
        )
        rows.append(
            (
                "extract_article vs trafilatura with metadata, CPU",
                f"{mon['cpu_pages_per_s']:.1f} pages/s",
                f"{ext['traf+meta']['cpu_pages_per_s']:.1f} pages/s trafilatura+metadata",
                f"{ext['cpu_speed_ratio_metadata']:.2f}x",
                "-",
            )
        )
        rows.append(
            (
                "extraction quality (issue 4)",
                f"F1 {mon['f1']:.3f}, P {mon['precision']:.3f}, {int(mon['empty'])} empty",
                f"F1 {tra['f1']:.3f}, {int(tra['empty'])} empty trafilatura",
                "",
                f">= {extraction.TARGET_F1} {_verdict(mon['f1'] >= extraction.TARGET_F1)}",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=None, help="write every raw figure here")
    args = parser.parse_args()
    scale = os.environ.get("BENCH_SCALE", "quick")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    load_before = _load()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name, step in (
        ("feeds", lambda: feeds.measure(scale)),
        ("ingest", lambda: ingest.measure(scale)),
        ("idle", lambda: idle.measure(scale)),
        ("archive", lambda: archive.measure(scale, log)),
        ("export", lambda: export.measure(scale, log)),
        ("extraction", lambda: extraction.summary(extraction.measure(repeat=3 if scale == "full" else 1))),
    ):
        log(f"bench: {name} ({scale}) ...")
        step_started = time.perf_counter()
        results[name] = step()
        log(f"bench: {name} done in {time.perf_counter() - step_started:.0f}s")
    elapsed = time.perf_counter() - started
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")

    print(
        f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}; "
        f"scale {scale}; load average {load_before} before, {_load()} after; {elapsed:.0f}s"
    )
    rows = [("measure", "figure", "anchor (same run)", "ratio", "target"), *table(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
