"""Commands that read the archive: ``search``, ``show``, ``export``, ``tail``, ``duplicates``, ``stats``."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from monitor.cli.options import (
    UsageProblem,
    format_option,
    limit_option,
    load_settings,
    open_reader,
    pass_archive,
    since_option,
    sources_option,
    until_option,
)
from monitor.diffs import revision_diffs
from monitor.formats import render, write_records
from monitor.models import ExportedArticle, SearchQuery, as_row, field_names
from monitor.parquet import write_parquet
from monitor.query import parse
from monitor.status import size_rows
from monitor.store import ArchiveReader

TAIL_EVERY_S = 1.0


@click.command()
@click.argument("query")
@sources_option()
@since_option()
@until_option()
@limit_option(20)
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
@format_option()
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    sources: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
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
    --sort rank orders by bm25, a match in the title weighing ten times one in the body (on a
    PostgreSQL archive: ts_rank over the 500 newest matches, all of them when there are no more).
    \b
    Examples:
      monitor search 'Maduro AND (Iran OR Tehran)' --since 7d
      monitor search khamenei --source almayadeen --format jsonl | jq .url
      monitor search '"maximum pressure"' --sort rank --limit 5 --format csv > hits.csv
      monitor search maduro --collapse      # one row per story, however many outlets ran it
    """
    settings = load_settings(ctx)
    if watch_id is not None:
        watch = next((w for w in settings.watches if w.id == watch_id), None)
        if watch is None:
            known = ", ".join(w.id for w in settings.watches) or "(none)"
            raise UsageProblem(f"unknown watch {watch_id}; configured: {known}")
        parse(query)  # a mistake is reported at its position in what was typed
        query = f"({watch.query}) AND ({query})"
    request = SearchQuery(
        query=query,
        highlight=highlight_marks(highlight),
        sources=sources,
        since=since,
        until=until,
        sort=sort,
        limit=limit,
        collapse=collapse,
        languages=languages,
        tags=tags,
    )
    print_search(open_reader(ctx), request, fmt, count_only=count_only)


def highlight_marks(highlight: bool | None) -> tuple[str, str]:
    """Bold on a terminal, brackets when asked for in a pipe, nothing otherwise."""
    if highlight is None:
        highlight = sys.stdout.isatty()
    if not highlight:
        return ("", "")
    return ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")


def print_search(archive: ArchiveReader, request: SearchQuery, fmt: str, *, count_only: bool = False) -> None:
    """The hits of ``request`` (or only their number) as ``search`` and ``watches test`` print them."""
    if count_only:
        click.echo(archive.count(request))
        return
    rows = [asdict(hit) for hit in archive.search(request)]
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
    if request.collapse:
        columns.append("copies")
    click.echo(render(rows, columns, fmt), nl=False)


@click.command()
@click.argument("id_or_url")
@format_option(
    ("text", "json"),
    "text",
    "text for reading; json (with the full text, every known URL, copies, revisions) for programs.",
)
@click.option("--revisions", is_flag=True, help="Also print a unified diff of each revision, oldest first.")
@pass_archive
def show(archive: ArchiveReader, id_or_url: str, fmt: str, revisions: bool) -> None:
    """Print one archived article, by id or by any URL it is known under, with the other copies of its story
    (outlet, URL, similarity, credited source) and how many times it was edited.

    \b
    Examples:
      monitor show 42
      monitor show https://english.almayadeen.net/news/politics/some-story
      monitor show 42 --revisions
      monitor show 42 --format json | jq -r .text
    """
    article = as_row(archive.get_article(id_or_url))
    story = [as_row(member) for member in archive.story(article["id"])]
    versions = [as_row(revision) for revision in archive.revisions(article["id"])]
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
        current = {"fetched_at": article["fetched_at"], "title": article["title"], "text": article["text"]}
        for old, diff in revision_diffs(versions, current):
            click.echo(
                f"\n--- revision {old['id']}: as fetched {old['fetched_at']}, replaced {old['replaced_at']}"
            )
            click.echo(diff, nl=False)


