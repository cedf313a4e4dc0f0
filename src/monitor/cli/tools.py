"""Tools around the archive and the config: ``extract``, ``reextract``, ``serve``, ``validate``, ``copy``."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from monitor import web
from monitor.cli.options import (
    UsageProblem,
    archive_exists,
    invoked_at,
    load_settings,
    open_reader,
    since_option,
    sources_option,
)
from monitor.config import ArchiveLocation, PostgresURL, Settings, parse_archive
from monitor.errors import UnknownSourceError
from monitor.logs import add_secrets, redact_credentials
from monitor.store.copying import CopyRefused, CopyReport, copy_archive

EXTRACT_FIELDS = (
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
)


@click.command()
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
    Without a config file (none at the default path), the defaults apply.
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

    settings = load_settings(ctx, file_optional=True)
    selectors = None
    if source is not None:
        by_id = {s.id: s for s in settings.resolved_sources()}
        if source not in by_id:
            raise UnknownSourceError([source], list(by_id))
        selectors = by_id[source].selectors
    now = invoked_at(ctx)
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
        _explain(ctx, settings, page, source, fmt, now=now)
        return
    record = asdict(page)
    record.pop("evidence", None)
    record["url"] = url
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))
        return
    for name in EXTRACT_FIELDS:
        value = record[name]
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            value = f"{value['name']} ({value['line']})" + (f" <{value['url']}>" if value.get("url") else "")
        click.echo(f"{name + ':':<15}{value if value not in (None, '') else '-'}")
    click.echo(f"\n{page.text or '(no body text found)'}")


def _explain(
    ctx: click.Context, settings: Settings, page: Any, source: str | None, fmt: str, *, now: datetime
) -> None:
    """Print the decision for each metadata field (``extract --explain``)."""
    from monitor.articles import source_evidence
    from monitor.explain import explain_fields
    from monitor.extract.evidence import FeedEvidence

    feed, known = FeedEvidence(), None
    if source is not None:
        configured = {s.id: s for s in settings.resolved_sources()}[source]
        learned = None
        if archive_exists(settings):
            archive = open_reader(ctx)
            learned = archive.poll_state(source).knowledge
            channel_title, channel_language = archive.channel(source)
            feed = FeedEvidence(channel_title=channel_title, channel_language=channel_language)
        known = source_evidence(configured, learned)
    report = explain_fields(page.evidence, feed, known, fetched_at=now)
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


@click.command()
@sources_option("Only articles of this source (repeatable).")
@since_option("Only articles fetched at or after: 2024-06-01, or 7d ago.")
@click.option("--force", is_flag=True, help="Also re-read articles the current extractor already made.")
@click.pass_context
def reextract(ctx: click.Context, sources: tuple[str, ...], since: datetime | None, force: bool) -> None:
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

    settings = load_settings(ctx)
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
                since=since,
                force=force,
                now=invoked_at(ctx),
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


@click.command(context_settings={"ignore_unknown_options": True})
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
    settings = load_settings(ctx)
    archive = settings.archive
    if not isinstance(archive, Path):
        raise UsageProblem(
            f"monitor serve (Datasette) reads SQLite archives only, and {settings.archive_display} is a "
            "PostgreSQL archive: query it with psql or any PostgreSQL client"
        )
    if print_metadata:
        click.echo(json.dumps(web.metadata(web.database_name(archive)), indent=2, ensure_ascii=False))
        return
    if not archive.exists():
        raise click.ClickException(f"no archive at {archive}; `monitor run` creates it")
    click.echo(f"serving {archive} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    ctx.exit(web.serve(archive, host=host, port=port, extra=datasette_args))


@click.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check the config file and print what it resolves to; exit 2 if it is invalid.

    \b
    Example:
      monitor -c config.yaml validate
    """
    settings = load_settings(ctx)
    click.echo(f"config: {Path(ctx.obj['config']).resolve()}")
    click.echo(f"archive: {settings.archive_display}")
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


def _copy_location(value: str, name: str) -> ArchiveLocation:
    """FROM or TO as an archive location (a bad one is a usage error), its password given to the log
    redactor."""
    try:
        location = parse_archive(value)
    except ValueError as exc:
        raise UsageProblem(f"{name}: {redact_credentials(repr(value))} {exc}") from None
    if isinstance(location, PostgresURL):
        add_secrets(location.passwords)
    return location


@click.command("copy")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="TO")
@click.pass_context
def copy_command(ctx: click.Context, source: str, target: str) -> None:
    """Copy a whole archive into another: SQLite to PostgreSQL, PostgreSQL to SQLite, or alike.

    FROM and TO are each a SQLite file or a postgresql:// URL. Everything is copied with its ids: articles,
    stories, revisions, raw pages, URL aliases, sources with their poll state, watches and alerts, the
    fetch log; TO's search index is built as it goes. Then a daemon on TO continues where the one on FROM
    stopped, fetching no article again: stop the daemon on FROM, copy, point `archive:` at TO, start it.

    TO must be empty (a new file or an empty database) or an interrupted copy of FROM, which is resumed:
    run the same command again after Ctrl-C or a crash. FROM is read as it was when the copy started, so a
    daemon may keep running on it (what it archives later is not copied); none may run on TO. The counts
    of every table are compared at the end: exit 0 when they match, 1 when not, 2 when TO is refused.

    \b
    Examples:
      monitor copy data/monitor.db postgresql://monitor@db.example.com/monitor
      monitor copy postgresql://monitor@db.example.com/monitor backup.db
    """
    source_at = _copy_location(source, "FROM")
    target_at = _copy_location(target, "TO")
    bar: Any = None
    counted = {"total": 0, "done": 0, "said": -1}

    def start(total: int, done: int) -> None:
        nonlocal bar
        counted.update(total=total, done=min(done, total))
        if sys.stderr.isatty():
            bar = click.progressbar(length=max(total, 1), label="copying", file=sys.stderr)
            bar.__enter__()
            bar.update(min(done, total))
        else:  # a log or a pipe: a line at every tenth, not a bar's carriage returns
            say()

    def say() -> None:
        tenth = counted["done"] * 10 // max(counted["total"], 1)
        if tenth > counted["said"]:
            counted["said"] = tenth
            click.echo(f"copying: {counted['done']}/{counted['total']} rows ({tenth * 10}%)", err=True)

    def chunk(_: str, rows: int) -> None:
        if bar is not None:
            bar.update(rows)
        else:
            counted["done"] += rows
            say()

    try:
        report = copy_archive(source_at, target_at, on_start=start, on_chunk=chunk)
    except CopyRefused as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    _print_copy_report(report)
    if not report.verified:
        ctx.exit(1)


def _print_copy_report(report: CopyReport) -> None:
    """The counts per table on stdout; what happened on stderr."""
    click.echo(f"{'table':<16}{'FROM':>12}{'TO':>12}")
    for count in report.counts:
        flag = "" if count.equal else "  differs"
        click.echo(f"{count.table:<16}{count.source:>12}{count.target:>12}{flag}")
    how = "resumed: " if report.resumed else ""
    click.echo(f"{how}copied {report.copied} rows from {report.source} into {report.target}", err=True)
    if report.verified:
        click.echo("verified: every table has as many rows in TO as in FROM", err=True)
    else:
        differing = ", ".join(count.table for count in report.counts if not count.equal)
        click.echo(f"monitor: verification failed: {differing} differ between FROM and TO", err=True)


COMMANDS = [extract, reextract, serve, validate, copy_command]
