"""``monitor copy FROM TO``: a whole archive copied between any two archives, SQLite or PostgreSQL (issue 16).

This module is the backend-neutral driver: which tables, in which order, in which columns and of which kind
(:data:`TABLES`), chunking by each table's primary key, resuming, refusing and verifying. Each backend reads
and writes rows in a neutral form (:mod:`.copy_sqlite`, :mod:`.postgres.copying`): moments as aware UTC
datetimes, JSON columns decoded, flags as ``bool``, raw pages as ``bytes``; the pseudo-column ``seq`` is the
order sources and watches were first configured in (SQLite's rowid, PostgreSQL's ``seq``).

What makes it resumable and safe:

- the source is read in one snapshot (one read transaction for the whole run), so a daemon may keep writing
  to a SQLite source while its copy is made, and the counts compared at the end are the snapshot's;
- the target is held with :func:`monitor.store.single_daemon` (no daemon may write to it meanwhile) and is
  opened through its backend's own class, so its schema is that backend's current one;
- each chunk is one transaction in the target, together with the search index rows of its articles (made by
  the target backend's own indexing code), its identity sequences advanced past the copied ids, and the key
  of the chunk's last row in the target's ``monitor_copy`` table. An interrupted copy (Ctrl-C, ``kill -9``)
  resumes from those keys when run again, so no row is copied twice;
- a target that is neither empty nor an unfinished copy of the same source (the source's first article, or
  first source, as its fingerprint) is refused with :class:`CopyRefused`.

Not copied: the daemon's heartbeat (a new archive has had no daemon), each backend's search-index metadata
(the index is built afresh), PostgreSQL's delivery claims (leases of the old archive's workers) and its
workers' tables.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from monitor.config import ArchiveLocation, PostgresURL, archive_display
from monitor.errors import StoreError
from monitor.timefmt import utc_iso

log = logging.getLogger("monitor.store")

Kind = Literal["int", "real", "text", "moment", "json", "bool", "blob"]
Row = tuple[Any, ...]
Key = tuple[Any, ...]

CHUNK_ROWS = 1_000
"""Rows per chunk (one target transaction); raw pages go ten times fewer at once (they are the big rows)."""
MARKER_TABLE = "monitor_copy"
"""The target's record of the copy: where it comes from, how far each table is, when it finished."""


@dataclass(frozen=True)
class Table:
    """A table as the copy moves it: its columns in the neutral form, its primary key (the chunks' order)
    and the identity column the target must advance past the copied values."""

    name: str
    columns: tuple[tuple[str, Kind], ...]
    key: tuple[str, ...]
    identity: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def key_of(self, row: Row) -> Key:
        names = self.names
        return tuple(row[names.index(column)] for column in self.key)


def _columns(spec: str) -> tuple[tuple[str, Kind], ...]:
    """``"id int, url text"`` as ((name, kind), ...)."""
    pairs = [item.split() for item in spec.split(",")]
    return tuple((name, kind) for name, kind in pairs)  # type: ignore[misc]


TABLES: tuple[Table, ...] = (
    Table(
        "sources",
        _columns(
            "seq int, id text, name text, feed text, tags json, language text, enabled bool, "
            "interval_s real, in_config bool, last_polled_at moment, last_success_at moment, "
            "last_status int, last_error text, error_count int, kind text, config_url text, pinned bool, "
            "next_poll_at moment, etag text, last_modified text, body_hash text, new_per_poll real, "
            "not_found_count int, dead bool, poll_count int, not_modified_count int, site_name text, "
            "template_language text, page_samples json"
        ),
        key=("seq",),
        identity="seq",
    ),
    Table(
        "watches",
        _columns(
            "seq int, id text, query text, sources json, tags json, languages json, channels json, "
            "in_config bool"
        ),
        key=("seq",),
        identity="seq",
    ),
    Table(
        "articles",
        _columns(
            "id int, url text, source text, guid text, title text, authors json, published_at moment, "
            "fetched_at moment, text text, summary text, language text, image text, extraction text, "
            "content_hash text, feed_title text, story_id int, duplicate_of int, duplicate_score real, "
            "attribution json, modified_at moment, entry_hash text, checks int, next_check_at moment, "
            "section text, keywords json, outlet_name text, extractor text, published_local text, "
            "entry_published_at moment, entry_language text, channel_title text, channel_language text"
        ),
        key=("id",),
        identity="id",
    ),
    Table(
        "article_urls",
        _columns("url text, article_id int, source text, first_seen_at moment"),
        key=("url",),
    ),
    Table("entry_guids", _columns("source text, guid text, article_id int"), key=("source", "guid")),
    Table("article_bands", _columns("key int, article_id int"), key=("key", "article_id")),
    Table(
        "revisions",
        _columns(
            "id int, article_id int, fetched_at moment, title text, text text, diff_stats json, "
            "replaced_at moment"
        ),
        key=("id",),
        identity="id",
    ),
    Table(
        "raw_pages",
        _columns(
            "article_id int, url text, fetched_at moment, content_type text, charset text, compression text, "
            "body blob"
        ),
        key=("article_id",),
    ),
    Table(
        "matches",
        _columns(
            "id int, watch text, article_id int, matched_at moment, notify bool, delivered_at moment, "
            "attempts int, last_error text"
        ),
        key=("id",),
        identity="id",
    ),
    Table(
        "deliveries",
        _columns(
            "id int, match_id int, channel text, delivered_at moment, attempts int, last_error text, "
            "next_attempt_at moment"
        ),
        key=("id",),
        identity="id",
    ),
    Table(
        "fetches",
        _columns(
            "id int, source text, url text, kind text, status int, bytes int, duration_ms int, error text, "
            "at moment"
        ),
        key=("id",),
        identity="id",
    ),
)
"""Every copied table, in the order copied: a row's references are always copied before it."""

