"""benchmarks/postgres.py on a machine without PostgreSQL (issue 16): one line saying the PostgreSQL part is
skipped and how to enable it, exit 0, so that `make bench` goes on. Run in a child process, with the
server binaries hidden, so that the benchmark's modules stay out of this test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HIDDEN = """
import sys
sys.path.insert(0, "benchmarks")
import pgserver
pgserver.find_bindir = lambda: None  # as on a machine without Debian's postgresql package
import postgres
sys.exit(postgres.main([]))
"""


def test_the_postgres_benchmark_is_skipped_without_a_server() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MONITOR_BENCH_POSTGRES", "MONITOR_TEST_POSTGRES")
    }
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and "skipped" in lines[0], done.stdout
    assert "postgresql" in lines[0] and "MONITOR_BENCH_POSTGRES" in lines[0], lines[0]
