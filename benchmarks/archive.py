"""Archive scale (issue 8, item 4): insert cost, duplicate-lookup cost and FTS latency as the archive grows.

    .venv/bin/python benchmarks/archive.py                   # 10k and 100k articles
    BENCH_SCALE=full .venv/bin/python benchmarks/archive.py  # adds 1M

Archives of synthetic articles are built through ``SQLiteArchive.commit_poll`` (1,000 articles per poll) once
and cached in ``~/.cache/monitor-bench/`` (or ``$MONITOR_BENCH_CACHE``), keyed by ``GENERATION``;
migrations added since are applied when a cached archive is opened. Each size starts from a copy of the
one below it. Texts are 6-16 sentences drawn from the shared benchmark's ground-truth bodies; band keys are
random (distinct articles share none: the band lookup itself is ``benchmarks/dedup.py``'s subject), raw
pages are not kept (their size is reported from the real pages).

At each size, on a temporary copy:

- insert: 2,000 new articles in polls of 20 (``commit_poll``, one transaction each, as the pipeline does),
  after 500 more that warm the connection's page cache as a running daemon's is; wall and CPU per article;
- duplicate lookup: ``known_entries`` for a poll of 20 entries already archived (by GUID and URL), per poll;
- FTS: ``search`` for 30 two-term queries, limit 50, without filters and with a source and a 90-day date
  filter: p50/p95 latency;
- size per article (``sizes()``: bytes on disk / articles).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulator import MissingPages, sentence_pool, shared_pages

from monitor import rawpage
from monitor.dedup import canonical_url, content_hash
from monitor.models import Article, PollOutcome, SearchQuery, Source
from monitor.store import SQLiteArchive

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("MONITOR_BENCH_CACHE", Path.home() / ".cache" / "monitor-bench"))
SIZES = {"quick": [10_000, 100_000], "full": [10_000, 100_000, 1_000_000]}
SOURCES = 100
BUILD_POLL = 1_000
MEASURE_ARTICLES, MEASURE_POLL = 2_000, 20
QUERIES = 30
TARGET_INSERT_RATIO, TARGET_P95_S = 1.3, 0.100
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
GENERATION = 1
WARMUP_ARTICLES = 500
SPAN_DAYS = 730


def _sources() -> list[Source]:
    return [
        Source(id=f"src{n}", name=f"Source {n}", url=f"https://outlet{n}.example/feed", interval_s=900.0)
        for n in range(SOURCES)
    ]


class Articles:
    """Deterministic synthetic articles: article ``n`` is always the same."""

    def __init__(self, sentences: list[str]) -> None:
        self.sentences = sentences

    def article(self, n: int) -> Article:
        rng = random.Random(n)
        source = f"src{n % SOURCES}"
        count = rng.randint(6, 16)
        paragraphs = [" ".join(rng.choice(self.sentences) for _ in range(3)) for _ in range((count + 2) // 3)]
        text = f"Reference article {n}.\n\n" + "\n\n".join(paragraphs)
        published = EPOCH + timedelta(seconds=n * SPAN_DAYS * 86400 // 1_000_000)
        url = canonical_url(f"https://outlet{n % SOURCES}.example/news/{n}-story.html")
        return Article(
            url=url,
            source=source,
            guid=f"guid-{n}",
            title=rng.choice(self.sentences)[:100],
            authors=(f"Reporter {n % 37}",),
            published_at=published,
            fetched_at=published + timedelta(minutes=5),
            text=text,
            summary=paragraphs[0][:200],
            language="en",
            image=None,
            extraction="page",
            content_hash=content_hash(text),
            urls=(url,),
            link=url,
            feed_title=None,
            landed=url,
            bands=tuple(rng.getrandbits(63) for _ in range(24)),
        )

    def poll(self, source: str, articles: list[Article]) -> PollOutcome:
        return PollOutcome(
            source=source, polled_at=articles[-1].fetched_at, articles=tuple(articles), status=200
        )


def _commit(archive: SQLiteArchive, articles: Articles, ids: range, per_poll: int) -> None:
    for start in range(ids.start, ids.stop, per_poll):
        batch = [articles.article(n) for n in range(start, min(start + per_poll, ids.stop))]
        archive.commit_poll(articles.poll(batch[0].source, batch))


def cached_archive(size: int, articles: Articles, log: Any = print) -> Path:
    """The archive of ``size`` synthetic articles, built once (from the next smaller one) and cached.

    A cached archive is opened with ``SQLiteArchive`` before use, which applies any migration added since it
    was built, as the daemon does to a user's archive: a schema change costs a migration, not a rebuild.
    Bump ``GENERATION`` when the articles or the way they are built change.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"archive-g{GENERATION}-{size}.sqlite"
    if path.exists():
        SQLiteArchive(path).close()
        return path
    smaller = [s for s in SIZES["full"] if s < size]
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    start = 0
    if smaller:
        shutil.copyfile(cached_archive(smaller[-1], articles, log), partial)
        start = smaller[-1]
    log(f"archive: building {size:,} articles in {path} (once) ...")
    started = time.perf_counter()
    archive = SQLiteArchive(partial)
    # a cache being built is thrown away if anything stops it: no need to sync it to disk on the way
    archive.db.execute("PRAGMA synchronous = OFF")
    archive.sync_sources(_sources())
    _commit(archive, articles, range(start, size), BUILD_POLL)
    archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    archive.close()
    partial.rename(path)
    log(f"archive: built {size:,} in {time.perf_counter() - started:.0f}s")
    return path


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _queries(sentences: list[str]) -> list[str]:
    rng = random.Random(8)
    # every occurrence counts: common words are drawn more often, as users' queries are
    tokens = [w.strip(".,;:\"'()").lower() for s in sentences for w in s.split()]
    vocabulary = [w for w in tokens if w.isalpha() and len(w) >= 5]
    return [f"{rng.choice(vocabulary)} {rng.choice(vocabulary)}" for _ in range(QUERIES)]


