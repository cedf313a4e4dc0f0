"""The extraction pool ends with the daemon, however the daemon ends: after a `kill -9` its pool worker and
the fork server went on forever (the worker waits on a task queue it holds the write end of, and holds the
fork server's alive pipe open), some 260 MB leaked per kill. Linux only (/proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

SCRIPT = """
import asyncio, os
from datetime import UTC, datetime
from monitor.workers import ProcessPoolExtractor

async def main():
    pool = ProcessPoolExtractor(1)
    page = b"<html><body><article><p>A sentence or two of text for the pool.</p></article></body></html>"
    await pool.extract(page, url="http://x.example/a", charset=None, now=datetime.now(UTC))
    worker = await asyncio.get_running_loop().run_in_executor(pool._pool, os.getpid)
    print(worker, flush=True)
    await asyncio.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"  # ended, not yet reaped by whoever adopted it


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if _parent(int(stat.parent.name)) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return found


def test_a_killed_daemons_pool_worker_and_fork_server_end_too(tmp_path: Path) -> None:
    script = tmp_path / "daemon.py"
    script.write_text(SCRIPT, encoding="utf-8")
    daemon = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert daemon.stdout is not None
    with daemon.stdout:
        worker = int(daemon.stdout.readline())
    server = _parent(worker)
    assert server != daemon.pid and _parent(server) == daemon.pid  # the fork server started the worker
    started = {worker, server, *_children(daemon.pid)}  # the resource tracker too
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    leaked = [pid for pid in started if not _gone(pid)]
    for pid in leaked:
        os.kill(pid, signal.SIGKILL)
    assert leaked == []


FROZEN = """
import asyncio, gc
from monitor.workers import ProcessPoolExtractor

async def main():
    pool = ProcessPoolExtractor(1)
    frozen = await asyncio.get_running_loop().run_in_executor(pool._pool, gc.get_freeze_count)
    print(frozen, gc.get_freeze_count(), flush=True)
    pool._pool.shutdown()

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_pool_workers_start_with_the_fork_servers_objects_frozen(tmp_path: Path) -> None:
    # the fork server's preload (monitor.pool_warmup) freezes what it loaded: a worker's collections leave
    # those objects, and the memory pages that hold them, alone; the daemon's own process is not frozen
    script = tmp_path / "frozen.py"
    script.write_text(FROZEN)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    in_worker, in_daemon = map(int, done.stdout.split())
    assert in_worker > 10_000
    assert in_daemon == 0