NOT_COPIED: dict[str, frozenset[str]] = {"deliveries": frozenset({"claimed_by", "claimed_until"})}
"""Columns of a copied table left behind on purpose (PostgreSQL's delivery claims: the old workers' leases).
Any other column the copy does not know is refused, so that a new migration cannot be silently dropped."""

SEARCH_INDEX = "search index"
"""The verification's name for the target's search index, which must hold one row per article."""


class CopyRefused(StoreError):
    """The target is not an archive this copy may write: not empty and not an unfinished copy of the same
    source, the source itself, or a schema with a column the copy does not know (a usage problem)."""


# -- the two ends ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyFrom:
    """The source as the copy reads it, in one snapshot: ``columns`` (a table's column names, ``seq``
    included), ``count``, ``read`` (at most ``limit`` rows after ``key``, ``None`` from the start, in key
    order, in :class:`Table`'s columns and neutral form), ``close``."""

    display: str
    columns: Callable[[str], set[str]]
    count: Callable[[str], int]
    read: Callable[[Table, Key | None, int], list[Row]]
    close: Callable[[], None]


@dataclass(frozen=True)
class CopyTo:
    """The target as the copy writes it: ``columns``, ``count``, ``marker`` (the ``monitor_copy`` rows),
    ``write`` (rows of a table with the marker rows to set, one transaction, search index and sequences
    included), ``mark`` (marker rows alone), ``index_count`` (rows in its search index), ``settle`` (its
    planner's statistics brought up to date once every row is in), ``close``."""

    display: str
    columns: Callable[[str], set[str]]
    count: Callable[[str], int]
    marker: Callable[[], dict[str, str]]
    write: Callable[[Table, Sequence[Row], dict[str, str]], None]
    mark: Callable[[dict[str, str]], None]
    index_count: Callable[[], int]
    settle: Callable[[], None]
    close: Callable[[], None]


# -- the result --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCount:
    """Rows of one table in the source (its snapshot) and in the target after the copy."""

    table: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class CopyReport:
    """What ``copy_archive`` did: ``copied`` rows by this run, ``resumed`` an interrupted copy, and the
    counts per table (the search index last: the target's index rows against the source's articles)."""

    source: str
    target: str
    copied: int
    resumed: bool
    counts: tuple[TableCount, ...]

    @property
    def verified(self) -> bool:
        return all(count.equal for count in self.counts)


OnStart = Callable[[int, int], None]
"""Called once before copying with (rows in the source, rows already in the target)."""
OnChunk = Callable[[str, int], None]
"""Called after each committed chunk with (table, rows in it); an exception it raises stops the copy, which
keeps what was committed (the tests' way to interrupt one)."""


# -- conversions shared by the backends --------------------------------------------------------------------


