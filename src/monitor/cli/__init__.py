"""The ``monitor`` command: a thin shell that turns arguments into library calls and results into output.

Exit codes: 0 success; 1 a runtime failure (archive missing, article not found); 2 bad usage (invalid
config, unknown source, a query that does not parse).

The group is here; the commands live in one module per family (polling, reading, sources, watches, tools)
and what they share (settings loaded once, the archive opened once, common flags) in :mod:`.options`.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from monitor._version import __version__
from monitor.cli import polling, reading, sources, tools, watches
from monitor.cli.options import DEFAULT_CONFIG, UsageProblem
from monitor.errors import MonitorError, QueryError, UnknownSourceError
from monitor.logs import setup_logging

__all__ = ["cli", "main"]


class MonitorGroup(click.Group):
    """Turns library errors into clean messages and exit codes: usage problems 2, the rest 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (QueryError, UnknownSourceError) as exc:
            raise UsageProblem(str(exc)) from None
        except MonitorError as exc:
            raise click.ClickException(str(exc)) from None


def _setup_logging(verbose: int, quiet: bool, log_format: str) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 0 else logging.INFO
    setup_logging(level=level, json_lines=log_format == "json", verbose_libraries=verbose > 1)


@click.group(
    cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option(
    "-c",
    "--config",
    "config",
    envvar="MONITOR_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Config file (or set MONITOR_CONFIG).",
)
@click.option(
    "--archive",
    envvar="MONITOR_ARCHIVE",
    metavar="PATH|URL",
    help="Archive (a SQLite file or a postgresql:// URL), overriding the config's `archive` "
    "(or set MONITOR_ARCHIVE).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv includes HTTP library logs).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="MONITOR_LOG_FORMAT",
    help="json: one object per line, for log shippers (or MONITOR_LOG_FORMAT).",
)
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(
    ctx: click.Context, config: str, archive: str | None, verbose: int, quiet: bool, log_format: str
) -> None:
    """Watch what news outlets publish: poll their feeds, archive every article in SQLite, search it.

    \b
    Start here:
      monitor run --once            poll every source once, then exit
      monitor run                   keep polling on each source's interval
      monitor search 'Maduro AND Iran'
      monitor sources               what each source did last time
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    ctx.obj["archive"] = archive
    _setup_logging(verbose, quiet, log_format)


for family in (polling, reading, sources, watches, tools):
    for command in family.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli(prog_name="monitor")
