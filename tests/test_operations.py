"""Daemon operations: one daemon per archive, health check, SIGHUP reload, JSON logs, redaction, metrics."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitor.logs import JsonFormatter, Redactor
from tests.support.archive import EVERY_ARTICLE, peek
from tests.support.newssite import NewsServer, add_outlets, free_port, stop_process, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI


def wait_for(predicate: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@contextmanager
def daemon(config: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), *args, "run"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        yield process
    finally:
        stop_process(process)


def test_one_daemon_per_archive_health_check_and_reload(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = add_outlets(server, outlets=3, articles=2)
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources[:1], archive=archive)
    assert monitor_cli(config, "check")[0] == 1  # no archive, no daemon
    with daemon(config, "--log-format", "json") as first:
        assert wait_for(lambda: peek(archive, lambda archived: archived.heartbeat() is not None, False))
        code, out, _ = monitor_cli(config, "check")
        assert code == 0 and f"pid {first.pid}" in out
        # a second daemon on the same archive is refused, clearly; readers are never blocked
        code, _, err = monitor_cli(config, "run", "--once")
        assert code == 1 and "another monitor daemon" in err and str(first.pid) in err
        assert monitor_cli(config, "search", "talks", "--format", "json")[0] == 0
        # the log is read as it is written, so the test waits for what the daemon says, not for a clock
        assert first.stderr is not None
        logged: list[str] = []
        stream = first.stderr

        def read() -> None:
            for line in stream:
                logged.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # SIGHUP: an invalid config is reported and the running one kept ...
        config.write_text("sources: [{id: Bad Id, feed: nowhere}]\n")
        first.send_signal(signal.SIGHUP)
        assert wait_for(lambda: any("config reload failed" in line for line in list(logged)))
        # ... a valid one adds sources, which are polled at once
        write_config(config, sources, archive=archive)
        first.send_signal(signal.SIGHUP)
        assert wait_for(lambda: peek(archive, lambda archived: len(archived.facets("source")), 0) == 3)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
        reader.join(timeout=30)
    assert first.returncode == 0
    lines = [json.loads(line) for line in logged if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    polled = [line for line in lines if line["message"].startswith("pipeline: polled")]
    assert {line["source"] for line in polled} == {"outlet1", "outlet2", "outlet3"}
    assert all(line["url"].startswith("http://127.0.0.1") for line in polled)
    assert any("config reload failed" in line["message"] for line in lines)
    assert any(
        "config reloaded" in line["message"] and "added=outlet2,outlet3" in line["message"] for line in lines
    )


def test_metrics_and_healthz(server: NewsServer, tmp_path: Path) -> None:
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    sources = [*add_outlets(server, outlets=2, articles=2), {"id": "gone", "feed": server.url("/404.xml")}]
    write_config(config, sources, archive=archive)
    port = free_port()
    with subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "run", "--metrics", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    ) as process:  # fmt: skip
        try:
            assert wait_for(lambda: peek(archive, lambda archived: archived.count(EVERY_ARTICLE), 0) >= 4)

            def scrape() -> str:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                    return str(response.read().decode())

            assert wait_for(lambda: 'outcome="error"' in scrape())
            text = scrape()
            assert 'monitor_polls_total{outcome="ok",source="outlet1"} 1.0' in text
            assert 'monitor_errors_total{kind="fetch"} 1.0' in text
            assert "monitor_articles_stored_total" in text and "monitor_poll_duration_seconds_bucket" in text
            assert "monitor_source_lag_seconds" in text and "monitor_bytes_fetched_total" in text
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                assert response.status == 200
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=30)
    assert process.returncode == 0


def test_secrets_and_url_credentials_never_reach_logs() -> None:
    redactor = Redactor(["s3cr3t-token"])
    record = logging.LogRecord("monitor", logging.WARNING, __file__, 1,
                               "fetcher: failed url=%s with %s", ("https://bob:hunter2@feeds.example/rss", "s3cr3t-token"),
                               None)  # fmt: skip
    assert redactor.filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (
        "hunter2" not in line["message"] and "bob" not in line["message"] and "s3cr3t" not in line["message"]
    )
    assert line["url"] == "https://***@feeds.example/rss"


def test_a_reloaded_config_s_secrets_are_redacted_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitor_cli: MonitorCLI
) -> None:
    """Issue 15: SIGHUP's reload read the new config but never gave its secrets to the log redactor."""
    import monitor.daemon

    monkeypatch.setenv("MONITOR_OLD_SECRET", "old-secret-123")
    monkeypatch.setenv("MONITOR_NEW_SECRET", "new-secret-456")
    config = tmp_path / "c.yaml"

    def write(secret_env: str) -> None:
        config.write_text(
            f"archive: {tmp_path / 'a.db'}\nsources: []\nwatches:\n  - id: w\n    query: maduro\n"
            f"    notify: [{{webhook: 'https://hooks.example/w', secret_env: {secret_env}}}]\n"
        )

    async def run_forever(settings: object, *, reload: Callable[[], object], **_: object) -> None:
        write("MONITOR_NEW_SECRET")
        reload()  # what the daemon does on SIGHUP
        logging.getLogger("monitor.daemon").warning("daemon: %s and %s", "old-secret-123", "new-secret-456")

    write("MONITOR_OLD_SECRET")
    monkeypatch.setattr(monitor.daemon, "run_forever", run_forever)
    code, _, err = monitor_cli(config, "run")
    assert code == 0 and "daemon: *** and ***" in err, err


def test_a_postgresql_archive_takes_no_file_lock_and_its_password_reaches_no_output(
    tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    """Issue 16: `monitor run` took the URL for a SQLite path, made folders named after it (password
    included) and put its one-daemon lock file there. Its lock is now an advisory lock on the server; with no
    server there (a unix socket in a folder that does not exist: no network), every kind of run says it
    cannot connect."""
    config = tmp_path / "c.yaml"
    config.write_text(
        f"archive: 'postgresql://bob:hunter2@/news?host={tmp_path / 'no-server'}'\n"
        "sources:\n  - {id: a, feed: 'http://127.0.0.1:9/feed'}\n"
    )
    for args in (("run",), ("run", "--once"), ("run", "--due")):
        code, out, err = monitor_cli(config, "-v", "--log-format", "json", *args)
        assert code == 1 and "cannot connect" in err and "postgresql://bob:***@/news?host=" in err, err
        assert "hunter2" not in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
