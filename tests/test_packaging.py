"""The Dockerfile's install step is a plain `pip install .`: check that the package builds and ships."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_builds_with_the_package_its_data_and_the_console_script(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("monitor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert {
        "monitor/__init__.py",
        "monitor/py.typed",
        "monitor/cli/__init__.py",
        "monitor/store/schema.py",
    } <= names
    assert {"monitor/web/metadata.yaml", "monitor/web/static/monitor.css"} <= names  # monitor serve
    assert "monitor = monitor.cli:main" in entry_points
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in declared:
        assert f"Requires-Dist: {requirement.split('>')[0].split('<')[0].split('[')[0]}" in metadata


def test_dockerfile_installs_with_pip_and_runs_the_daemon_as_non_root() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -c constraints.txt '.[web,postgres]'" in text  # serve, and PostgreSQL
    assert "USER 10001" in text and "HEALTHCHECK" in text and '"monitor", "check"' in text
    assert "MONITOR_ARCHIVE=/data/monitor.db" in text and 'VOLUME ["/data"]' in text
