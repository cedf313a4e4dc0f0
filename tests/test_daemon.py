"""The daemon with the real APScheduler: first polls at start, re-polls on the interval, clean stops."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from monitor.config import load_config
from monitor.daemon import run_forever
from monitor.workers import InlineExtractor
from tests.support.archive import EVERY_ARTICLE, peek
from tests.support.newssite import NewsServer, add_outlets, write_config


def count(archive: Path) -> int:
    """How many articles the archive holds (none while there is no archive yet)."""
    return peek(archive, lambda archived: archived.count(EVERY_ARTICLE), 0)


def polled(archive: Path) -> int:
    """How many sources were polled to the end (their state written)."""
    return peek(archive, lambda archived: sum(1 for s in archived.source_statuses() if s.last_polled_at), 0)


def test_run_forever_polls_at_start_then_on_interval(server: NewsServer, tmp_path: Path) -> None:
    sources = add_outlets(server, outlets=2, articles=3)
    sources[0]["interval"] = "1s"
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    settings = load_config(config)
    feed0, feed1 = (str(s["feed"]).removeprefix(server.base_url) for s in sources)

    async def scenario() -> None:
        stop = asyncio.Event()
        daemon = asyncio.create_task(run_forever(settings, extractor=InlineExtractor(), stop=stop))
        deadline = time.monotonic() + 30
        while server.hits[feed0] < 3 and time.monotonic() < deadline:  # noqa: ASYNC110 (polling a counter in another thread)
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(daemon, timeout=20)

    asyncio.run(scenario())
    assert server.hits[feed0] >= 3  # re-polled every second
    assert server.hits[feed1] == 1  # 15 minutes default interval: polled once, at start
    assert count(archive) == 6
    assert all(n == 1 for path, n in server.hits.items() if "/news/" in path)


def test_sigterm_stops_cleanly_and_restart_resumes(server: NewsServer, tmp_path: Path) -> None:
    sources = add_outlets(server, outlets=3, articles=5)
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "-c", str(config), "run"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )

    daemon = start()
    deadline = time.monotonic() + 60
    while count(archive) < 15 and time.monotonic() < deadline and daemon.poll() is None:
        time.sleep(0.2)
    daemon.send_signal(signal.SIGTERM)
    _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert "daemon: stopped" in err and "Traceback" not in err
    assert count(archive) == 15
    assert polled(archive) == 3

    # A restart within the interval polls nothing: the last poll times live in the archive.
    server.hits.clear()
    daemon = start()
    time.sleep(3)
    daemon.send_signal(signal.SIGINT)
    _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert server.hits == {}


def test_sigterm_during_run_once_stops_cleanly_and_leaves_no_process(
    server: NewsServer, tmp_path: Path
) -> None:
    import os

    sources = add_outlets(server, outlets=2, articles=6)
    for path, route in server.routes.items():
        if "/news/" in path:
            route.delay_s = 1.0  # type: ignore[union-attr]
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    once = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "run", "--once"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not any("/news/" in path for path in server.hits) and time.monotonic() < deadline:
        time.sleep(0.05)
    once.send_signal(signal.SIGTERM)
    _, err = once.communicate(timeout=30)
    assert once.returncode == 130 and "interrupted" in err and "Traceback" not in err
    # no page had arrived yet: the pages in flight are lost (one already fetched would have been kept),
    # and the polls wrote no state, so the next run polls again
    assert count(archive) == 0
    assert polled(archive) == 0
    leftovers = True
    deadline = time.monotonic() + 10  # exited helpers may linger a moment as zombies before being reaped
    while leftovers and time.monotonic() < deadline:
        try:
            os.killpg(once.pid, 0)  # the forkserver and pool workers share the process group
            time.sleep(0.1)
        except ProcessLookupError:
            leftovers = False
    assert not leftovers


def test_pages_waiting_for_extraction_are_bounded_by_max_connections(
    server: NewsServer, tmp_path: Path
) -> None:
    """Fetching is faster than extraction; the pages in between stay bounded, so memory does too."""
    import yaml

    from monitor.daemon import run_once

    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, add_outlets(server, outlets=4, articles=6), archive=archive)
    raw = yaml.safe_load(config.read_text())
    raw["http"]["max_connections"] = 2
    config.write_text(yaml.safe_dump(raw))

    class SlowExtractor(InlineExtractor):
        def __init__(self) -> None:
            self.pending = self.peak = self.calls = 0
            self.worker = asyncio.Lock()  # one pool worker: extractions queue, as they do in the pool

        async def extract(self, content: bytes, **kwargs: Any) -> Any:
            self.pending += 1
            self.calls += 1
            self.peak = max(self.peak, self.pending)
            try:
                async with self.worker:
                    await asyncio.sleep(0.02)  # a page's worth of CPU elsewhere; fetching goes on meanwhile
                    return await super().extract(content, **kwargs)
            finally:
                self.pending -= 1

    extractor = SlowExtractor()
    reports = asyncio.run(run_once(load_config(config), extractor=extractor))
    assert sum(report.new for report in reports) == 24 and extractor.calls == 24
    # pages fetched and waiting for, or in, extraction: they did queue (without the bound, 7 here), but never
    # beyond the bound (twice max_connections, some of it held by pages still being fetched)
    assert 2 <= extractor.peak <= 4
