"""Plain data passed between the layers (pure: frozen dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor import records as _records

if TYPE_CHECKING:  # pure data of the extractor's, carried across the worker seam
    from monitor.extract.evidence import PageEvidence

MIN_INTERVAL_S = 300.0
"""The shortest interval an adaptive source is polled at, unless the config says otherwise."""
MAX_INTERVAL_S = 21600.0
"""The longest interval an adaptive source is polled at, unless the config says otherwise."""
COMMIT_EVERY = 50
"""A poll writes its new articles each time this many are ready (config ``commit.every``)."""
COMMIT_INTERVAL_S = 10.0
"""... or when the first of them has waited this long (config ``commit.interval``)."""
LEASE_S = 60.0
"""How long a worker holds a feed host of a shared archive without renewing it (``workers.lease``)."""


@dataclass(frozen=True, slots=True)
class Selectors:
    """Per-source CSS selectors that override the generic extractor, for outlets it gets wrong."""

    title: str | None = None
    body: str | None = None
    authors: str | None = None
    published: str | None = None
    drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """One configured source, with the defaults already applied."""

    id: str
    name: str
    url: str
    """The address polled: the feed, the sitemap, or the section page."""
    interval_s: float
    """Where polling starts; for a pinned source, the interval itself."""
    kind: str = "feed"
    pinned: bool = False
    min_interval_s: float = MIN_INTERVAL_S
    max_interval_s: float = MAX_INTERVAL_S
    tags: tuple[str, ...] = ()
    language: str | None = None
    enabled: bool = True
    fetch_articles: bool = True
    conditional: bool = True
    recheck_s: float = 172800.0
    max_age_s: float = 259200.0
    links: str | None = None
    dead_after: int = 10
    selectors: Selectors | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A complete HTTP response whose body stayed under the size cap."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    content: bytes
    duration_ms: int
    moved_to: str | None = None
    """Where a permanent redirect (301/308) from ``url`` points: the new address of the resource."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

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
    hint_s: float | None = None
    """The shortest polling interval the feed asks for (``<ttl>``, ``sy:updatePeriod``)."""


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
    section: str | None = None
    keywords: tuple[str, ...] = ()
    outlet_name: str | None = None
    attribution: Attribution | None = None
    published_local: str | None = None
    """The publication time as the page declares it (ISO 8601 with its offset; a bare day for a date)."""
    evidence: PageEvidence | None = None
    """Every candidate the page offered for each metadata field (the feed's evidence decides again)."""
    selected: tuple[str, ...] = ()
    """Fields the source's own CSS selectors chose: they stand whatever the feed says."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """A credited original source: "Source » almayadeen", "(Reuters) -", "Originally published by X"."""

    name: str
    line: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RawPage:
    url: str
    content_type: str
    charset: str | None
    body: bytes
    """The page as fetched, compressed with ``compression`` (:mod:`monitor.rawpage`)."""
    compression: str


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
    link: str = ""
    """The canonical form of the feed entry's own link (``url`` may come from the page instead)."""
    feed_title: str | None = None
    """The headline as the feed gave it (``title`` prefers the page's)."""
    landed: str = ""
    """The canonical form of the URL the request ended on, after redirects."""
    url_from_page: bool = False
    """Whether ``url`` is the page's own ``rel=canonical`` (rather than where the request landed)."""
    attribution: Attribution | None = None
    bands: tuple[int, ...] = ()
    """Near-duplicate LSH keys of ``text`` (:func:`monitor.dedup.band_keys`)."""
    entry_hash: str | None = None
    """What the feed entry looked like (updated date, title, content): a change means a re-fetch."""
    modified_at: datetime | None = None
    section: str | None = None
    keywords: tuple[str, ...] = ()
    outlet_name: str | None = None
    raw: RawPage | None = None
    """The fetched page, compressed, kept so that a better extractor can re-read it later."""
    published_local: str | None = None
    """``published_at`` as the page declares it: ISO 8601 in its own offset, or a bare day."""
    entry_published_at: datetime | None = None
    entry_language: str | None = None
    channel_title: str | None = None
    channel_language: str | None = None
    """What the feed said of the entry and its channel, kept so that ``reextract`` decides the same way."""


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
class PollState:
    """What the archive remembers about a source between polls."""

    interval_s: float | None = None
    error_count: int = 0
    not_found_count: int = 0
    new_per_poll: float | None = None
    last_polled_at: datetime | None = None
    next_poll_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    url: str | None = None
    dead: bool = False
    knowledge: SourceKnowledge | None = None


@dataclass(frozen=True, slots=True)
class SourceKnowledge:
    """What is learned of a source from its pages (issue 13): the site name repeated across its titles, a
    language its pages declare while their text is another (a template default), and the recent samples
    both are learned from."""

    site_name: str | None = None
    template_language: str | None = None
    titles: tuple[str, ...] = ()
    """The ``<title>`` of the source's most recent pages."""
    languages: tuple[tuple[str | None, str | None, float], ...] = ()
    """(declared, detected, confidence) of the source's most recent pages."""


@dataclass(frozen=True, slots=True)
class NextPoll:
    """The schedule decided after a poll."""

    next_poll_at: datetime
    interval_s: float
    error_count: int = 0
    not_found_count: int = 0
    new_per_poll: float | None = None
    dead: bool = False


@dataclass(frozen=True, slots=True)
class Recheck:
    """A re-fetch of an archived article: its new version, and when to look again."""

    article_id: int
    article: Article | None
    """None when the page could not be fetched or gave no text: only the schedule moves on."""
    reschedule: bool = True
    """False for a re-fetch the feed prompted: the decaying schedule stays as it was."""
    checks: int = 0
    next_check_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommitResult:
    inserted: list[int]
    """Ids of the articles this commit (a batch, or a poll's end) added."""
    revised: list[int]
    """Ids of the articles whose new version this commit recorded (a poll's end only)."""