def moment(value: datetime | str | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite's text read as UTC when it names no offset)."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def json_text(value: Any) -> str | None:
    """A decoded JSON value as the text SQLite keeps (``None`` stays NULL)."""
    return None if value is None else json.dumps(value, ensure_ascii=False)


# -- the driver --------------------------------------------------------------------------------------------


def copy_archive(
    source: ArchiveLocation,
    target: ArchiveLocation,
    *,
    chunk_rows: int = CHUNK_ROWS,
    on_start: OnStart | None = None,
    on_chunk: OnChunk | None = None,
) -> CopyReport:
    """Copy the archive at ``source`` into ``target`` (each a SQLite path or a :class:`PostgresURL`): every
    table of :data:`TABLES` with its ids, then the counts compared. ``target`` must be empty (created when
    missing) or an unfinished copy of ``source``, which this call resumes; no daemon may be writing to it.

    Raises :class:`CopyRefused` for a target it must not write, :class:`~monitor.errors.ArchiveLockedError`
    when a daemon holds the target, :class:`StoreError` when either cannot be opened or written."""
    from monitor.store import single_daemon  # the package imports this module's callers, not the reverse

    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if _same_place(source, target):
        raise CopyRefused(f"store: cannot copy {archive_display(source)} onto itself")
    reader = _open_from(source)
    try:
        with single_daemon(target):
            writer = _open_to(target)
            try:
                return _copy(reader, writer, chunk_rows, on_start, on_chunk)
            finally:
                writer.close()
    finally:
        reader.close()


def _same_place(source: ArchiveLocation, target: ArchiveLocation) -> bool:
    if isinstance(source, Path) and isinstance(target, Path):
        return source.resolve() == target.resolve()
    return isinstance(source, PostgresURL) and isinstance(target, PostgresURL) and source.url == target.url


def _open_from(location: ArchiveLocation) -> CopyFrom:
    if isinstance(location, PostgresURL):
        from monitor.store.postgres.copying import copy_from  # psycopg is an extra: imported only for a URL

        return copy_from(location)
    from monitor.store.copy_sqlite import copy_from as sqlite_from

    return sqlite_from(location)


def _open_to(location: ArchiveLocation) -> CopyTo:
    if isinstance(location, PostgresURL):
        from monitor.store.postgres.copying import copy_to

        return copy_to(location)
    from monitor.store.copy_sqlite import copy_to as sqlite_to

    return sqlite_to(location)


def _check_columns(end: CopyFrom | CopyTo, role: str) -> None:
    """Refuse an end whose tables lack a copied column or have one the copy does not know."""
    problems = []
    for table in TABLES:
        found = end.columns(table.name)
        missing = set(table.names) - found
        unknown = found - set(table.names) - NOT_COPIED.get(table.name, frozenset())
        problems += [f"{table.name}.{name} is missing" for name in sorted(missing)]
        problems += [f"{table.name}.{name} is not known to this copy" for name in sorted(unknown)]
    if problems:
        raise CopyRefused(
            f"store: cannot copy {role} {end.display}: its schema is not the one this monitor copies "
            f"({'; '.join(problems)})"
        )


def _fingerprint(reader: CopyFrom) -> str:
    """What identifies a source across runs, however much it grew since: its first article (id, URL) and
    its first configured source."""
    by_name = {table.name: table for table in TABLES}
    first_article = reader.read(by_name["articles"], None, 1)
    first_source = reader.read(by_name["sources"], None, 1)
    return json.dumps(
        [
            list(first_article[0][:2]) if first_article else None,
            first_source[0][1] if first_source else None,
        ],
        ensure_ascii=False,
    )


def _start(reader: CopyFrom, writer: CopyTo) -> tuple[dict[str, str], bool]:
    """The marker rows to continue from, and whether this resumes an interrupted copy; refuses a target that
    is neither empty nor an unfinished copy of this source."""
    marker = writer.marker()
    mark = _fingerprint(reader)
    if not marker:
        filled = [table.name for table in TABLES if writer.count(table.name)]
        if filled:
            raise CopyRefused(
                f"store: {writer.display} is not empty ({', '.join(filled)} have rows) and is not a copy of "
                f"{reader.display}; copy into an empty archive (a new file or an empty database)"
            )
        started = {"source": reader.display, "fingerprint": mark, "started_at": _now()}
        return started, False
    if marker.get("finished_at"):
        raise CopyRefused(
            f"store: {writer.display} is already a finished copy of {marker.get('source')} (finished "
            f"{marker['finished_at']}); copy into an empty archive to copy again"
        )
    if marker.get("fingerprint") != mark:
        raise CopyRefused(
            f"store: {writer.display} holds an unfinished copy of another archive ({marker.get('source')}), "
            f"not of {reader.display}; resume that copy, or copy into an empty archive"
        )
    return marker, True


def _now() -> str:
    return str(utc_iso(datetime.now(UTC)))


def _copy(
    reader: CopyFrom,
    writer: CopyTo,
    chunk_rows: int,
    on_start: OnStart | None,
    on_chunk: OnChunk | None,
) -> CopyReport:
    _check_columns(reader, "from")
    _check_columns(writer, "into")
    marker, resumed = _start(reader, writer)
    if resumed:
        log.info("store: resuming the copy of %s into %s", reader.display, writer.display)
    totals = {table.name: reader.count(table.name) for table in TABLES}
    already = {table.name: writer.count(table.name) for table in TABLES}
    if on_start is not None:
        on_start(sum(totals.values()), sum(already.values()))
    pending = {key: value for key, value in marker.items() if not key.startswith("done:")}
    copied = 0
    for table in TABLES:
        size = max(1, chunk_rows // 10) if table.name == "raw_pages" else chunk_rows
        done = marker.get(f"done:{table.name}")
        after: Key | None = tuple(json.loads(done)) if done else None
        while True:
            rows = reader.read(table, after, size)
            if not rows:
                break
            after = table.key_of(rows[-1])
            writer.write(table, rows, {**pending, f"done:{table.name}": json.dumps(list(after))})
            pending = {}
            copied += len(rows)
            if on_chunk is not None:
                on_chunk(table.name, len(rows))
    counts = [TableCount(table.name, totals[table.name], writer.count(table.name)) for table in TABLES]
    counts.append(TableCount(SEARCH_INDEX, totals["articles"], writer.index_count()))
    report = CopyReport(reader.display, writer.display, copied, resumed, tuple(counts))
    if report.verified:
        writer.mark({**pending, "finished_at": _now()})
        writer.settle()
    return report
