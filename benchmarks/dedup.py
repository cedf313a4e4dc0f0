"""Near-duplicate benchmark (issue 5, items 6 and 7): the detector's precision and recall, and the cost of a
duplicate lookup as the archive grows.

    .venv/bin/python benchmarks/dedup.py                     # quick: both P/R tables, lookups at 10k and 100k
    BENCH_SCALE=full .venv/bin/python benchmarks/dedup.py    # adds the 1M point (built once, then cached)

(a) Precision/recall of the pipeline's rule (a shared band key makes a candidate, and a candidate is a copy
when ``duplicate_score >= threshold``) on ``tests/data/dedup/pairs.json`` for thresholds 0.30..0.90, with
the LSH candidate rate on its own line (the ceiling of recall), and the same on pairs made at run time with
the same transformations from the article bodies of ``../shared/benchmarks/extraction/ground-truth.json``
(never copied into the repo; skipped when the folder is missing).

(b) Lookup cost: archives of synthetic articles are written to real SQLite files (the archive's
``article_bands`` schema, plus a ``texts`` table) in ``~/.cache/monitor-bench`` (or ``$MONITOR_BENCH_CACHE``),
built once and reused. A lookup is what the pipeline does for a new article: ``band_keys`` of the text, the
candidate query, and ``duplicate_score`` against every candidate's text.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from machine import cpu_model

from monitor.dedup import (
    DUPLICATE_THRESHOLD,
    FINGERPRINT_VERSION,
    MIN_NEAR_WORDS,
    band_keys,
    duplicate_score,
    site_of,
    words,
)

REPO = Path(__file__).resolve().parents[1]
PAIR_DATA = REPO / "tests" / "data" / "dedup"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "extraction" / "ground-truth.json"
CACHE = Path(os.environ.get("MONITOR_BENCH_CACHE", Path.home() / ".cache" / "monitor-bench"))
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]
TARGET_PRECISION, TARGET_RECALL = 0.99, 0.95
SIZES = {"quick": [10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}
SCHEMA = """
CREATE TABLE article_bands (key INTEGER NOT NULL, article_id INTEGER NOT NULL, PRIMARY KEY (key, article_id))
    WITHOUT ROWID;
CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT);
CREATE TABLE bench_meta (name TEXT PRIMARY KEY, value TEXT);
"""
CANDIDATES_SQL = "SELECT DISTINCT article_id FROM article_bands WHERE key IN ({}) LIMIT 50"


def make_pairs_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_pairs", PAIR_DATA / "make_pairs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- (a) precision and recall --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judged:
    transform: str
    label: int
    candidate: bool
    score: float


def judge(pairs: list[dict[str, str | int]], texts: dict[str, str]) -> list[Judged]:
    keys: dict[str, frozenset[int]] = {}

    def resolve(side: str | int) -> str:
        text = texts.get(str(side), str(side))
        if text not in keys:
            keys[text] = frozenset(band_keys(text))
        return text

    judged = []
    for pair in pairs:
        a, b = resolve(pair["a"]), resolve(pair["b"])
        candidate = bool(keys[a] & keys[b])
        judged.append(Judged(str(pair["transform"]), int(pair["label"]), candidate, duplicate_score(a, b)))
    return judged


def precision_recall(judged: list[Judged], threshold: float) -> tuple[int, int, int, float, float]:
    hits = [j for j in judged if j.candidate and j.score >= threshold]
    tp = sum(j.label for j in hits)
    fp = len(hits) - tp
    fn = sum(j.label for j in judged) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return tp, fp, fn, precision, recall


def meets(judged: list[Judged], threshold: float) -> bool:
    _, _, _, precision, recall = precision_recall(judged, threshold)
    return precision >= TARGET_PRECISION and recall >= TARGET_RECALL


def print_pr_table(title: str, judged: list[Judged]) -> list[float]:
    """Print the table; return the thresholds that meet both targets."""
    positives = [j for j in judged if j.label]
    negatives = [j for j in judged if not j.label]
    pos_cand = sum(j.candidate for j in positives)
    neg_cand = sum(j.candidate for j in negatives)
    print(f"\n{title}: {len(judged)} pairs, {len(positives)} positive, {len(negatives)} negative")
    print(
        f"LSH candidates (shared band key): {pos_cand}/{len(positives)} positives "
        f"({pos_cand / len(positives):.3f}, the ceiling of recall), {neg_cand}/{len(negatives)} negatives"
    )
    print(f"{'threshold':>9} {'TP':>5} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    good = []
    for threshold in THRESHOLDS:
        tp, fp, fn, precision, recall = precision_recall(judged, threshold)
        ok = meets(judged, threshold)
        if ok:
            good.append(threshold)
        marks = (" ok" if ok else "   ") + (
            " <- DUPLICATE_THRESHOLD" if threshold == DUPLICATE_THRESHOLD else ""
        )
        print(f"{threshold:>9.2f} {tp:>5} {fp:>4} {fn:>4} {precision:>9.3f} {recall:>7.3f}{marks}")
    if DUPLICATE_THRESHOLD not in THRESHOLDS:
        tp, fp, fn, precision, recall = precision_recall(judged, DUPLICATE_THRESHOLD)
        row = f"{DUPLICATE_THRESHOLD:>9.2f} {tp:>5} {fp:>4} {fn:>4} {precision:>9.3f} {recall:>7.3f}"
        print(f"{row}    <- DUPLICATE_THRESHOLD")
    span = f"{good[0]:.2f}..{good[-1]:.2f}" if good else "none"
    print(f"meets P>={TARGET_PRECISION} and R>={TARGET_RECALL} (ok): {span}")
    return good


def print_by_transform(judged: list[Judged]) -> None:
    """Per transformation: candidates, score range, and how many are judged duplicates at the threshold."""
    print(f"by transformation, at DUPLICATE_THRESHOLD = {DUPLICATE_THRESHOLD}:")
    header = (
        f"{'transform':<28} {'label':>5} {'n':>4} {'cand':>4} {'min':>5} {'median':>6} {'max':>5} {'dup':>4}"
    )
    print(f"  {header}")
    kinds = sorted({j.transform for j in judged}, key=lambda k: (k.startswith("neg:"), k))
    for kind in kinds:
        rows = [j for j in judged if j.transform == kind]
        scores = [j.score for j in rows]
        dup = sum(j.candidate and j.score >= DUPLICATE_THRESHOLD for j in rows)
        flag = "  <-" if dup != (len(rows) if rows[0].label else 0) else ""
        print(
            f"  {kind:<28} {rows[0].label:>5} {len(rows):>4} {sum(j.candidate for j in rows):>4} "
            f"{min(scores):>5.2f} {statistics.median(scores):>6.2f} {max(scores):>5.2f} {dup:>4}{flag}"
        )


def shared_bodies() -> dict[str, dict[str, str]]:
    data = json.loads(SHARED.read_text(encoding="utf-8"))
    return {
        page_id: page
        for page_id, page in sorted(data.items())
        if len(words(page.get("articleBody") or "")) >= MIN_NEAR_WORDS
    }


def precision_recall_section(make_pairs: ModuleType) -> None:
    texts = json.loads((PAIR_DATA / "texts.json").read_text(encoding="utf-8"))
    pairs = json.loads((PAIR_DATA / "pairs.json").read_text(encoding="utf-8"))
    judged = judge(pairs, texts)
    good = print_pr_table("tests/data/dedup/pairs.json", judged)
    print_by_transform(judged)
    if not SHARED.exists():
        print(f"\nshared-derived pairs: {SHARED} not found, skipped")
        return
    pages = shared_bodies()
    bodies = {page_id: page["articleBody"] for page_id, page in pages.items()}
    shared_pairs = make_pairs.build_pairs(
        bodies, lambda page_id: site_of(pages[page_id]["url"]), lambda page_id: "en", seed=make_pairs.SEED
    )
    shared_judged = judge(shared_pairs, bodies)
    shared_good = print_pr_table(
        f"pairs made now from the {len(bodies)} shared article bodies (topic = site: the 'same_topic' "
        "negatives are other articles of the same site)",
        shared_judged,
    )
    print_by_transform(shared_judged)
    both = [t for t in good if t in shared_good]
    span = f"{both[0]:.2f}..{both[-1]:.2f}" if both else "none"
    print(
        f"\nthresholds meeting both targets on both sets: {span}; DUPLICATE_THRESHOLD = {DUPLICATE_THRESHOLD}"
    )


# -- (b) lookup cost -----------------------------------------------------------------------------------

_POOL: list[list[str]] = []
"""Sentences (as word lists) the synthetic articles are drawn from; set in each worker."""


def sentence_pool() -> tuple[str, list[list[str]]]:
    if SHARED.exists():
        source, bodies = "shared article bodies", [p["articleBody"] for p in shared_bodies().values()]
    else:
        source = "tests/data/dedup/texts.json"
        bodies = list(json.loads((PAIR_DATA / "texts.json").read_text(encoding="utf-8")).values())
    sentences = [s.split() for body in bodies for s in re.split(r"(?<=[.!?])\s+", body)]
    return source, [s for s in sentences if len(s) >= 6]


def _set_pool(pool: list[list[str]]) -> None:
    _POOL[:] = pool


def synthetic_text(article_id: int) -> str:
    """An article of 10-16 pool sentences in 3-4 paragraphs, each sentence's words shuffled.

    Shuffling keeps real word frequencies but gives each article its own shingles: with a pool of a few
    thousand sentences, a million articles would otherwise share each sentence verbatim a hundred times,
    which no archive of real unrelated articles does.
    """
    rng = random.Random(article_id)
    sentences = []
    for sentence in rng.sample(_POOL, rng.randint(10, 16)):
        shuffled = sentence[:]
        rng.shuffle(shuffled)
        sentences.append(" ".join(shuffled))
    cut = len(sentences) // 3
    return "\n\n".join(
        " ".join(part) for part in (sentences[:cut], sentences[cut : 2 * cut], sentences[2 * cut :])
    )


def _fingerprint(ids: range) -> list[tuple[int, str, tuple[int, ...]]]:
    out = []
    for article_id in ids:
        text = synthetic_text(article_id)
        out.append((article_id, text, band_keys(text)))
    return out


def _chunks(count: int, size: int) -> Iterator[range]:
    for start in range(1, count + 1, size):
        yield range(start, min(start + size, count + 1))


def archive(size: int, source: str, pool: list[list[str]], workers: int) -> tuple[Path, float | None]:
    """The SQLite file with ``size`` synthetic articles, built unless a complete one is cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"dedup-{size}.sqlite"
    meta = {
        "articles": str(size),
        "fingerprint_version": str(FINGERPRINT_VERSION),
        "pool": source,
        "layout": "2",
    }
    if path.exists():
        try:
            with sqlite3.connect(path) as db:
                if dict(db.execute("SELECT name, value FROM bench_meta").fetchall()) == meta:
                    return path, None
        except sqlite3.Error:
            pass
        path.unlink()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    start = time.perf_counter()
    db = sqlite3.connect(partial, isolation_level=None)
    db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;")
    db.executescript(SCHEMA)
    done = 0
    with multiprocessing.Pool(workers, initializer=_set_pool, initargs=(pool,)) as processes:
        batch: list[tuple[int, str, tuple[int, ...]]] = []
        for chunk in processes.imap(_fingerprint, _chunks(size, 2000)):
            batch.extend(chunk)
            if len(batch) >= 20_000 or chunk[-1][0] == size:
                db.execute("BEGIN")
                db.executemany("INSERT INTO texts (id, text) VALUES (?, ?)", [(i, t) for i, t, _ in batch])
                db.executemany(
                    "INSERT OR IGNORE INTO article_bands (key, article_id) VALUES (?, ?)",
                    sorted((key, i) for i, _, keys in batch for key in keys),
                )
                db.execute("COMMIT")
                done += len(batch)
                batch = []
                if size >= 100_000:
                    print(
                        f"  building {path.name}: {done:,}/{size:,} ({time.perf_counter() - start:.0f} s)",
                        flush=True,
                    )
    db.executemany("INSERT INTO bench_meta (name, value) VALUES (?, ?)", sorted(meta.items()))
    db.execute("ANALYZE")
    db.close()
    partial.rename(path)
    return path, time.perf_counter() - start


