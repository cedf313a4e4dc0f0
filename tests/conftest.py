from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.support.newssite import NewsServer

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
