"""Datasette on the archive (issue 6): the shipped metadata and the ``monitor serve`` launcher.

Datasette is an optional extra (``pip install 'monitor[web]'``); nothing here imports it. ``monitor serve``
runs Datasette's own command line in a child process (``python -m monitor.web``: Datasette with monitor's
plugin, :mod:`monitor.web.plugin`, which makes the search box read monitor's query language against the
normalised index) with the metadata in ``metadata.yaml`` (column descriptions, facets, canned queries), so
what a user gets from ``monitor serve`` is what ``python -m monitor.web serve ARCHIVE --metadata ...`` gives.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import MissingExtraError

INSTALL_HINT = (
    "monitor serve needs Datasette, which is an optional extra: pip install 'monitor[web]' "
    "(from a checkout: .venv/bin/pip install -e '.[web]')"
)

# Settings that suit an archive of long articles: short cells in tables, time for facets on big tables.
SETTINGS: dict[str, str] = {
    "truncate_cells_html": "160",
    "facet_time_limit_ms": "1000",
    "sql_time_limit_ms": "5000",
    "default_page_size": "50",
}


def metadata_text() -> str:
    """The shipped metadata file, as written (database key ``monitor``)."""
    return resources.files(__package__).joinpath("metadata.yaml").read_text(encoding="utf-8")


STATIC_MOUNT = "monitor-static"


def metadata(database: str = "monitor", *, styled: bool = False) -> dict[str, Any]:
    """The shipped metadata with its database entry named after the archive file (Datasette names a
    database after its file: ``data/news.db`` is ``news``). ``styled`` adds monitor's style sheet, which
    ``monitor serve`` mounts."""
    data: dict[str, Any] = yaml.safe_load(metadata_text())
    databases = data["databases"]
    databases[database] = databases.pop("monitor")
    if styled:
        data["extra_css_urls"] = [f"/{STATIC_MOUNT}/monitor.css"]
    return data


def static_folder() -> Path:
    return Path(str(resources.files(__package__).joinpath("static")))


def database_name(archive: Path) -> str:
    return archive.stem


def datasette_available() -> bool:
    try:
        return importlib.util.find_spec("datasette") is not None
    except (ImportError, ValueError):
        return False


def serve_command(
    archive: Path,
    metadata_file: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    extra: Sequence[str] = (),
) -> list[str]:
    """The Datasette command line ``monitor serve`` runs (Datasette's, with monitor's plugin)."""
    command = [
        sys.executable,
        "-m",
        "monitor.web",
        "serve",
        str(archive),
        "--metadata",
        str(metadata_file),
        "--host",
        host,
        "--port",
        str(port),
        "--static",
        f"{STATIC_MOUNT}:{static_folder()}",
    ]
    for name, value in SETTINGS.items():
        command += ["--setting", name, value]
    return [*command, *extra]


def serve(
    archive: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    extra: Sequence[str] = (),
) -> int:
    """Run Datasette on the archive until it exits (Ctrl-C); returns its exit status."""
    if not datasette_available():
        raise MissingExtraError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="monitor-web-") as folder:
        metadata_file = Path(folder) / "metadata.json"
        metadata_file.write_text(json.dumps(metadata(database_name(archive), styled=True)), encoding="utf-8")
        command = serve_command(archive, metadata_file, host=host, port=port, extra=extra)
        child = subprocess.Popen(command)
        # `docker stop` / systemd send SIGTERM to this process only: pass it on, then wait for the child.
        previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: child.terminate())
        try:
            while True:
                try:
                    return child.wait()
                except KeyboardInterrupt:  # the child got the same Ctrl-C; let it finish
                    continue
        finally:
            signal.signal(signal.SIGTERM, previous)
