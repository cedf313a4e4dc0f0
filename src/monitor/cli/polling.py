"""Commands that poll, and those that say who is polling: ``run``, ``check``, ``workers``."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import click

from monitor.cli.options import (
    UsageProblem,
    archive_exists,
    format_option,
    load_settings,
    open_reader,
    reloader,
)
from monitor.config import PostgresURL, Settings, parse_duration
from monitor.formats import render
from monitor.models import WorkerStatus, as_row, field_names


@click.command()
@click.option("--once", is_flag=True, help="Poll each source once, whatever its schedule, and exit.")
@click.option("--due", is_flag=True, help="Poll only the sources that are due now, and exit (for cron).")
@click.option(
    "--metrics",
    "metrics_address",
    metavar="HOST:PORT",
    help="Serve Prometheus /metrics and /healthz there (e.g. 127.0.0.1:9108). Off by default.",
)
@click.option(
    "--source",
    "only",
    multiple=True,
    metavar="ID",
    help="Only this source (repeatable). Named sources are polled even when disabled.",
)
@click.pass_context
def run(
    ctx: click.Context, once: bool, due: bool, metrics_address: str | None, only: tuple[str, ...]
) -> None:
    """Poll the configured sources and archive every new article.

    Without --once or --due, runs until SIGINT/SIGTERM: sources never polled are polled right away, then
    each on its own schedule (adaptive between min_interval and max_interval, or its pinned `interval`).
    A failing source is logged, recorded and backed off (see `monitor sources`); it never stops the others.
    SIGHUP reloads config.yaml (an invalid one is reported and the running config kept). One daemon per
    SQLite archive: a second `monitor run` on it is refused. A PostgreSQL archive is shared by any number
    of `monitor run` workers, on one machine or many: they split the feed hosts between them by leases
    and hold the per-host limits together (see `monitor workers`).

    \b
    Examples:
      monitor run
      monitor run --once
      monitor run --due             # from cron: only what is due
      monitor -c /etc/monitor/config.yaml run --once --source almayadeen --source bbc-world
    """
    from monitor.daemon import run_forever, run_once, select_sources

    settings = load_settings(ctx)
    select_sources(settings, only)
    try:
        if once and due:
            raise UsageProblem("--once polls everything; --due polls what is due: choose one")
        if once or due:
            reports = asyncio.run(run_once(settings, only, due_only=due))
            failed = [r for r in reports if r.error]
            new = sum(r.new for r in reports)
            click.echo(
                f"polled {len(reports)} sources: {new} new articles, {len(failed)} sources failed",
                err=True,
            )
        else:
            metrics = None
            if metrics_address:
                from monitor.metrics import Metrics

                host, _, port = metrics_address.rpartition(":")
                if not host or not port.isdigit():
                    raise UsageProblem(
                        f"--metrics {metrics_address!r} is not HOST:PORT such as 127.0.0.1:9108"
                    )
                metrics = Metrics()
                metrics.serve(host, int(port))
            asyncio.run(run_forever(settings, reload=reloader(ctx), metrics=metrics))
    except asyncio.CancelledError:
        click.echo("interrupted: polls still running were not recorded; the archive is intact", err=True)
        ctx.exit(130)


@click.command()
@click.option(
    "--max-age",
    default="2m",
    show_default=True,
    metavar="DURATION",
    help="How old the daemon's last heartbeat may be.",
)
@click.pass_context
def check(ctx: click.Context, max_age: str) -> None:
    """Exit 0 if a daemon is alive and polling this archive (its heartbeat is recent), else 1.

    For Docker HEALTHCHECK and systemd watchdogs.

    \b
    Examples:
      monitor check && echo alive
      monitor check --max-age 5m
    """
    settings: Settings = load_settings(ctx)
    try:
        limit = parse_duration(max_age)
    except ValueError:
        raise UsageProblem(f"--max-age {max_age!r} is not a duration like 2m, 30s") from None
    if not archive_exists(settings):
        click.echo(f"unhealthy: no archive at {settings.archive_display}", err=True)
        ctx.exit(1)
    if isinstance(settings.archive, PostgresURL):
        _check_workers(ctx, open_reader(ctx).workers(datetime.now(UTC)), limit)
        return
    beat = open_reader(ctx).heartbeat()
    if beat is None:
        click.echo("unhealthy: no daemon has run on this archive", err=True)
        ctx.exit(1)
    age = (datetime.now(UTC) - datetime.fromisoformat(beat.beat_at)).total_seconds()
    if age > limit:
        click.echo(f"unhealthy: last heartbeat {age:.0f}s ago (pid {beat.pid})", err=True)
        ctx.exit(1)
    click.echo(f"ok: daemon pid {beat.pid} alive, last heartbeat {age:.0f}s ago, since {beat.started_at}")


def _check_workers(ctx: click.Context, workers: list[WorkerStatus], limit: float) -> None:
    """A PostgreSQL archive: this machine's worker if one runs here (a container's health check), else
    any; and how many are live."""
    if not workers:
        click.echo("unhealthy: no worker has run on this archive", err=True)
        ctx.exit(1)
    live = [worker for worker in workers if worker.live]
    here = [worker for worker in workers if worker.hostname == socket.gethostname()]
    worker = max(here or workers, key=lambda w: w.beat_at)
    age = (datetime.now(UTC) - datetime.fromisoformat(worker.beat_at)).total_seconds()
    hosts = sum(len(w.hosts) for w in live)
    summary = (
        f"{_count(len(live), 'live worker')} hold{'s' if len(live) == 1 else ''} {_count(hosts, 'feed host')}"
    )
    if not worker.live or age > limit:
        click.echo(
            f"unhealthy: worker {worker.id} last heartbeat {age:.0f}s ago"
            f"{' (stopped)' if worker.stopped_at else ''}; {summary}",
            err=True,
        )
        ctx.exit(1)
    click.echo(
        f"ok: worker {worker.id} pid {worker.pid} alive, last heartbeat {age:.0f}s ago, since "
        f"{worker.started_at}, holding {_count(len(worker.hosts), 'feed host')}; {summary}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


WORKER_COLUMNS = ["id", "state", "pid", "beat_at", "started_at", "polls_last_hour", "hosts"]


@click.command()
@format_option()
@click.pass_context
def workers(ctx: click.Context, fmt: str) -> None:
    """The workers polling this archive: live ones, and those that stopped (or were lost) in the last hour.

    Each `monitor run` on a PostgreSQL archive is a worker: it leases the feed hosts of its share of the
    sources (one worker at a time polls a host's feeds) and renews the leases every third of
    `workers.lease` (60s by default). A worker that dies is "lost" once its lease runs out, and the others
    take its hosts over. A SQLite archive has one daemon, shown from its heartbeat.

    \b
    Examples:
      monitor workers
      monitor workers --format json | jq '.[] | select(.live) | .hosts | length'
    """
    settings: Settings = load_settings(ctx)
    if not archive_exists(settings):
        click.echo(f"no archive at {settings.archive_display}", err=True)
        ctx.exit(1)
    found = open_reader(ctx).workers(datetime.now(UTC))
    if fmt != "table":
        rows = [as_row(worker) for worker in found]
        click.echo(render(rows, field_names(WorkerStatus), fmt), nl=False)
        return
    rows = [
        {
            **as_row(worker),
            "id": worker.id,
            "state": "live" if worker.live else "stopped" if worker.stopped_at else "lost",
            "beat_at": worker.beat_at[:19].replace("T", " "),
            "started_at": worker.started_at[:19].replace("T", " "),
            "hosts": ", ".join(worker.hosts) or "-",
        }
        for worker in found
    ]
    click.echo(render(rows, WORKER_COLUMNS, fmt) or "no worker has run on this archive\n", nl=False)


COMMANDS = [run, check, workers]
