from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.support import postgres as postgres_support
from tests.support.newssite import NewsServer
from tests.support.postgres import HOW_TO_ENABLE as POSTGRES_HOW_TO
from tests.support.postgres import PostgresServer
from tests.support.postgres import Unavailable as PostgresUnavailable
from tests.support.postgres import session_server as postgres_session_server

DATA = Path(__file__).parent / "data"

MonitorCLI = Callable[..., tuple[int, str, str]]
"""``monitor_cli(config, *args)`` -> (exit code, stdout, stderr)."""


@pytest.fixture
def server() -> Iterator[NewsServer]:
    with NewsServer() as running:
        yield running


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def monitor_cli() -> MonitorCLI:
    """Run ``monitor -c CONFIG ARGS...`` in this process; an unexpected exception fails the test with its
    traceback instead of becoming exit code 1. Stateless, so module-scoped fixtures may use it too."""

    def run(config: Path, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


# -- PostgreSQL (issue 16) -----------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the PostgreSQL server is marked ``postgres`` (``-m postgres`` / ``-m 'not postgres'``)."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every PostgreSQL test skipped for want of a server is reported at one place, so that ``-ra``
    folds them into one line saying how to enable them (pytest reports a fixture's skip at each test)."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and POSTGRES_HOW_TO in str(report.longrepr[2]):
        report.longrepr = (str(Path(postgres_support.__file__)), None, report.longrepr[2])
    return report


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The test session's PostgreSQL server (tests/support/postgres.py): skipped, with how to enable it,
    when there is none; failed instead under CI=true."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(postgres_session_server())
        except PostgresUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{exc}; under CI=true the PostgreSQL tests must run")
            pytest.skip(str(exc))
        yield server


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database of this test's own (cloned from the template); its conninfo."""
    with postgres_server.database() as conninfo:
        yield conninfo
