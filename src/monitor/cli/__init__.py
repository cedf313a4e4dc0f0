"""The ``monitor`` command: a thin shell that turns arguments into library calls and results into output.

Exit codes: 0 success; 1 a runtime failure (archive missing, article not found); 2 bad usage (invalid
config, unknown source, a query that does not parse).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import difflib
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from monitor import web
from monitor._version import __version__
from monitor.config import Settings, load_config, parse_duration
from monitor.errors import ConfigError, MonitorError, QueryError, UnknownSourceError
from monitor.formats import FORMATS, render
from monitor.logs import add_secrets, setup_logging
from monitor.models import SearchQuery, SourceStatus
from monitor.parquet import write_parquet
from monitor.query import parse
from monitor.store import SQLiteArchive

DEFAULT_CONFIG = "config.yaml"


class UsageProblem(click.ClickException):
    exit_code = 2


class MonitorGroup(click.Group):
    """Turns library errors into clean messages and exit codes: usage problems 2, the rest 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (QueryError, UnknownSourceError) as exc:
            raise UsageProblem(str(exc)) from None
        except MonitorError as exc:
            raise click.ClickException(str(exc)) from None


def _load(ctx: click.Context) -> Settings:
    path = Path(ctx.obj["config"])
    try:
        settings = load_config(path)
    except ConfigError as exc:
        lines = [f"monitor: invalid configuration in {exc.path or path}:"]
        lines += [f"  {problem}" for problem in exc.problems]
        click.echo("\n".join(lines), err=True)
        ctx.exit(2)
        raise AssertionError("unreachable") from None
    if ctx.obj.get("archive"):
        settings = settings.model_copy(update={"archive": Path(ctx.obj["archive"])})
    add_secrets(settings.secrets())
    return settings


def _reload(ctx: click.Context) -> Settings:
    settings = load_config(Path(ctx.obj["config"]))
    if ctx.obj.get("archive"):
        settings = settings.model_copy(update={"archive": Path(ctx.obj["archive"])})
    return settings


def _archive(settings: Settings) -> SQLiteArchive:
    return SQLiteArchive(settings.archive, readonly=True)


def _setup_logging(verbose: int, quiet: bool, log_format: str) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose > 0 else logging.INFO
    setup_logging(level=level, json_lines=log_format == "json", verbose_libraries=verbose > 1)


def _when(value: str | None, *, now: datetime) -> datetime | None:
    """``2024-06-01``, ``2024-06-01T12:00``, or a duration ago such as ``7d``, ``12h``."""
    if value is None:
        return None
    text = value.strip()
    problem = UsageProblem(f"{value!r} is not a date like 2024-06-01, 2024-06-01T12:00Z, or 7d")
    try:
        if re.fullmatch(r"\d+(\.\d+)?\s*[smhd]", text):
            return now - timedelta(seconds=parse_duration(text))
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise problem from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json, jsonl or csv for other programs.",
)


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
    type=click.Path(dir_okay=False),
    help="Archive file, overriding the config's `archive` (or set MONITOR_ARCHIVE).",
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


@cli.command()
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

    settings = _load(ctx)
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
            asyncio.run(run_forever(settings, reload=lambda: _reload(ctx), metrics=metrics))
    except asyncio.CancelledError:
        click.echo("interrupted: polls still running were not recorded; the archive is intact", err=True)
        ctx.exit(130)


