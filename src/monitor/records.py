"""What the archive gives back when it is read (pure: frozen records, no I/O; re-exported by
:mod:`monitor.models`).

Each is what a storage reader (:class:`monitor.store.base.ArchiveReader`) returns, so that no column name or
raw row crosses the seam and a second backend returns the same things. Field order is the order the CLI
prints them in (``export``'s CSV columns, ``alerts``' JSON keys): the records, not the store, say it.
Times are kept as the archive's UTC ISO text (``2024-06-01T12:00:00Z``), as printed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # models re-exports this module: its types are named here for the checker only
    from datetime import datetime

    from monitor.models import Attribution


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """One archived article as ``monitor show`` and ``Archive.article`` give it: every stored field, lists
    and the credit decoded, and every URL it is known by."""

    id: int
    url: str
    source: str
    guid: str | None
    title: str | None
    authors: tuple[str, ...]
    published_at: str | None
    fetched_at: str
    text: str
    summary: str | None
    language: str | None
    image: str | None
    extraction: str
    content_hash: str
    feed_title: str | None
    story_id: int | None
    duplicate_of: int | None
    duplicate_score: float | None
    attribution: Attribution | None
    modified_at: str | None
    entry_hash: str | None
    checks: int
    next_check_at: str | None
    section: str | None
    keywords: tuple[str, ...]
    outlet_name: str | None
    extractor: str | None
    published_local: str | None
    entry_published_at: str | None
    entry_language: str | None
    channel_title: str | None
    channel_language: str | None
    urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportedArticle:
    """One article as ``monitor export`` writes it (the fields in this order are its CSV columns)."""

    id: int
    url: str
    source: str
    title: str | None
    authors: tuple[str, ...]
    published_at: str | None
    fetched_at: str
    modified_at: str | None
    language: str | None
    section: str | None
    keywords: tuple[str, ...]
    outlet_name: str | None
    image: str | None
    summary: str | None
    text: str
    extraction: str
    content_hash: str
    story_id: int | None
    duplicate_of: int | None
    duplicate_score: float | None
    attribution: Attribution | None


@dataclass(frozen=True, slots=True)
class LatestArticle:
    """One line of ``monitor tail``."""

    id: int
    fetched_at: str
    published_at: str | None
    source: str
    language: str | None
    title: str | None
    url: str


@dataclass(frozen=True, slots=True)
class StoryMember:
    """One copy of a story (the original has ``duplicate_of`` None)."""

    id: int
    source: str
    url: str
    title: str | None
    published_at: str | None
    duplicate_of: int | None
    duplicate_score: float | None
    attribution: Attribution | None


@dataclass(frozen=True, slots=True)
class Revision:
    """An earlier version of an article, replaced by a re-check that found its text or title changed."""

    id: int
    fetched_at: str
    title: str | None
    text: str
    diff_stats: dict[str, int] | None
    """Paragraphs added, removed, kept, and the change in length (:func:`monitor.articles.diff_stats`)."""
    replaced_at: str


@dataclass(frozen=True, slots=True)
class CopiedStory:
    """A story carried by more than one outlet, as its original (``monitor duplicates``)."""

    id: int
    source: str
    url: str
    title: str | None
    published_at: str | None
    copies: int
    outlets: int
    sources: tuple[str, ...]
    latest: str
    """When its newest copy was published (or fetched)."""


@dataclass(frozen=True, slots=True)
class Facet:
    """Articles per ``key`` (a source, a day, a language): ``monitor stats --by``."""

    key: str
    count: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The daemon's last sign of life (``monitor check``)."""

    pid: int
    started_at: str
    beat_at: str
    version: str


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """One `monitor run` process sharing the archive (``monitor workers``): a PostgreSQL archive has one
    per worker; a SQLite archive, whose one daemon holds every host, has at most one."""

    id: str
    hostname: str
    pid: int
    version: str
    started_at: str
    beat_at: str
    live: bool
    """Its heartbeat is younger than its lease; a worker that stopped (or died) is kept for an hour."""
    hosts: tuple[str, ...]
    """The feed hosts it holds a live lease on (one worker at a time polls a host's feeds)."""
    polls_last_hour: int
    stopped_at: str | None = None


@dataclass(frozen=True, slots=True)
class ArchiveSizes:
    """What the archive holds, and its bytes on disk in all and in kept raw pages."""

    articles: int
    stories: int
    revisions: int
    raw_pages: int
    sources: int
    bytes: int
    raw_bytes: int


@dataclass(frozen=True, slots=True)
class WatchStatus:
    """A configured watch's matches (24 hours, 7 days, all) and its deliveries failing and pending."""

    id: str
    query: str
    matches_24h: int
    matches_7d: int
    matches: int
    failing: int
    pending: int


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One match of a watch with its delivery state (``monitor alerts``; ``notify`` 0: a copy of a story the
    watch had already matched, recorded and not sent)."""

    id: int
    watch: str
    article_id: int
    title: str | None
    url: str
    source: str
    matched_at: str
    notify: int
    delivered_at: str | None
    attempts: int
    last_error: str | None


class HostSlot(NamedTuple):
    """One of a host's request slots, held across the workers of a shared archive: start the request
    ``wait_s`` from now (the host's delay after the last start by any worker); ``delay_s`` is that
    host's delay now (doubled by a 429, halved back by successes)."""

    slot: int
    wait_s: float
    delay_s: float


class Channel(NamedTuple):
    """What a source's feed channel last declared of itself."""

    title: str | None
    language: str | None


class DueRecheck(NamedTuple):
    """An archived article due a re-fetch for edits (a tuple: the pipeline unpacks it)."""

    article_id: int
    url: str
    checks: int
    """Re-checks done so far."""
    first_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ArticleFields:
    """The fields of an archived article that an extraction decides, decoded: what re-extraction reads and
    writes (the store maps them to its columns)."""

    text: str
    content_hash: str
    title: str | None
    authors: tuple[str, ...]
    summary: str | None
    language: str | None
    image: str | None
    section: str | None
    keywords: tuple[str, ...]
    outlet_name: str | None
    published_at: str | None
    modified_at: str | None
    published_local: str | None
    attribution: Attribution | None
    extraction: str


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A kept raw page with its article's current fields and what the feed said of the entry: what
    re-extraction compares against."""

    article_id: int
    source: str
    url: str
    content_type: str
    charset: str | None
    compression: str
    body: bytes
    """The page as fetched, compressed with ``compression`` (:mod:`monitor.rawpage`)."""
    current: ArticleFields
    feed_title: str | None = None
    entry_published_at: str | None = None
    entry_language: str | None = None
    channel_title: str | None = None
    channel_language: str | None = None


@dataclass(frozen=True, slots=True)
class Reextraction:
    """A fresh extraction of an archived page: the fields as they now are, and which of them changed."""

    article_id: int
    fields: ArticleFields
    changed: frozenset[str]
    """Names of ``fields`` that differ from the archived values (empty: nothing to write)."""


def field_names(record: type) -> list[str]:
    """The fields of a record class, in order: the columns a CSV of such records has."""
    return [f.name for f in fields(record)]