@dataclass(frozen=True, slots=True)
class KnownEntry:
    article_id: int
    entry_hash: str | None


@dataclass(frozen=True, slots=True)
class Validators:
    """What identifies the last feed body: HTTP validators and our own hash of the body."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleBatch:
    """New articles of a poll still running, written together as they become ready (issue 15): each batch is
    one transaction with the articles' URLs, story links and watch matches, so a crash loses at most the
    batch being filled, and readers (``monitor tail -f``) see articles before their poll ends."""

    source: str
    polled_at: datetime
    """When the poll started: the first sight of the articles' URLs."""
    articles: tuple[Article, ...]
    fetches: tuple[FetchRecord, ...] = ()
    """The poll's fetch log gathered since its previous batch."""
    recheck_s: float = 0.0
    """How long after first sight the articles are re-fetched (their decaying re-check schedule)."""


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """The end of one poll of one source: its last new articles (those no batch took), re-checks, aliases and
    the rest of its fetch log, then the source's state (validators, schedule, knowledge), all in one
    transaction. A poll of fewer than ``commit.every`` new articles is written by this alone."""

    source: str
    polled_at: datetime
    articles: tuple[Article, ...] = ()
    aliases: tuple[EntryAlias, ...] = ()
    fetches: tuple[FetchRecord, ...] = ()
    status: int | None = None
    error: str | None = None
    schedule: NextPoll | None = None
    validators: Validators | None = None
    """New validators to keep; None keeps the stored ones (a 304, an unchanged body, an error)."""
    not_modified: bool = False
    moved_to: str | None = None
    """The feed's new address after a permanent redirect."""
    rechecks: tuple[Recheck, ...] = ()
    recheck_s: float = 0.0
    """How long after first sight new articles are re-fetched (their decaying re-check schedule)."""
    knowledge: SourceKnowledge | None = None
    """What was learned of the source from this poll's pages and the earlier ones (None: unchanged)."""


@dataclass(frozen=True, slots=True)
class SearchQuery:
    query: str
    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "date"
    limit: int = 20
    collapse: bool = False
    """One hit per story (the original, with its number of copies)."""
    languages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    """Only articles of sources carrying one of these tags (in the config)."""
    highlight: tuple[str, str] = ("", "")
    """What to put around each matched word in snippets."""


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
    copies: int | None = None
    """With ``collapse``: how many other copies the story has."""


@dataclass(frozen=True, slots=True)
class SourceStatus:
    id: str
    name: str
    kind: str
    url: str
    enabled: bool
    state: str
    """ok, erroring, dead, disabled, or never polled."""
    articles: int
    articles_24h: int
    last_polled_at: str | None
    next_poll_at: str | None
    last_success_at: str | None
    interval_s: float | None
    last_status: int | None
    last_error: str | None
    error_count: int
    polls: int
    not_modified_share: float | None
    moved_from: str | None


@dataclass(frozen=True, slots=True)
class Watch:
    id: str
    query: str
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    """Where matches go: ``jsonl:PATH``, ``webhook:URL``, ``email:ADDRESS``."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One match waiting to be delivered on one channel."""

    delivery_id: int
    match_id: int
    channel: str
    watch: str
    article_id: int
    url: str
    source: str
    title: str | None
    published_at: str | None
    matched_at: str
    snippet: str
    attempts: int

    def payload(self) -> dict[str, object]:
        """The JSON body of a webhook and the line of a jsonl file (a contract: fields are only added)."""
        return {
            "watch": self.watch,
            "article_id": self.article_id,
            "url": self.url,
            "source": self.source,
            "title": self.title,
            "published_at": self.published_at,
            "snippet": self.snippet,
            "matched_at": self.matched_at,
        }


# What the archive gives back when read has a module of its own (models would pass 600 lines); its records
# are importable from here as every other one is.
AlertRecord = _records.AlertRecord
ArchiveSizes = _records.ArchiveSizes
ArticleFields = _records.ArticleFields
Channel = _records.Channel
CopiedStory = _records.CopiedStory
DueRecheck = _records.DueRecheck
ExportedArticle = _records.ExportedArticle
Facet = _records.Facet
Heartbeat = _records.Heartbeat
HostSlot = _records.HostSlot
LatestArticle = _records.LatestArticle
Reextraction = _records.Reextraction
Revision = _records.Revision
StoredArticle = _records.StoredArticle
StoredPage = _records.StoredPage
StoryMember = _records.StoryMember
WatchStatus = _records.WatchStatus
WorkerStatus = _records.WorkerStatus
field_names = _records.field_names


def as_row(record: object) -> dict[str, Any]:
    """A record as the JSON object the CLI and the Python API print (their documented shapes): tuples as
    lists, a credit as ``{"name", "url", "line"}``, nested records as objects."""
    return {name: _plain(getattr(record, name)) for name in field_names(type(record))}


def _plain(value: object) -> object:
    if isinstance(value, Attribution):
        return {"name": value.name, "url": value.url, "line": value.line}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        return as_row(value)
    return value


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll of one source did, for the log, ``monitor run --once`` and the metrics. A failed poll
    has ``error`` (and ``error_kind``: the :class:`monitor.errors.SourceError` kind, or "internal")."""

    source: str
    url: str
    entries: int = 0
    new: int = 0
    pages_failed: int = 0
    not_modified: bool = False
    revised: int = 0
    error: str | None = None
    error_kind: str | None = None
    duration_s: float = 0.0
    bytes: int = 0
    next_poll_at: datetime | None = None
