"""One daemon per PostgreSQL archive until workers share one by leases (issue 16): a session advisory lock,
held on a connection of the daemon's own, refused to a second daemon with the holder named, gone with the
session."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from monitor.errors import ArchiveLockedError, StoreError
from monitor.store.postgres.lock import daemon_lock


def test_a_second_daemon_is_refused_naming_the_first_and_may_start_once_it_is_gone(postgres_db: str) -> None:
    with (
        daemon_lock(postgres_db, display="the test archive"),
        pytest.raises(ArchiveLockedError, match=rf"monitor daemon pid {os.getpid()} is already writing"),
        daemon_lock(postgres_db, display="the test archive"),
    ):
        pass
    with daemon_lock(postgres_db, display="the test archive"):  # released with the first one's session
        pass


def test_a_killed_daemon_leaves_no_lock_behind(postgres_db: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from monitor.store.postgres.lock import daemon_lock\n"
            "with daemon_lock(sys.argv[1], display='x'):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            postgres_db,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(ArchiveLockedError), daemon_lock(postgres_db, display="x"):
            pass
        holder.kill()  # kill -9: the server ends the session, and its lock with it
        holder.wait(timeout=30)
        deadline = time.monotonic() + 30
        while True:
            try:
                with daemon_lock(postgres_db, display="x"):
                    break
            except ArchiveLockedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_an_unreachable_server_is_a_store_error_without_the_password(tmp_path: object) -> None:
    url = f"postgresql://bob:hunter2@/news?host={tmp_path}&connect_timeout=2"
    with pytest.raises(StoreError) as refused, daemon_lock(url, display="postgresql://bob:***@/news"):
        pass
    assert "cannot connect" in str(refused.value) and "hunter2" not in str(refused.value)
