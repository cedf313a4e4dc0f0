"""Commands about the watches: ``watches`` (their state), ``watches test``, ``alerts``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from monitor.cli.options import (
    archive_exists,
    format_option,
    limit_option,
    load_settings,
    open_reader,
    pass_archive,
    since_option,
)
from monitor.cli.reading import highlight_marks, print_search
from monitor.formats import render
from monitor.models import AlertRecord, SearchQuery, as_row, field_names
from monitor.status import watch_statuses
from monitor.store import ArchiveReader


@click.group(invoke_without_command=True)
@format_option()
@click.pass_context
def watches(ctx: click.Context, fmt: str) -> None:
    """Each configured watch: its query, matches in the last 24 hours and 7 days, and deliveries pending or
    failing.

    \b
    Examples:
      monitor watches
      monitor watches test 'Maduro AND (Iran OR Tehran)' --since 7d
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings(ctx)
    known = (
        [as_row(w) for w in open_reader(ctx).watch_statuses(datetime.now(UTC))]
        if archive_exists(settings)
        else []
    )
    rows = watch_statuses(settings.watches, known)
    columns = ["id", "matches_24h", "matches_7d", "pending", "failing", "query"]
    click.echo(render(rows, columns, fmt) or "no watches configured\n", nl=False)


@watches.command("test")
@click.argument("query")
@since_option("Only articles published at or after: 2024-06-01, or 7d ago.")
@limit_option(20)
@format_option()
@pass_archive
def watches_test(archive: ArchiveReader, query: str, since: datetime | None, limit: int, fmt: str) -> None:
    """What a watch query would have matched in the archive (one row per story, newest first).

    \b
    Example:
      monitor watches test 'Maduro AND (Iran OR Tehran)' --since 30d
    """
    request = SearchQuery(
        query=query, since=since, limit=limit, sort="date", collapse=True, highlight=highlight_marks(None)
    )
    print_search(archive, request, fmt)


@click.command()
@click.option("--watch", metavar="ID", help="Only this watch's matches.")
@limit_option(50)
@format_option()
@pass_archive
def alerts(archive: ArchiveReader, watch: str | None, limit: int, fmt: str) -> None:
    """Recent matches of the watches, newest first, with their delivery state.

    NOTIFY is 0 for a copy of a story the watch had already matched (recorded, not sent again).

    \b
    Examples:
      monitor alerts
      monitor alerts --watch iran-venezuela --format jsonl
    """
    rows = [as_row(alert) for alert in archive.alerts(watch=watch, limit=limit)]
    if fmt == "table":
        for row in rows:
            if row["delivered_at"]:
                row["state"] = "delivered"
            elif not row["notify"]:
                row["state"] = "copy"
            else:
                row["state"] = f"failing ({row['attempts']})" if row["last_error"] else "pending"
        columns = ["id", "watch", "matched_at", "state", "source", "title"]
        click.echo(render(rows, columns, fmt) or "no alerts\n", nl=False)
        return
    click.echo(render(rows, field_names(AlertRecord), fmt), nl=False)


COMMANDS = [watches, alerts]