@click.command()
@click.argument("query", required=False)
@sources_option()
@since_option()
@until_option()
@format_option(
    ("jsonl", "csv", "parquet"),
    "jsonl",
    "jsonl: one article per line (authors, keywords and attribution as JSON); csv: a header row; "
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
    since: datetime | None,
    until: datetime | None,
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
    load_settings(ctx)
    if fmt == "parquet" and output.name in ("-", "<stdout>"):
        raise UsageProblem("--format parquet writes a file, not a stream: add -o FILE.parquet")
    request = SearchQuery(query=query or "", sources=sources, since=since, until=until)
    archive = open_reader(ctx)
    show_progress = progress_wanted(output)
    total = archive.count(request) if show_progress else 0
    with (
        click.progressbar(length=total, label="exporting", file=sys.stderr)
        if show_progress
        else contextlib.nullcontext() as bar
    ):
        if fmt == "parquet":
            write_parquet(
                (as_row(record) for record in archive.iter_articles(request)),
                Path(output.name),
                progress=bar.update if bar is not None else None,
            )
            return
        write_records(
            (as_row(record) for record in archive.iter_articles(request)),
            output,
            field_names(ExportedArticle),
            fmt,
            progress=bar.update if bar is not None else None,
        )


def progress_wanted(output: Any) -> bool:
    """A progress bar only for a person watching a terminal, never mixed into piped output."""
    return sys.stderr.isatty() and (output.name != "<stdout>" or not sys.stdout.isatty())


@click.command()
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
@sources_option()
@format_option(
    ("table", "jsonl"), "table", "table for people; jsonl (one object per line, flushed) for pipes."
)
@pass_archive
def tail(archive: ArchiveReader, follow: bool, lines: int, sources: tuple[str, ...], fmt: str) -> None:
    """The newest articles; with -f, new ones as the daemon archives them (the archive is read, not locked).

    \b
    Examples:
      monitor tail
      monitor tail -f --source almayadeen
      monitor tail -f -n 0 --format jsonl | jq -r .title
    """

    def emit(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                when = (row["published_at"] or row["fetched_at"] or "")[:16].replace("T", " ")
                click.echo(f"{row['id']:>7}  {when}  {row['source']:<14} {row['title'] or '(untitled)'}")
        sys.stdout.flush()

    try:
        rows = [as_row(r) for r in archive.latest(after_id=None, limit=max(lines, 1), sources=sources)]
        last = rows[-1]["id"] if rows else 0
        emit(rows[-lines:] if lines else [])
        while follow:
            time.sleep(TAIL_EVERY_S)
            rows = [as_row(r) for r in archive.latest(after_id=last, limit=1000, sources=sources)]
            if rows:
                last = rows[-1]["id"]
                emit(rows)
    except KeyboardInterrupt:
        pass


@click.command()
@since_option("Stories last published at or after: 2024-06-01, or 7d ago.")
@limit_option(50, "At most this many stories.")
@format_option()
@pass_archive
def duplicates(archive: ArchiveReader, since: datetime | None, limit: int, fmt: str) -> None:
    """Stories published by more than one outlet: who republished whom.

    Each row is a story's original (the earliest copy) with its number of copies and the outlets that
    carried it; `monitor show ID` lists the copies with their similarity and credited sources.

    \b
    Examples:
      monitor duplicates --since 7d
      monitor duplicates --format csv > syndication.csv
    """
    rows = [as_row(story) for story in archive.duplicates(since=since, limit=limit)]
    if fmt == "table":
        for row in rows:
            row["outlets"] = ", ".join(row["sources"])
        columns = ["id", "published_at", "source", "copies", "outlets", "title"]
        click.echo(render(rows, columns, fmt) or "no stories with copies in more than one outlet\n", nl=False)
        return
    columns = ["id", "url", "source", "title", "published_at", "copies", "outlets", "sources", "latest"]
    click.echo(render(rows, columns, fmt), nl=False)


@click.command()
@click.option(
    "--by", type=click.Choice(["source", "day", "lang"]), help="Count articles per outlet, day or language."
)
@click.argument("query", required=False)
@format_option()
@pass_archive
def stats(archive: ArchiveReader, by: str | None, query: str | None, fmt: str) -> None:
    """What the archive holds: counts and size per article (with and without the kept raw pages), or, with
    --by, how many articles per outlet, per day or per language (optionally only those matching QUERY).

    \b
    Examples:
      monitor stats
      monitor stats --by source
      monitor stats --by day 'maduro AND iran' --format csv
    """
    rows = (
        size_rows(as_row(archive.sizes()))
        if by is None
        else [as_row(facet) for facet in archive.facets(by, query=query)]
    )
    if fmt == "table" and by is not None:
        peak = max((row["count"] for row in rows), default=0)
        width = max((len(str(row["key"])) for row in rows), default=0)
        for row in rows:
            bar_length = round(40 * row["count"] / peak) if peak else 0
            click.echo(f"{row['key']!s:<{width}}  {row['count']:>7}  {'█' * bar_length}")
        return
    click.echo(render(rows, ["key", "count"], fmt), nl=False)


COMMANDS = [search, show, export, tail, duplicates, stats]
