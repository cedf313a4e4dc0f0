from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from newssite import NewsServer

DATA = Path(__file__).parent / "data"


@pytest.fixture
def server() -> Iterator[NewsServer]:
    with NewsServer() as running:
        yield running


@pytest.fixture
def data_dir() -> Path:
    return DATA