@dataclass(frozen=True, slots=True)
class Lookup:
    keys_s: float
    sql_s: float
    score_s: float
    candidates: int
    found: bool

    @property
    def total_s(self) -> float:
        return self.keys_s + self.sql_s + self.score_s


def lookup(db: sqlite3.Connection, text: str, original: int | None) -> Lookup:
    t0 = time.perf_counter()
    keys = band_keys(text)
    t1 = time.perf_counter()
    ids = (
        [row[0] for row in db.execute(CANDIDATES_SQL.format(",".join("?" * len(keys))), keys)] if keys else []
    )
    t2 = time.perf_counter()
    best: int | None = None
    best_score = 0.0
    for article_id in ids:
        (candidate_text,) = db.execute("SELECT text FROM texts WHERE id = ?", (article_id,)).fetchone()
        score = duplicate_score(text, candidate_text)
        if score >= DUPLICATE_THRESHOLD and score > best_score:
            best, best_score = article_id, score
    t3 = time.perf_counter()
    return Lookup(t1 - t0, t2 - t1, t3 - t2, len(ids), original is not None and best == original)


def queries(size: int, count: int, make_pairs: ModuleType) -> list[tuple[str, int | None]]:
    """Half republished copies of archived articles (credit line, boilerplate), half new articles."""
    rng = random.Random(size)
    out: list[tuple[str, int | None]] = []
    for n in range(count):
        if n % 2 == 0:
            original = rng.randint(1, size)
            copy = make_pairs.with_boilerplate(
                make_pairs.with_credit(synthetic_text(original), "en", rng), "en", rng
            )
            out.append((copy, original))
        else:
            out.append((synthetic_text(10**9 + n), None))
    return out


