"""Commands that poll, and the one that says whether a daemon is polling: ``run``, ``check``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click

from monitor.cli.options import UsageProblem, archive_exists, load_settings, open_reader, reloader
from monitor.config import Settings, parse_duration


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
    archive: a second `monitor run` on the same archive is refused.

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
    beat = open_reader(ctx).heartbeat()
    if beat is None:
        click.echo("unhealthy: no daemon has run on this archive", err=True)
        ctx.exit(1)
    age = (datetime.now(UTC) - datetime.fromisoformat(beat.beat_at)).total_seconds()
    if age > limit:
        click.echo(f"unhealthy: last heartbeat {age:.0f}s ago (pid {beat.pid})", err=True)
        ctx.exit(1)
    click.echo(f"ok: daemon pid {beat.pid} alive, last heartbeat {age:.0f}s ago, since {beat.started_at}")


COMMANDS = [run, check]
