"""Commands about the configured sources: ``sources`` (their state), ``sources opml``, ``discover``."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import click

from monitor.cli.options import archive_exists, format_option, load_settings, open_reader, pass_settings
from monitor.config import Settings
from monitor.errors import MonitorError
from monitor.formats import render
from monitor.models import SourceStatus
from monitor.opml import sources_opml
from monitor.schedule import feed_host
from monitor.status import source_statuses

TABLE_COLUMNS = [
    "id",
    "kind",
    "state",
    "next_poll",
    "interval",
    "errors",
    "304",
    "articles_24h",
    "articles",
    "worker",
    "last_error",
]
COLUMNS = [
    "id",
    "name",
    "kind",
    "url",
    "enabled",
    "state",
    "articles",
    "articles_24h",
    "last_polled_at",
    "next_poll_at",
    "last_success_at",
    "interval_s",
    "last_status",
    "last_error",
    "error_count",
    "polls",
    "not_modified_share",
    "moved_from",
    "worker",
]


@click.group(invoke_without_command=True)
@format_option()
@click.pass_context
def sources(ctx: click.Context, fmt: str) -> None:
    """Each configured source: kind, state, schedule, errors, traffic saved, recent articles.

    State is ok, erroring (the last poll failed; it is retried with backoff), dead (404/410 over and over;
    retried daily), disabled, or never polled. NOT_MODIFIED is the share of polls answered 304 or with an
    unchanged body. WORKER is the running worker that polls the source's feed host (see `monitor workers`):
    on a SQLite archive its one daemon, on a PostgreSQL one the worker holding the host's lease.

    \b
    Examples:
      monitor sources
      monitor sources --format json | jq '.[] | select(.state != "ok") | .id'
      monitor sources discover https://www.example-news.com/
    """
    if ctx.invoked_subcommand is not None:
        return
    statuses, holders = _statuses(ctx)
    rows = [{**asdict(status), "worker": holders.get(feed_host(status.url), "")} for status in statuses]
    if fmt == "table":
        for row in rows:
            row["interval"] = _human_seconds(row["interval_s"])
            row["next_poll"] = (row["next_poll_at"] or "now")[:16].replace("T", " ")
            row["304"] = f"{row['not_modified_share']:.0%}" if row["not_modified_share"] is not None else ""
            row["errors"] = row["error_count"] or ""
            row["last_error"] = row["last_error"] or (
                f"moved from {row['moved_from']}" if row["moved_from"] else ""
            )
        click.echo(render(rows, TABLE_COLUMNS, fmt) or "no sources configured\n", nl=False)
        return
    click.echo(render(rows, COLUMNS, fmt), nl=False)


def _statuses(ctx: click.Context) -> tuple[list[SourceStatus], dict[str, str]]:
    """What the config lists, in its order, with what the archive knows of each (if there is an archive),
    and which worker holds each feed host."""
    settings = load_settings(ctx)
    if not archive_exists(settings):
        return source_statuses(settings.resolved_sources(), []), {}
    reader = open_reader(ctx)
    known = reader.source_statuses(datetime.now(UTC))
    return source_statuses(settings.resolved_sources(), known), reader.host_holders()


def _human_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            value = seconds / size
            return f"{value:.0f}{unit}" if value >= 10 or value.is_integer() else f"{value:.1f}{unit}"
    return f"{seconds:.0f}s"


@sources.command()
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="Write here instead of stdout.",
)
@pass_settings
def opml(settings: Settings, output: Any) -> None:
    """The configured feeds as OPML 2.0, for feed readers and other monitors (sitemaps and section pages
    are listed with their kind).

    \b
    Examples:
      monitor sources opml > sources.opml
    """
    output.write(sources_opml(settings.resolved_sources()))


@sources.command()
@click.argument("url")
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Also try the common feed paths (/feed, /rss, /rss.xml, ...).",
)
@click.pass_context
def discover(ctx: click.Context, url: str, probe: bool) -> None:
    """Find the feeds a site offers, ready to paste into config.yaml.

    Reads the homepage's <link rel="alternate"> feeds, then tries the common paths (/feed, /rss, /rss.xml,
    /atom.xml, /sitemap_news.xml, ...) and keeps those that answer with a feed or a news sitemap.
    Obeys http.allow_private_networks and the User-Agent of the config.

    \b
    Examples:
      monitor sources discover https://www.example-news.com/
      monitor sources discover https://www.example-news.com/ --no-probe >> config.yaml
    """
    from monitor.discovery import discover_feeds

    settings = load_settings(ctx)
    try:
        found = asyncio.run(discover_feeds(settings.http, url, probe=probe))
    except MonitorError as exc:
        raise click.ClickException(str(exc)) from None
    if not found:
        click.echo(f"no feeds found at {url}", err=True)
        ctx.exit(1)
    click.echo("sources:")
    for candidate in found:
        comment = f"  # {candidate.title}" if candidate.title else ""
        click.echo(f"  - id: {candidate.suggested_id}{comment}")
        if candidate.kind == "feed":
            click.echo(f"    feed: {candidate.url}")
        else:
            click.echo(f"    kind: {candidate.kind}\n    url: {candidate.url}")


COMMANDS = [sources]