@cli.command()
@click.argument("query")
@click.option(
    "--source", "sources", multiple=True, metavar="ID", help="Only articles from this source (repeatable)."
)
@click.option(
    "--since", metavar="DATE", help="Published at or after: 2024-06-01, 2024-06-01T12:00Z, or 7d ago."
)
@click.option("--until", metavar="DATE", help="Published before this date (same forms as --since).")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many rows."
)
@click.option(
    "--sort",
    type=click.Choice(["date", "rank"]),
    default="date",
    show_default=True,
    help="Newest first, or best match first.",
)
@click.option("--collapse", is_flag=True, help="One row per story: the original, with its number of copies.")
@click.option(
    "--lang", "languages", multiple=True, metavar="CODE", help="Only articles in this language (repeatable)."
)
@click.option(
    "--tag", "tags", multiple=True, metavar="TAG", help="Only sources with this config tag (repeatable)."
)
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matching articles.")
@click.option("--watch", "watch_id", metavar="ID", help="Also require a configured watch's query (AND).")
@click.option(
    "--highlight/--no-highlight", default=None, help="Mark matches in snippets (default: on a terminal)."
)
@format_option
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    limit: int,
    sort: str,
    collapse: bool,
    languages: tuple[str, ...],
    tags: tuple[str, ...],
    count_only: bool,
    watch_id: str | None,
    highlight: bool | None,
    fmt: str,
) -> None:
    """Full-text search of titles and bodies, in every script (see README, Search).

    \b
    Query language:
      maduro iran               both words, anywhere
      "maximum pressure"        the exact phrase
      maduro OR caracas         either word
      maduro NOT sanctions      the first without the second
      sanction*                 a prefix
      title:khamenei            only in the title (text: only in the body)
      al-Assad  covid-19        a word with inner punctuation: the phrase of its parts
      马杜罗  مقاومة  flood      any word of 2+ characters in CJK and Thai, Arabic without ال, English stems
    --sort rank orders by bm25, a match in the title weighing ten times one in the body.
    \b
    Examples:
      monitor search 'Maduro AND (Iran OR Tehran)' --since 7d
      monitor search khamenei --source almayadeen --format jsonl | jq .url
      monitor search '"maximum pressure"' --sort rank --limit 5 --format csv > hits.csv
      monitor search maduro --collapse      # one row per story, however many outlets ran it
    """
    settings = _load(ctx)
    now = datetime.now(UTC)
    if watch_id is not None:
        watch = next((w for w in settings.watches if w.id == watch_id), None)
        if watch is None:
            known = ", ".join(w.id for w in settings.watches) or "(none)"
            raise UsageProblem(f"unknown watch {watch_id}; configured: {known}")
        parse(query)  # a mistake is reported at its position in what was typed
        query = f"({watch.query}) AND ({query})"
    marks = ("\x1b[1m", "\x1b[0m") if (sys.stdout.isatty() if highlight is None else highlight) else ("", "")
    if highlight and not sys.stdout.isatty():
        marks = ("[", "]")
    request = SearchQuery(
        query=query,
        highlight=marks,
        sources=sources,
        since=_when(since, now=now),
        until=_when(until, now=now),
        sort=sort,
        limit=limit,
        collapse=collapse,
        languages=languages,
        tags=tags,
    )
    archive = _archive(settings)
    try:
        if count_only:
            click.echo(archive.count(request))
            return
        hits = archive.search(request)
    finally:
        archive.close()
    rows = [asdict(hit) for hit in hits]
    if fmt == "table":
        if not rows:
            click.echo("no matches", err=True)
            return
        for row in rows:
            date = (row["published_at"] or "")[:10] or "          "
            copies = f"  [+{row['copies']} copies]" if row.get("copies") else ""
            click.echo(f"{row['id']:>6}  {date}  {row['source']}  {row['title'] or '(untitled)'}{copies}")
            click.echo(f"        {row['snippet']}")
            click.echo(f"        {row['url']}")
        return
    columns = ["id", "url", "source", "title", "authors", "published_at", "language", "snippet"]
    if collapse:
        columns.append("copies")
    click.echo(render(rows, columns, fmt), nl=False)


