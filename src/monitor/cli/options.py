"""What every command shares: the usage error, settings loaded once, the archive opened once and closed when
the command ends, and the flags several commands spell the same way (``--format``, ``--source``,
``--since``/``--until``, ``--limit``), as sqlite-utils' option decorators and reader's ``pass_reader``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import click
from click.core import ParameterSource

from monitor.config import Settings, load_config, parse_archive, validate_config
from monitor.errors import ConfigError
from monitor.formats import FORMATS
from monitor.logs import add_secrets, redact_credentials
from monitor.moments import parse_moment
from monitor.store import ArchiveReader, open_archive

DEFAULT_CONFIG = "config.yaml"

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


class UsageProblem(click.ClickException):
    """Bad usage: exit code 2, as click's own usage errors."""

    exit_code = 2


def read_settings(config: Path | None, archive: str | None, archive_from: str = "--archive") -> Settings:
    """The config file (``None``: no file, the defaults), with ``--archive`` (or ``MONITOR_ARCHIVE``, named
    by ``archive_from``) applied and its secrets given to the log redactor, at start and on every SIGHUP
    reload. A relative ``--archive`` path is taken from the current folder."""
    settings = load_config(config) if config is not None else validate_config({}, base_dir=Path.cwd())
    if archive:
        try:
            location = parse_archive(archive)
        except ValueError as exc:
            shown = redact_credentials(repr(archive))
            raise ConfigError(
                [f"archive (from {archive_from}): {shown} {exc}"], str(config) if config else None
            ) from None
        settings = settings.model_copy(update={"archive": location})
    add_secrets(settings.secrets())
    return settings


def archive_exists(settings: Settings) -> bool:
    """Whether there is an archive to read: the SQLite file exists. A PostgreSQL archive is asked when it is
    opened (a missing one is the store's error to report)."""
    return not isinstance(settings.archive, Path) or settings.archive.exists()


def load_settings(ctx: click.Context, *, file_optional: bool = False) -> Settings:
    """The settings of this invocation, read once; an invalid config is reported and exits 2.

    With ``file_optional``, a missing config file at the default path (no ``-c``, no ``MONITOR_CONFIG``)
    means the defaults: for commands such as ``extract FILE`` that need nothing from a config."""
    obj = ctx.find_object(dict)
    assert obj is not None, "the monitor group sets ctx.obj"
    if "settings" not in obj:
        path: Path | None = Path(obj["config"])
        source = ctx.find_root().get_parameter_source("config")
        if file_optional and source is ParameterSource.DEFAULT and path is not None and not path.exists():
            path = None
        try:
            obj["settings"] = read_settings(path, obj.get("archive"), archive_source(ctx))
        except ConfigError as exc:
            lines = [f"monitor: invalid configuration in {exc.path or path}:"]
            lines += [f"  {problem}" for problem in exc.problems]
            click.echo("\n".join(lines), err=True)
            ctx.exit(2)
    settings: Settings = obj["settings"]
    return settings


def reloader(ctx: click.Context) -> Callable[[], Settings]:
    """What the daemon calls on SIGHUP: the config read again (a ConfigError is the daemon's to report)."""
    obj = ctx.find_object(dict)
    assert obj is not None
    archive_from = archive_source(ctx)
    return lambda: read_settings(Path(obj["config"]), obj.get("archive"), archive_from)


def archive_source(ctx: click.Context) -> str:
    """Which of ``--archive`` or ``MONITOR_ARCHIVE`` gave the archive, for messages."""
    source = ctx.find_root().get_parameter_source("archive")
    return "MONITOR_ARCHIVE" if source is ParameterSource.ENVIRONMENT else "--archive"


def open_reader(ctx: click.Context) -> ArchiveReader:
    """The archive, opened read-only once per invocation and closed when the command ends."""
    obj = ctx.find_object(dict)
    assert obj is not None
    if "reader" not in obj:
        archive = open_archive(load_settings(ctx).archive, readonly=True)
        obj["reader"] = archive
        ctx.call_on_close(archive.close)
    reader: ArchiveReader = obj["reader"]
    return reader


def pass_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Call the command with the settings as its first argument."""

    @functools.wraps(command)
    def with_settings(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(load_settings(click.get_current_context()), *args, **kwargs)

    return with_settings


def pass_archive(command: Callable[Concatenate[ArchiveReader, P], R]) -> Callable[P, R]:
    """Call the command with the archive (read-only) as its first argument; it is closed afterwards."""

    @functools.wraps(command)
    def with_archive(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(open_reader(click.get_current_context()), *args, **kwargs)

    return with_archive


def invoked_at(ctx: click.Context) -> datetime:
    """One "now" per invocation, so that ``--since 7d --until 1d`` are measured from the same moment."""
    meta = ctx.find_root().meta
    now: datetime = meta.setdefault("monitor.now", datetime.now(UTC))
    return now


def when(value: str | None, *, now: datetime) -> datetime | None:
    """``2024-06-01``, ``2024-06-01T12:00``, or a duration ago such as ``7d``, ``12h``; else exit 2."""
    if value is None:
        return None
    try:
        return parse_moment(value, now=now)
    except ValueError:
        raise UsageProblem(f"{value!r} is not a date like 2024-06-01, 2024-06-01T12:00Z, or 7d") from None


def _moment(ctx: click.Context, _: click.Parameter, value: str | None) -> datetime | None:
    return when(value, now=invoked_at(ctx))


def format_option(
    choices: tuple[str, ...] = FORMATS,
    default: str = "table",
    help: str = "table for people; json, jsonl or csv for other programs.",
) -> Callable[[F], F]:
    """``--format`` (the parameter ``fmt``)."""
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help=help
    )


def sources_option(help: str = "Only articles from this source (repeatable).") -> Callable[[F], F]:
    """``--source ID``, repeatable (the parameter ``sources``, a tuple)."""
    return click.option("--source", "sources", multiple=True, metavar="ID", help=help)


def since_option(
    help: str = "Published at or after: 2024-06-01, 2024-06-01T12:00Z, or 7d ago.",
) -> Callable[[F], F]:
    """``--since DATE``, parsed to an aware datetime (a bad date is a usage error, exit 2)."""
    return click.option("--since", metavar="DATE", callback=_moment, help=help)


def until_option(
    help: str = "Published before this date (same forms as --since).",
) -> Callable[[F], F]:
    return click.option("--until", metavar="DATE", callback=_moment, help=help)


def limit_option(default: int, help: str = "At most this many rows.") -> Callable[[F], F]:
    return click.option("--limit", type=click.IntRange(min=1), default=default, show_default=True, help=help)