def lookup_section(scale: str, count: int, make_pairs: ModuleType) -> None:
    workers = os.cpu_count() or 1
    source, pool = sentence_pool()
    _set_pool(pool)
    print(f"\nlookup cost: synthetic articles from {len(pool):,} sentences of the {source}, scale {scale!r}")
    print(f"cache: {CACHE}")
    built_at = {size: archive(size, source, pool, workers) for size in SIZES[scale]}
    dbs, qs_of, measured_of = {}, {}, {}
    for size, (path, _) in built_at.items():
        dbs[size] = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dbs[size].execute("PRAGMA cache_size = -200000")
        qs_of[size] = queries(size, count, make_pairs)
        for text, original in qs_of[size]:  # warm-up: page cache and SQLite cache, as in a running daemon
            lookup(dbs[size], text, original)
        measured_of[size] = []
    # interleaved (query n at every size, then n + 1), so that the machine's load drifts alike for all sizes
    for n in range(count):
        for size, db in dbs.items():
            text, original = qs_of[size][n]
            measured_of[size].append(lookup(db, text, original))
    for db in dbs.values():
        db.close()
    rows = [(size, path, built, measured_of[size]) for size, (path, built) in built_at.items()]

    def medians(measured: list[Lookup], qs: list[tuple[str, int | None]]) -> tuple[float, float]:
        copies = [r.total_s for r, (_, original) in zip(measured, qs, strict=True) if original is not None]
        fresh = [r.total_s for r, (_, original) in zip(measured, qs, strict=True) if original is None]
        return statistics.median(copies), statistics.median(fresh)

    base_copy, base_new = medians(rows[0][3], queries(rows[0][0], count, make_pairs))
    print(
        f"{'articles':>10} {'file MB':>8} {'built s':>8} {'cand/q':>6} {'found':>6} {'keys ms':>8} "
        f"{'sql ms':>7} {'score ms':>8} {'p95 ms':>7} {'copy ms':>8} {'ratio':>6} {'new ms':>7} {'ratio':>6}"
    )
    for size, path, built, measured in rows:
        qs = queries(size, count, make_pairs)
        totals = sorted(r.total_s for r in measured)
        copies = [r for r, (_, original) in zip(measured, qs, strict=True) if original is not None]
        copy_s, new_s = medians(measured, qs)
        build = "cached" if built is None else f"{built:.0f}"
        print(
            f"{size:>10,} {path.stat().st_size / 1e6:>8.0f} {build:>8} "
            f"{statistics.mean(r.candidates for r in measured):>6.2f} "
            f"{sum(r.found for r in copies) / len(copies):>6.3f} "
            f"{statistics.median(r.keys_s for r in measured) * 1e3:>8.3f} "
            f"{statistics.median(r.sql_s for r in measured) * 1e3:>7.3f} "
            f"{statistics.median(r.score_s for r in measured) * 1e3:>8.3f} "
            f"{totals[int(0.95 * (len(totals) - 1))] * 1e3:>7.3f} "
            f"{copy_s * 1e3:>8.3f} {copy_s / base_copy:>6.2f} {new_s * 1e3:>7.3f} {new_s / base_new:>6.2f}"
        )
    largest = rows[-1][0]
    copy_s, new_s = medians(rows[-1][3], queries(largest, count, make_pairs))
    print(
        f"ratio {largest:,}/10,000 of the median lookup: {copy_s / base_copy:.2f} for a copy, "
        f"{new_s / base_new:.2f} for a new article (target <= 1.5)"
        + ("" if scale == "full" else "; the 1M point runs with BENCH_SCALE=full")
    )
    print(
        f"{count} lookups per size after one warm-up pass, sizes interleaved; half are copies of an "
        "archived article (credit line and boilerplate added; 'found': its original is the best match), "
        "half new articles; keys/sql/score: median time of each step over all lookups"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=400, help="lookups per archive size (default 400)")
    parser.add_argument("--skip-lookups", action="store_true", help="print the P/R tables only")
    args = parser.parse_args(argv)
    scale = os.environ.get("BENCH_SCALE", "quick")
    if scale not in SIZES:
        parser.error(f"BENCH_SCALE must be one of {', '.join(SIZES)}, not {scale!r}")
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    make_pairs = make_pairs_module()
    precision_recall_section(make_pairs)
    if not args.skip_lookups:
        lookup_section(scale, args.queries, make_pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
