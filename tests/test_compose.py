"""The compose examples of docs/ (issue 16, item 6): they parse, and the PostgreSQL one has what
docs/operations.md promises: a healthy `postgres` before any worker, workers that scale (no host port, no
container name), the archive as a URL without its password, and no Datasette service (serve is SQLite-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.config import PostgresURL, parse_archive

DOCS = Path(__file__).parents[1] / "docs"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def test_the_sqlite_compose_file_parses() -> None:
    assert set(load("compose.yaml")["services"]) == {"monitor", "web"}


def test_the_postgresql_compose_file_runs_scalable_workers_on_a_healthy_database() -> None:
    compose = load("compose.postgres.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "worker"}
    postgres, worker = services["postgres"], services["worker"]

    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    data = [volume for volume in postgres["volumes"] if volume.endswith(":/var/lib/postgresql/data")]
    assert data and data[0].split(":")[0] in compose["volumes"]

    assert worker["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert worker["command"][:2] == ["monitor", "run"] and "serve" not in worker["command"]
    assert "ports" not in worker and "container_name" not in worker  # --scale worker=3
    archive = parse_archive(worker["environment"]["MONITOR_ARCHIVE"])
    assert isinstance(archive, PostgresURL) and archive.display == archive.url  # no password in the file
    assert archive.url == "postgresql://monitor@postgres:5432/monitor"
    assert worker["env_file"] == postgres["env_file"] == ["postgres.env"]  # PGPASSWORD, POSTGRES_PASSWORD
    text = (DOCS / "compose.postgres.yaml").read_text(encoding="utf-8")
    assert "--scale worker=3" in text and "POSTGRES_PASSWORD=" not in text.split("services:")[1]
    assert "docker compose -f docs/compose.postgres.yaml up -d --scale worker=3" in (
        DOCS / "operations.md"
    ).read_text(encoding="utf-8")
