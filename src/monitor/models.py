"""Plain data passed between the layers (pure: frozen dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Source:
    """One configured source, with the defaults already applied."""

    id: str
    name: str
    feed: str
    interval_s: float
    tags: tuple[str, ...] = ()
    language: str | None = None
    enabled: bool = True
    fetch_articles: bool = True


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A complete HTTP response whose body stayed under the size cap."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    duration_ms: int

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, whatever the feed format."""

    guid: str | None
    link: str | None
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    summary: str | None = None
    content: str | None = None
    image: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    link: str | None
    language: str | None
    entries: tuple[FeedEntry, ...]
    problem: str | None = None
    """Why the document is malformed, when the parser still recovered entries from it."""


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What an article page says about itself: body text and metadata."""

    text: str
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    summary: str | None = None
    language: str | None = None
    image: str | None = None
    canonical_url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """An article ready to archive. ``url`` is its canonical URL; ``urls`` every URL it is known by."""

    url: str
    source: str
    guid: str | None
    title: str | None
    authors: tuple[str, ...]
    published_at: datetime | None
    fetched_at: datetime
    text: str
    summary: str | None
    language: str | None
    image: str | None
    extraction: str
    content_hash: str
    urls: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """One HTTP request, as logged in ``fetches``."""

    source: str | None
    url: str
    kind: str
    at: datetime
    status: int | None = None
    bytes: int | None = None
    duration_ms: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class EntryAlias:
    """A feed entry whose URL is already archived: remember this source's GUID for it."""

    source: str
    guid: str | None
    url: str


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """Everything one poll of one source wants written; the store applies it in one transaction."""

    source: str
    polled_at: datetime
    articles: tuple[Article, ...] = ()
    aliases: tuple[EntryAlias, ...] = ()
    fetches: tuple[FetchRecord, ...] = ()
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    query: str
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "date"
    limit: int = 20


@dataclass(frozen=True, slots=True)
class SearchHit:
    id: int
    url: str
    source: str
    title: str | None
    authors: tuple[str, ...]
    published_at: str | None
    language: str | None
    snippet: str


@dataclass(frozen=True, slots=True)
class SourceStatus:
    id: str
    name: str
    feed: str
    enabled: bool
    articles: int
    last_polled_at: str | None
    last_success_at: str | None
    last_status: int | None
    last_error: str | None
    error_count: int
