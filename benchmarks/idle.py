"""Idle polling (issue 8, item 2): every feed answers 304 Not Modified. What does a poll cost?

    .venv/bin/python benchmarks/idle.py                   # quick: 1,000 sources (20 hosts x 50 feeds)
    BENCH_SCALE=full .venv/bin/python benchmarks/idle.py  # 10,000 sources (50 hosts x 200 feeds)

A first ``run_once`` (``fetch_articles: false``, two items per feed) stores every feed's ETag; the second,
measured, gets 304 for every feed. monitor's config is its defaults apart from ``per_host_delay: 0`` and
``allow_private_networks``. CPU per poll = CPU of the second ``run_once`` minus ``sync_sources`` (a start-up
cost of ``run --once``, not of a poll), divided by the polls.

The limit, in the same run against the same simulator: a bare ``httpx.AsyncClient`` (its own process, 32
connections like monitor's ``max_connections``) sending the same conditional GETs with the same headers,
CPU from ``time.process_time`` around the requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe import run_probe
from simulator import SimulatorProcess

SCALES = {"quick": (20, 50), "full": (50, 200)}
TARGET_CPU_RATIO = 1.5
CONNECTIONS = 32


async def _bare(etags: dict[str, str]) -> dict[str, Any]:
    import httpx

    from monitor.fetch import FEED_ACCEPT
    from monitor.fetch.decoding import ACCEPT_ENCODING

    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    statuses: dict[int, int] = {}
    gate = asyncio.Semaphore(CONNECTIONS)
    cpu, wall = time.process_time(), time.perf_counter()
    async with httpx.AsyncClient(limits=limits, headers={"User-Agent": "bench"}, trust_env=False) as client:

        async def get(url: str, etag: str) -> None:
            headers = {"Accept": FEED_ACCEPT, "Accept-Encoding": ACCEPT_ENCODING, "If-None-Match": etag}
            async with gate:
                response = await client.get(url, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        await asyncio.gather(*(get(url, etag) for url, etag in etags.items()))
    return {
        "requests": len(etags),
        "cpu_s": time.process_time() - cpu,
        "wall_s": time.perf_counter() - wall,
        "statuses": statuses,
    }


def run_bare(etags_file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--bare", str(etags_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bare client failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(scale: str = "quick", profile: Path | None = None) -> dict[str, Any]:
    hosts, feeds = SCALES[scale]
    with tempfile.TemporaryDirectory(prefix="monitor-bench-idle-") as tmp:
        config, etags = Path(tmp) / "config.yaml", Path(tmp) / "etags.json"
        args = ["idle", "--hosts", str(hosts), "--feeds", str(feeds), "--items", "2"]
        args += ["--config", str(config), "--etags", str(etags), "--http", '{"fetch_articles": false}']
        with SimulatorProcess(*args) as sim:
            first = run_probe(config)
            sim.stats()
            second = run_probe(config, profile)
            served = sim.stats()
            bare = run_bare(etags)
    polls = second["polls"]
    cpu = second["self_cpu_s"] - second["sync_cpu_s"]
    per_poll = cpu / polls
    bare_per_request = bare["cpu_s"] / bare["requests"]
    return {
        "scale": scale,
        "sources": hosts * feeds,
        "first": first,
        "second": second,
        "served": served,
        "bare": bare,
        "cpu_per_poll_s": per_poll,
        "polls_per_s": polls / second["wall_s"],
        "bare_cpu_per_request_s": bare_per_request,
        "bare_requests_per_s": bare["requests"] / bare["wall_s"],
        "cpu_ratio": per_poll / bare_per_request,
        "first_parse_share": first["parse_cpu_s"] / first["self_cpu_s"],
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--bare":
        etags = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
        print(json.dumps(asyncio.run(_bare(etags))))
        return
    scale = os.environ.get("BENCH_SCALE", "quick")
    profile = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(measure(scale, profile), indent=2))


if __name__ == "__main__":
    main()
