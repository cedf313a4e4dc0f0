"""Feed parsing (issue 8, item 3): feeds/s of ``monitor.parse.parse_feed``, and no second parse of a body.

    .venv/bin/python benchmarks/feeds.py

- feeds/s for the simulator's feeds (20 items, RSS and Atom, as ``benchmarks/simulator.py`` serves them)
  and for a 500-item RSS feed of real-size entries (a summary of real sentences each), single process;
- the body-hash check: the simulator serves feeds *without* ETag or Last-Modified (every poll gets 200 and
  the whole body), monitor's ``run_once`` polls them twice; the second run must parse nothing
  (``parse_feed`` calls are counted by ``benchmarks/probe.py``).

The share of poll CPU spent in parsing comes from the ingest and idle runs (``parse_cpu_s`` of the probe).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe import run_probe
from simulator import MissingPages, SimulatorProcess, atom_feed, rss_feed, sentence_pool

from monitor.parse import parse_feed


def _items(count: int, sentences: list[str], *, big: bool) -> list[dict[str, str]]:
    rng = random.Random(count)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        published = start + timedelta(minutes=7 * n)
        summary = " ".join(rng.choice(sentences) for _ in range(6 if big else 1))
        items.append(
            {
                "title": rng.choice(sentences)[:90],
                "link": f"https://news.example.org/{published:%Y/%m/%d}/story-{n}.html?utm_source=rss",
                "guid": f"https://news.example.org/?p={100_000 + n}",
                "rfc822": format_datetime(published),
                "iso": published.isoformat().replace("+00:00", "Z"),
                "summary": summary,
            }
        )
    return items


def feeds_per_second(body: bytes, *, content_type: str, seconds: float = 1.5) -> float:
    parse_feed(body, url="https://news.example.org/feed", content_type=content_type)  # warm-up
    count, started = 0, time.process_time()
    while (elapsed := time.process_time() - started) < seconds:
        parse_feed(body, url="https://news.example.org/feed", content_type=content_type)
        count += 1
    return count / elapsed


def body_hash_check() -> dict[str, Any]:
    """Poll unchanged feeds without validators twice: how many bodies were parsed each time."""
    with tempfile.TemporaryDirectory(prefix="monitor-bench-feeds-") as tmp:
        config = Path(tmp) / "config.yaml"
        args = [
            "idle",
            "--hosts",
            "2",
            "--feeds",
            "10",
            "--items",
            "20",
            "--no-etag",
            "--config",
            str(config),
        ]
        args += ["--http", '{"fetch_articles": false}']
        with SimulatorProcess(*args):
            first = run_probe(config)
            second = run_probe(config)
    return {
        "feeds": first["polls"],
        "first_parses": first["parses"],
        "second_parses": second["parses"],
        "second_not_modified": second["not_modified"],
    }


def measure(scale: str = "quick") -> dict[str, Any]:
    try:
        sentences = sentence_pool()
    except MissingPages:
        sentences = ["The minister said on Tuesday that talks would resume next month."]
    small = _items(20, sentences, big=False)
    large = _items(500, sentences, big=True)
    link = "https://news.example.org/"
    bodies = {
        "rss_20": (rss_feed(small, title="bench", link=link).encode(), "application/rss+xml"),
        "atom_20": (atom_feed(small, title="bench", link=link).encode(), "application/atom+xml"),
        "rss_500": (rss_feed(large, title="bench", link=link).encode(), "application/rss+xml"),
    }
    rates = {name: feeds_per_second(body, content_type=kind) for name, (body, kind) in bodies.items()}
    return {
        "feeds_per_s": rates,
        "bytes": {name: len(body) for name, (body, _) in bodies.items()},
        "body_hash": body_hash_check(),
    }


def main() -> None:
    print(json.dumps(measure(), indent=2))


if __name__ == "__main__":
    main()