@cli.command()
@click.argument("id_or_url")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for reading; json (with the full text, every known URL, copies, revisions) for programs.",
)
@click.option("--revisions", is_flag=True, help="Also print a unified diff of each revision, oldest first.")
@click.pass_context
def show(ctx: click.Context, id_or_url: str, fmt: str, revisions: bool) -> None:
    """Print one archived article, by id or by any URL it is known under, with the other copies of its story
    (outlet, URL, similarity, credited source) and how many times it was edited.

    \b
    Examples:
      monitor show 42
      monitor show https://english.almayadeen.net/news/politics/some-story
      monitor show 42 --revisions
      monitor show 42 --format json | jq -r .text
    """
    settings = _load(ctx)
    archive = _archive(settings)
    try:
        article = archive.get_article(id_or_url)
        story = archive.story(article["id"])
        versions = archive.revisions(article["id"])
    finally:
        archive.close()
    article["attribution"] = json.loads(article["attribution"]) if article.get("attribution") else None
    article["copies"] = [member for member in story if member["id"] != article["id"]]
    article["revisions"] = versions
    if fmt == "json":
        click.echo(json.dumps(article, ensure_ascii=False, indent=2))
        return
    credit = article["attribution"]
    header: list[tuple[str, Any]] = [
        ("id", article["id"]),
        ("source", article["source"]),
        ("url", article["url"]),
        ("authors", ", ".join(article["authors"])),
        ("published", article["published_at"]),
        ("fetched", article["fetched_at"]),
        ("language", article["language"]),
        ("image", article["image"]),
        ("extraction", article["extraction"]),
        ("credits", f"{credit['name']} ({credit['line']})" if credit else None),
        (
            "copy of",
            f"#{article['duplicate_of']} ({article['duplicate_score']:.2f})"
            if article["duplicate_of"]
            else None,
        ),
        ("revisions", len(versions) or None),
    ]
    click.echo(article["title"] or "(untitled)")
    click.echo("=" * min(78, len(article["title"] or "(untitled)")))
    for name, value in header:
        if value:
            click.echo(f"{name + ':':<12}{value}")
    for url in (url for url in article["urls"] if url != article["url"]):
        click.echo(f"{'also at:':<12}{url}")
    if article["copies"]:
        click.echo(f"\nStory: {len(story)} copies")
        for member in story:
            role = "original" if member["duplicate_of"] is None else f"{member['duplicate_score'] or 0:.2f}"
            marker = "*" if member["id"] == article["id"] else " "
            credited = f"  credits {member['attribution']['name']}" if member["attribution"] else ""
            click.echo(
                f" {marker}{member['id']:>6}  {role:<8}  {member['source']:<14} {member['url']}{credited}"
            )
    click.echo()
    click.echo(article["text"] or article["summary"] or "(no text)")
    if revisions:
        newer = [
            *versions[1:],
            {"fetched_at": article["fetched_at"], "title": article["title"], "text": article["text"]},
        ]
        for old, new in zip(versions, newer, strict=True):
            click.echo(
                f"\n--- revision {old['id']}: as fetched {old['fetched_at']}, replaced {old['replaced_at']}"
            )
            click.echo("".join(_unified_diff(old, new)), nl=False)


def _unified_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before = [f"# {old['title'] or ''}", "", *old["text"].split("\n")]
    after = [f"# {new['title'] or ''}", "", *new["text"].split("\n")]
    return [
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(before, after, old["fetched_at"], new["fetched_at"], lineterm="")
    ]


@cli.command()
@click.argument("query", required=False)
@click.option(
    "--source", "sources", multiple=True, metavar="ID", help="Only articles from this source (repeatable)."
)
@click.option(
    "--since", metavar="DATE", help="Published at or after: 2024-06-01, 2024-06-01T12:00Z, or 7d ago."
)
@click.option("--until", metavar="DATE", help="Published before this date (same forms as --since).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one article per line (authors, keywords and attribution as JSON); csv: a header row; "
    "parquet: typed columns, needs -o FILE and the extra monitor[parquet].",
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="Write here instead of stdout.",
)
@click.pass_context
def export(
    ctx: click.Context,
    query: str | None,
    sources: tuple[str, ...],
    since: str | None,
    until: str | None,
    fmt: str,
    output: Any,
) -> None:
    """Stream articles, full text included, oldest first, in constant memory (any archive size).

    With QUERY, only the articles matching it (as in `monitor search`). A progress bar is
    shown on a terminal.

    \b
    Examples:
      monitor export > archive.jsonl
      monitor export 'maduro AND iran' --since 30d --format csv -o maduro.csv
      monitor export --source almayadeen | jq -r .title
      monitor export --format parquet -o archive.parquet   # then: duckdb -c "from 'archive.parquet'"
    """
    settings = _load(ctx)
    if fmt == "parquet" and output.name in ("-", "<stdout>"):
        raise UsageProblem("--format parquet writes a file, not a stream: add -o FILE.parquet")
    now = datetime.now(UTC)
    request = SearchQuery(
        query=query or "", sources=sources, since=_when(since, now=now), until=_when(until, now=now)
    )
    archive = _archive(settings)
    columns = list(SQLiteArchive.EXPORT_COLUMNS)
    try:
        # a progress bar only for a person watching a terminal, never mixed into piped output
        show_progress = sys.stderr.isatty() and (output.name != "<stdout>" or not sys.stdout.isatty())
        total = archive.count_articles(request) if show_progress else 0
        with (
            click.progressbar(length=total, label="exporting", file=sys.stderr)
            if show_progress
            else _nothing() as bar
        ):
            if fmt == "parquet":
                write_parquet(
                    archive.iter_articles(request),
                    Path(output.name),
                    progress=bar.update if bar is not None else None,
                )
                return
            output.write("")  # -o FILE exists afterwards even when nothing matched
            writer = csv.writer(output, lineterminator="\n") if fmt == "csv" else None
            if writer is not None:
                writer.writerow(columns)
            for record in archive.iter_articles(request):
                if writer is not None:
                    writer.writerow([_csv_cell(record[c]) for c in columns])
                else:
                    output.write(json.dumps(record, ensure_ascii=False) + "\n")
                if bar is not None:
                    bar.update(1)
    finally:
        archive.close()


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