def measure_size(size: int, articles: Articles, queries: list[str], log: Any = print) -> dict[str, Any]:
    base = cached_archive(size, articles, log)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-archive-", dir=CACHE) as tmp:
        path = Path(tmp) / "archive.sqlite"
        shutil.copyfile(base, path)
        with path.open("rb+") as copy:  # the copy's writeback (5 GB at 1M) must not overlap the measurement
            os.fsync(copy.fileno())
        archive = SQLiteArchive(path)
        # a running daemon's connection has its page cache warm: fill it before measuring
        warmup = range(20_000_000 + size, 20_000_000 + size + WARMUP_ARTICLES)
        _commit(archive, articles, warmup, MEASURE_POLL)
        new = range(10_000_000 + size, 10_000_000 + size + MEASURE_ARTICLES)
        wall, cpu = time.perf_counter(), time.process_time()
        _commit(archive, articles, new, MEASURE_POLL)
        insert_wall = (time.perf_counter() - wall) / MEASURE_ARTICLES
        insert_cpu = (time.process_time() - cpu) / MEASURE_ARTICLES

        rng = random.Random(size)
        lookups = []
        for _ in range(50):
            ids = [rng.randrange(size) for _ in range(MEASURE_POLL)]
            known = [articles.article(n) for n in ids]
            started = time.perf_counter()
            archive.known_entries("src0", [a.guid or "" for a in known], [a.url for a in known])
            lookups.append(time.perf_counter() - started)

        end = EPOCH + timedelta(seconds=size * SPAN_DAYS * 86400 // 1_000_000)
        plain, filtered, hits = [], [], []
        for n, query in enumerate(queries):
            started = time.perf_counter()
            hits.append(len(archive.search(SearchQuery(query=query, limit=50))))
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            since = end - timedelta(days=90)
            archive.search(SearchQuery(query=query, limit=50, sources=(f"src{n % SOURCES}",), since=since))
            filtered.append(time.perf_counter() - started)
        sizes = archive.sizes()
        archive.close()
    return {
        "articles": size,
        "insert_wall_ms": insert_wall * 1000,
        "insert_cpu_ms": insert_cpu * 1000,
        "lookup_ms_p50": statistics.median(lookups) * 1000,
        "search_ms": [round(v * 1000, 2) for v in _percentiles(plain)],
        "search_filtered_ms": [round(v * 1000, 2) for v in _percentiles(filtered)],
        "search_hits_median": statistics.median(hits),
        "bytes_per_article": sizes.bytes / max(1, sizes.articles),
    }


def raw_bytes_per_page() -> float:
    """What keeping the raw page adds per article: the shared pages compressed as the pipeline keeps them."""
    pages = shared_pages()
    return sum(len(rawpage.compress(page)) for page in pages) / len(pages)


def measure(scale: str = "quick", log: Any = print) -> dict[str, Any]:
    try:
        sentences = sentence_pool()
        raw = raw_bytes_per_page()
    except MissingPages as exc:
        return {"skipped": str(exc)}
    articles = Articles(sentences)
    queries = _queries(sentences)
    results = [measure_size(size, articles, queries, log) for size in SIZES[scale]]
    return {
        "scale": scale,
        "sizes": results,
        "raw_bytes_per_article": raw,
        "insert_ratio": results[-1]["insert_wall_ms"] / results[0]["insert_wall_ms"],
        "insert_cpu_ratio": results[-1]["insert_cpu_ms"] / results[0]["insert_cpu_ms"],
    }


def main() -> None:
    scale = os.environ.get("BENCH_SCALE", "quick")
    print(json.dumps(measure(scale, log=lambda m: print(m, file=sys.stderr)), indent=2))


if __name__ == "__main__":
    main()