@cli.command()
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing new articles as they are archived (Ctrl-C stops)."
)
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the newest articles to print first.",
)
@click.option(
    "--source", "sources", multiple=True, metavar="ID", help="Only articles from this source (repeatable)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl"]),
    default="table",
    show_default=True,
    help="table for people; jsonl (one object per line, flushed) for pipes.",
)
@click.pass_context
def tail(ctx: click.Context, follow: bool, lines: int, sources: tuple[str, ...], fmt: str) -> None:
    """The newest articles; with -f, new ones as the daemon archives them (the archive is read, not locked).

    \b
    Examples:
      monitor tail
      monitor tail -f --source almayadeen
      monitor tail -f -n 0 --format jsonl | jq -r .title
    """
    settings = _load(ctx)
    archive = _archive(settings)

    def emit(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                when = (row["published_at"] or row["fetched_at"] or "")[:16].replace("T", " ")
                click.echo(f"{row['id']:>7}  {when}  {row['source']:<14} {row['title'] or '(untitled)'}")
        sys.stdout.flush()

    try:
        rows = archive.latest(after_id=None, limit=max(lines, 1), sources=sources)
        last = rows[-1]["id"] if rows else 0
        emit(rows[-lines:] if lines else [])
        while follow:
            time.sleep(TAIL_EVERY_S)
            rows = archive.latest(after_id=last, limit=1000, sources=sources)
            if rows:
                last = rows[-1]["id"]
                emit(rows)
    except KeyboardInterrupt:
        pass
    finally:
        archive.close()


TAIL_EVERY_S = 1.0


@cli.command()
@click.option("--since", metavar="DATE", help="Stories last published at or after: 2024-06-01, or 7d ago.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many stories."
)
@format_option
@click.pass_context
def duplicates(ctx: click.Context, since: str | None, limit: int, fmt: str) -> None:
    """Stories published by more than one outlet: who republished whom.

    Each row is a story's original (the earliest copy) with its number of copies and the outlets that
    carried it; `monitor show ID` lists the copies with their similarity and credited sources.

    \b
    Examples:
      monitor duplicates --since 7d
      monitor duplicates --format csv > syndication.csv
    """
    settings = _load(ctx)
    archive = _archive(settings)
    try:
        rows = archive.duplicates(since=_when(since, now=datetime.now(UTC)), limit=limit)
    finally:
        archive.close()
    if fmt == "table":
        for row in rows:
            row["outlets"] = ", ".join(row["sources"])
        columns = ["id", "published_at", "source", "copies", "outlets", "title"]
        click.echo(render(rows, columns, fmt) or "no stories with copies in more than one outlet\n", nl=False)
        return
    columns = ["id", "url", "source", "title", "published_at", "copies", "outlets", "sources", "latest"]
    click.echo(render(rows, columns, fmt), nl=False)


@cli.group(invoke_without_command=True)
@format_option
@click.pass_context
def sources(ctx: click.Context, fmt: str) -> None:
    """Each configured source: kind, state, schedule, errors, traffic saved, recent articles.

    State is ok, erroring (the last poll failed; it is retried with backoff), dead (404/410 over and over;
    retried daily), disabled, or never polled. NOT_MODIFIED is the share of polls answered 304 or with an
    unchanged body.

    \b
    Examples:
      monitor sources
      monitor sources --format json | jq '.[] | select(.state != "ok") | .id'
      monitor sources discover https://www.example-news.com/
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = _load(ctx)
    rows = [asdict(status) for status in _statuses(settings)]
    if fmt == "table":
        for row in rows:
            row["interval"] = _human_seconds(row["interval_s"])
            row["next_poll"] = (row["next_poll_at"] or "now")[:16].replace("T", " ")
            row["304"] = f"{row['not_modified_share']:.0%}" if row["not_modified_share"] is not None else ""
            row["errors"] = row["error_count"] or ""
            row["last_error"] = row["last_error"] or (
                f"moved from {row['moved_from']}" if row["moved_from"] else ""
            )
        columns = [
            "id",
            "kind",
            "state",
            "next_poll",
            "interval",
            "errors",
            "304",
            "articles_24h",
            "articles",
            "last_error",
        ]
        click.echo(render(rows, columns, fmt) or "no sources configured\n", nl=False)
        return
    columns = [
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
    ]
    click.echo(render(rows, columns, fmt), nl=False)


def _statuses(settings: Settings) -> list[SourceStatus]:
    """What the config lists, in its order, with what the archive knows of each (if there is an archive)."""
    known: dict[str, SourceStatus] = {}
    if settings.archive.exists():
        archive = _archive(settings)
        try:
            known = {status.id: status for status in archive.source_statuses(datetime.now(UTC))}
        finally:
            archive.close()
    statuses = []
    for source in settings.resolved_sources():
        status = known.get(source.id)
        if status is None:
            status = SourceStatus(
                id=source.id,
                name=source.name,
                kind=source.kind,
                url=source.url,
                enabled=source.enabled,
                state="never polled" if source.enabled else "disabled",
                articles=0,
                articles_24h=0,
                last_polled_at=None,
                next_poll_at=None,
                last_success_at=None,
                interval_s=source.interval_s,
                last_status=None,
                last_error=None,
                error_count=0,
                polls=0,
                not_modified_share=None,
                moved_from=None,
            )
        elif status.enabled != source.enabled:  # the config changed since the daemon last read it
            status = replace(
                status, enabled=source.enabled, state="disabled" if not source.enabled else status.state
            )
        statuses.append(status)
    return statuses


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
@click.pass_context
def opml(ctx: click.Context, output: Any) -> None:
    """The configured feeds as OPML 2.0, for feed readers and other monitors (sitemaps and section pages
    are listed with their kind).

    \b
    Examples:
      monitor sources opml > sources.opml
    """
    from xml.sax.saxutils import quoteattr

    settings = _load(ctx)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>monitor sources</title></head>",
        "  <body>",
    ]
    for source in settings.resolved_sources():
        attributes = {
            "text": source.name,
            "title": source.name,
            "type": "rss" if source.kind == "feed" else source.kind,
            "xmlUrl" if source.kind == "feed" else "url": source.url,
        }
        if source.tags:
            attributes["category"] = ",".join(source.tags)
        if source.language:
            attributes["language"] = source.language
        rendered = " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    output.write("\n".join(lines) + "\n")


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

    settings = _load(ctx)
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


@cli.command()
@click.option(
    "--source", "sources", multiple=True, metavar="ID", help="Only articles of this source (repeatable)."
)
@click.option("--since", metavar="DATE", help="Only articles fetched at or after: 2024-06-01, or 7d ago.")
@click.option("--force", is_flag=True, help="Also re-read articles the current extractor already made.")
@click.pass_context
def reextract(ctx: click.Context, sources: tuple[str, ...], since: str | None, force: bool) -> None:
    """Run the current extractor again over the kept raw pages, updating text and metadata in place.

    Resumable: each article is marked with the extractor version that read it, so an interrupted run
    continues where it stopped and a second run has nothing to do. Needs `archive_raw: true` (the default)
    when the pages were fetched. Safe while the daemon runs.

    \b
    Examples:
      monitor reextract
      monitor reextract --source almayadeen --since 30d
      monitor reextract --force        # re-read everything
    """
    from monitor.reextract import reextract as run_reextract

    settings = _load(ctx)
    now = datetime.now(UTC)
    bar: Any = None

    def start(total: int) -> None:
        nonlocal bar
        bar = click.progressbar(length=total, label="re-extracting", file=sys.stderr)
        bar.__enter__()

    def progress(done: int) -> None:
        if bar is not None:
            bar.update(done)

    try:
        report = asyncio.run(
            run_reextract(
                settings,
                sources=sources,
                since=_when(since, now=now),
                force=force,
                now=now,
                on_start=start,
                on_progress=progress,
            )
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(
        f"re-extracted {report.seen} articles: {report.changed} changed, {report.failed} unreadable", err=True
    )


@cli.command()
@click.option(
    "--by", type=click.Choice(["source", "day", "lang"]), help="Count articles per outlet, day or language."
)
@click.argument("query", required=False)
@format_option
@click.pass_context
def stats(ctx: click.Context, by: str | None, query: str | None, fmt: str) -> None:
    """What the archive holds: counts and size per article (with and without the kept raw pages), or, with
    --by, how many articles per outlet, per day or per language (optionally only those matching QUERY).

    \b
    Examples:
      monitor stats
      monitor stats --by source
      monitor stats --by day 'maduro AND iran' --format csv
    """
    settings = _load(ctx)
    archive = _archive(settings)
    try:
        if by is None:
            sizes = archive.sizes()
            articles = max(sizes["articles"], 1)
            rows: list[dict[str, Any]] = [
                {"key": "articles", "count": sizes["articles"]},
                {"key": "stories", "count": sizes["stories"]},
                {"key": "revisions", "count": sizes["revisions"]},
                {"key": "sources", "count": sizes["sources"]},
                {"key": "raw pages kept", "count": sizes["raw_pages"]},
                {"key": "archive bytes", "count": sizes["bytes"]},
                {"key": "bytes per article", "count": sizes["bytes"] // articles},
                {
                    "key": "bytes per article without raw pages",
                    "count": (sizes["bytes"] - sizes["raw_bytes"]) // articles,
                },
            ]
        else:
            rows = archive.facets(by, query=query)
    finally:
        archive.close()
    if fmt == "table" and by is not None:
        peak = max((row["count"] for row in rows), default=0)
        width = max((len(str(row["key"])) for row in rows), default=0)
        for row in rows:
            bar_length = round(40 * row["count"] / peak) if peak else 0
            click.echo(f"{row['key']!s:<{width}}  {row['count']:>7}  {'█' * bar_length}")
        return
    click.echo(render(rows, ["key", "count"], fmt), nl=False)


@cli.command()
@click.argument("url_or_file")
@click.option("--source", metavar="ID", help="Apply this source's `selectors` from the config.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for reading; json for programs.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show each metadata field's value, where it came from and the candidates it beat.",
)
@click.pass_context
def extract(ctx: click.Context, url_or_file: str, source: str | None, fmt: str, explain: bool) -> None:
    """Try the extractor on one page and print what it finds: the tool for writing a source's selectors.

    Fetches a URL with the config's HTTP settings (address guard included), or reads a saved HTML file.
    With --source, the source's selectors apply and what the archive has learned of the source (its site
    name, template language, its feed's channel title and language) joins the evidence, as in a poll.

    \b
    Examples:
      monitor extract https://www.example-news.com/world/some-story
      monitor extract saved-page.html --source almayadeen
      monitor extract page.html --format json | jq .authors
      monitor extract page.html --explain
      monitor extract page.html --explain --format json | jq .title.candidates
    """
    from monitor.extract import extract_article
    from monitor.fetch import PAGE_ACCEPT, Fetcher

    settings = _load(ctx)
    selectors = None
    if source is not None:
        by_id = {s.id: s for s in settings.resolved_sources()}
        if source not in by_id:
            raise UnknownSourceError([source], list(by_id))
        selectors = by_id[source].selectors
    now = datetime.now(UTC)
    path = Path(url_or_file)
    if url_or_file.startswith(("http://", "https://")):

        async def fetch() -> tuple[bytes, str, str | None]:
            async with Fetcher(settings.http) as fetcher:
                result = await fetcher.get(url_or_file, accept=PAGE_ACCEPT)
                return result.content, result.final_url, result.charset

        content, url, charset = asyncio.run(fetch())
    elif path.is_file():
        content, url, charset = path.read_bytes(), path.resolve().as_uri(), None
    else:
        raise UsageProblem(f"{url_or_file!r} is neither an http(s) URL nor a readable file")
    page = extract_article(content, url=url, now=now, charset=charset, selectors=selectors)
    if explain:
        _explain(settings, page, source, fmt, now=now)
        return
    record = asdict(page)
    record.pop("evidence", None)
    record["url"] = url
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))
        return
    for name in (
        "url",
        "title",
        "authors",
        "published_at",
        "modified_at",
        "language",
        "section",
        "keywords",
        "outlet_name",
        "image",
        "canonical_url",
        "attribution",
        "summary",
    ):
        value = record[name]
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            value = f"{value['name']} ({value['line']})" + (f" <{value['url']}>" if value.get("url") else "")
        click.echo(f"{name + ':':<15}{value if value not in (None, '') else '-'}")
    click.echo(f"\n{page.text or '(no body text found)'}")


def _explain(settings: Settings, page: Any, source: str | None, fmt: str, *, now: datetime) -> None:
    """Print the decision for each metadata field (``extract --explain``)."""
    from monitor.articles import source_evidence
    from monitor.extract.decide import decide
    from monitor.extract.evidence import FeedEvidence, Moment

    feed, known = FeedEvidence(), None
    if source is not None:
        configured = {s.id: s for s in settings.resolved_sources()}[source]
        learned = None
        if Path(settings.archive).exists():
            archive = _archive(settings)
            try:
                learned = archive.poll_state(source).knowledge
                channel_title, channel_language = archive.channel(source)
            finally:
                archive.close()
            feed = FeedEvidence(channel_title=channel_title, channel_language=channel_language)
        known = source_evidence(configured, learned)
    chosen = decide(page.evidence, feed, known, fetched_at=now)

    def shown(value: object) -> object:
        if isinstance(value, Moment):
            return value.at.isoformat()
        if isinstance(value, tuple):
            return [shown(v) for v in value]
        return value

    report: dict[str, dict[str, Any]] = {
        name: {
            "value": shown(choice.value),
            "from": choice.source,
            "reason": choice.reason,
            "candidates": [{"value": shown(c.value), "from": c.source} for c in choice.candidates],
        }
        for name, choice in chosen.fields().items()
    }
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    for name, entry in report.items():
        value = entry["value"]
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        origin = f"  (from {entry['from']}" + (f": {entry['reason']}" if entry["reason"] else "") + ")"
        value = value if value not in (None, "", []) else "-"
        click.echo(f"{name + ':':<15}{value}{origin if entry['from'] else ''}")
        marked = False
        for candidate in entry["candidates"]:
            winner = not marked and candidate["from"] == entry["from"]
            marked = marked or winner
            mark = "*" if winner else " "
            shown_value = candidate["value"]
            if isinstance(shown_value, list):
                shown_value = "; ".join(str(v) for v in shown_value)
            click.echo(f"  {mark} {candidate['from'] + ':':<28}{shown_value}")


@cli.group(invoke_without_command=True)
@format_option
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
    settings = _load(ctx)
    rows: list[dict[str, Any]] = []
    if settings.archive.exists():
        archive = _archive(settings)
        try:
            rows = archive.watch_statuses(datetime.now(UTC))
        finally:
            archive.close()
    known = {row["id"]: row for row in rows}
    empty = {"matches_24h": 0, "matches_7d": 0, "matches": 0, "failing": 0, "pending": 0}
    rows = [known.get(w.id) or {"id": w.id, "query": w.query, **empty} for w in settings.watches]
    columns = ["id", "matches_24h", "matches_7d", "pending", "failing", "query"]
    click.echo(render(rows, columns, fmt) or "no watches configured\n", nl=False)


@watches.command("test")
@click.argument("query")
@click.option("--since", metavar="DATE", help="Only articles published at or after: 2024-06-01, or 7d ago.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many rows."
)
@format_option
@click.pass_context
def watches_test(ctx: click.Context, query: str, since: str | None, limit: int, fmt: str) -> None:
    """What a watch query would have matched in the archive (one row per story, newest first).

    \b
    Example:
      monitor watches test 'Maduro AND (Iran OR Tehran)' --since 30d
    """
    ctx.invoke(
        search,
        query=query,
        sources=(),
        since=since,
        until=None,
        limit=limit,
        sort="date",
        collapse=True,
        fmt=fmt,
    )


@cli.command()
@click.option("--watch", metavar="ID", help="Only this watch's matches.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many rows."
)
@format_option
@click.pass_context
def alerts(ctx: click.Context, watch: str | None, limit: int, fmt: str) -> None:
    """Recent matches of the watches, newest first, with their delivery state.

    NOTIFY is 0 for a copy of a story the watch had already matched (recorded, not sent again).

    \b
    Examples:
      monitor alerts
      monitor alerts --watch iran-venezuela --format jsonl
    """
    settings = _load(ctx)
    archive = _archive(settings)
    try:
        rows = archive.alerts(watch=watch, limit=limit)
    finally:
        archive.close()
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
    click.echo(render(rows, SQLiteArchive.ALERT_COLUMNS, fmt), nl=False)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any).")
@click.option(
    "--print-metadata",
    is_flag=True,
    help="Print the Datasette metadata (JSON) for this archive and exit, for `python -m monitor.web "
    "ARCHIVE --metadata` (Datasette with monitor's search plugin).",
)
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DATASETTE OPTIONS]")
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, print_metadata: bool, datasette_args: tuple[str, ...]
) -> None:
    """Browse and query the archive in Datasette (needs the extra: pip install 'monitor[web]').

    Full-text search on articles (the query language of `monitor search`, through monitor's Datasette
    plugin), column descriptions, facets by outlet and language, and canned queries: articles per outlet per
    day, latest matches per watch, copies of a story, most copied stories, source health. Read-only; safe
    beside a running daemon.

    \b
    Examples:
      monitor serve                          # http://127.0.0.1:8001/
      monitor serve --host 0.0.0.0 --port 8080
      monitor serve -- --setting sql_time_limit_ms 20000
      monitor serve --print-metadata > m.json && python -m monitor.web data/monitor.db -m m.json
    """
    settings = _load(ctx)
    if print_metadata:
        click.echo(
            json.dumps(web.metadata(web.database_name(settings.archive)), indent=2, ensure_ascii=False)
        )
        return
    if not settings.archive.exists():
        raise click.ClickException(f"no archive at {settings.archive}; `monitor run` creates it")
    click.echo(f"serving {settings.archive} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    ctx.exit(web.serve(settings.archive, host=host, port=port, extra=datasette_args))


@cli.command()
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
    settings = _load(ctx)
    try:
        limit = parse_duration(max_age)
    except ValueError:
        raise UsageProblem(f"--max-age {max_age!r} is not a duration like 2m, 30s") from None
    if not settings.archive.exists():
        click.echo(f"unhealthy: no archive at {settings.archive}", err=True)
        ctx.exit(1)
    archive = _archive(settings)
    try:
        beat = archive.heartbeat()
    finally:
        archive.close()
    if beat is None:
        click.echo("unhealthy: no daemon has run on this archive", err=True)
        ctx.exit(1)
    age = (datetime.now(UTC) - datetime.fromisoformat(beat["beat_at"])).total_seconds()
    if age > limit:
        click.echo(f"unhealthy: last heartbeat {age:.0f}s ago (pid {beat['pid']})", err=True)
        ctx.exit(1)
    click.echo(
        f"ok: daemon pid {beat['pid']} alive, last heartbeat {age:.0f}s ago, since {beat['started_at']}"
    )


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check the config file and print what it resolves to; exit 2 if it is invalid.

    \b
    Example:
      monitor -c config.yaml validate
    """
    settings = _load(ctx)
    click.echo(f"config: {Path(ctx.obj['config']).resolve()}")
    click.echo(f"archive: {settings.archive}")
    for source in settings.resolved_sources():
        state = "" if source.enabled else " (disabled)"
        how = (
            f"every {source.interval_s:g}s"
            if source.pinned
            else (
                f"adaptive {source.min_interval_s:g}s..{source.max_interval_s:g}s from {source.interval_s:g}s"
            )
        )
        click.echo(f"  {source.id}: {source.kind} {how} {source.url}{state}")


def main() -> None:
    cli(prog_name="monitor")
