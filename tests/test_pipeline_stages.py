"""The pipeline's stages on their own (issue 15): triage (pure, a table of cases), the page fetcher with the
fakes its constructor accepts (an HttpClient and an Extractor: our own seams), and build_article with plain
data. The stages composed, against a real local server, are in test_pipeline and test_polling."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from monitor import rawpage
from monitor.articles import build_article, entry_fingerprint
from monitor.errors import FetchError
from monitor.models import (
    EntryAlias,
    ExtractedPage,
    FeedEntry,
    FetchResult,
    KnownEntry,
    ParsedFeed,
    RawPage,
    Selectors,
    Source,
)
from monitor.pipeline.base import FetchLog
from monitor.pipeline.pages import FetchedPage, PageFetcher
from monitor.pipeline.triage import ListedEntries, Triage, candidates, refused_scheme, triage

NOW = datetime(2026, 11, 29, 17, 43, 22, tzinfo=UTC)
FEED = "https://news.example/feed.xml"
SOURCE = Source(id="news", name="News", url=FEED, interval_s=900.0)


# -- triage -------------------------------------------------------------------------------------------------

A = FeedEntry("guid-a", "https://news.example/a", title="A")
B = FeedEntry("guid-b", "https://news.example/b", title="B")
A_EDITED = FeedEntry("guid-a", "https://news.example/a", title="A, corrected")
A_ELSEWHERE = FeedEntry("other-guid", "https://news.example/a?utm_source=rss", title="A")
NO_GUID = FeedEntry(None, "https://news.example/a", title="A")


@dataclass(frozen=True)
class Outcome:
    """A triage as the table spells it: new and changed entries by the last part of their URL."""

    new: tuple[str, ...] = ()
    aliases: tuple[EntryAlias, ...] = ()
    changed: tuple[tuple[int, str], ...] = ()
    known: int = 0
    deferred: int = 0


def known(article_id: int, entry: FeedEntry | None = None) -> KnownEntry:
    """An archived article, seen last as ``entry`` (None: archived before entries were fingerprinted)."""
    return KnownEntry(article_id, entry_fingerprint(entry) if entry is not None else None)


TRIAGE_CASES = [
    pytest.param([A, B], {}, {}, (), Outcome(new=("a", "b")), id="nothing archived: all new, in order"),
    pytest.param([A], {"guid-a": known(1, A)}, {}, (), Outcome(known=1), id="known by guid, unchanged"),
    pytest.param(
        [A], {"guid-a": known(1)}, {}, (), Outcome(known=1), id="known, no fingerprint: not changed"
    ),
    pytest.param(
        [A_EDITED], {"guid-a": known(1, A)}, {}, (), Outcome(changed=((1, "a"),)), id="known, entry changed"
    ),
    pytest.param(
        [A_ELSEWHERE],
        {},
        {"https://news.example/a": known(7, A_ELSEWHERE)},
        (),
        Outcome(aliases=(EntryAlias("news", "other-guid", "https://news.example/a"),), known=1),
        id="known by canonical URL under a new guid: alias",
    ),
    pytest.param(
        [NO_GUID],
        {},
        {"https://news.example/a": known(7, NO_GUID)},
        (),
        Outcome(aliases=(EntryAlias("news", None, "https://news.example/a"),), known=1),
        id="known by URL, entry without guid: alias without guid",
    ),
    pytest.param(
        [A_EDITED],
        {},
        {"https://news.example/a": known(7, A)},
        (),
        Outcome(aliases=(EntryAlias("news", "guid-a", "https://news.example/a"),), changed=((7, "a"),)),
        id="known by URL and changed: alias and re-fetch",
    ),
    pytest.param(
        [A, B], {}, {}, {"https://news.example/b"}, Outcome(new=("a",), deferred=1), id="in another poll"
    ),
    pytest.param(
        [A, B],
        {"guid-a": known(1, A)},
        {"https://news.example/b": known(2, B)},
        {"https://news.example/a", "https://news.example/b"},
        Outcome(aliases=(EntryAlias("news", "guid-b", "https://news.example/b"),), known=2),
        id="known wins over in flight",
    ),
    pytest.param(
        [A, A_ELSEWHERE], {}, {}, (), Outcome(new=("a",)), id="two entries, one canonical URL: the first"
    ),
]


def _summary(decided: Triage) -> Outcome:
    """ListedEntries reduced to the last part of their URL, for a readable table."""
    return Outcome(
        new=tuple(item.key.rsplit("/", 1)[1] for item in decided.new),
        aliases=decided.aliases,
        changed=tuple((c.article_id, c.item.key.rsplit("/", 1)[1]) for c in decided.changed),
        known=decided.known,
        deferred=decided.deferred,
    )


@pytest.mark.parametrize(("entries", "known_guids", "known_urls", "in_flight", "expected"), TRIAGE_CASES)
def test_triage(
    entries: list[FeedEntry],
    known_guids: dict[str, KnownEntry],
    known_urls: dict[str, KnownEntry],
    in_flight: set[str],
    expected: Outcome,
) -> None:
    listed = candidates(entries, feed_url=FEED)
    assert _summary(triage("news", listed, known_guids, known_urls, in_flight=in_flight)) == expected


def test_candidates_resolve_relative_links_and_refuse_other_schemes() -> None:
    relative = FeedEntry("r", "/2026/11/story.html")
    script = FeedEntry("s", "javascript:alert(1)")
    linkless = FeedEntry("n", None)
    listed = candidates([relative, script, linkless], feed_url=FEED)
    assert list(listed.by_key) == ["https://news.example/2026/11/story.html"]
    assert listed.by_key["https://news.example/2026/11/story.html"].fetch_url == (
        "https://news.example/2026/11/story.html"
    )
    assert listed.refused == (script, linkless)
    assert listed.guids == ["r"]
    assert refused_scheme("javascript:alert(1)") == "javascript"
    assert refused_scheme(" DATA:text/html,x") == "data"
    assert refused_scheme("no-scheme") == "relative"


def test_triage_keeps_the_link_as_published_for_the_request() -> None:
    listed = candidates([A_ELSEWHERE], feed_url=FEED)
    (item,) = triage("news", listed, {}, {}).new
    assert item.key == "https://news.example/a"
    assert item.fetch_url == "https://news.example/a?utm_source=rss"
    assert triage("news", ListedEntries({}), {}, {}) == Triage()


# -- the page fetcher ---------------------------------------------------------------------------------------

HTML = b"<html><body><article><p>The body.</p></article></body></html>"


@dataclass
class FakeClient:
    """An HttpClient: pages by URL; a FetchError to raise instead; robots.txt refusing some URLs."""

    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    errors: dict[str, FetchError] = field(default_factory=dict)
    disallowed: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    requested: list[str] = field(default_factory=list)
    active: int = 0
    most_active: int = 0

    async def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        self.requested.append(url)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if url in self.errors:
                raise self.errors[url]
            content_type, body = self.pages[url]
            headers = {"content-type": content_type, "content-language": "en"}
            return FetchResult(url, url + "?landed", 200, headers, body, duration_ms=3)
        finally:
            self.active -= 1

    async def allowed_by_robots(self, url: str) -> bool:
        return url not in self.disallowed


@dataclass
class FakeExtractor:
    """An Extractor: a fixed text, or an exception; remembers what it was asked."""

    text: str = "The body."
    error: Exception | None = None
    calls: list[dict[str, object]] = field(default_factory=list)

    async def extract(
        self,
        content: bytes,
        *,
        url: str,
        charset: str | None,
        now: datetime,
        selectors: Selectors | None = None,
        content_language: str | None = None,
        decided: bool = True,
    ) -> ExtractedPage:
        self.calls.append(
            {
                "url": url,
                "charset": charset,
                "now": now,
                "content_language": content_language,
                "decided": decided,
            }
        )
        if self.error is not None:
            raise self.error
        return ExtractedPage(self.text, title="Page title")

    async def parse_feed(self, content: bytes, *, url: str, content_type: str) -> ParsedFeed:
        raise AssertionError("the page fetcher never parses feeds")

    def close(self) -> None:
        pass


def fetch(
    client: FakeClient,
    extractor: FakeExtractor | None = None,
    url: str = "https://news.example/a",
    **options: object,
) -> tuple[FetchedPage, FetchLog]:
    pages = PageFetcher(client, extractor or FakeExtractor(), clock=lambda: NOW, **options)  # type: ignore[arg-type]
    fetches = FetchLog("news")
    return asyncio.run(pages.fetch(SOURCE, url, fetches)), fetches


def test_page_is_fetched_extracted_and_kept_raw() -> None:
    client = FakeClient(pages={"https://news.example/a": ("text/html; charset=utf-8", HTML)})
    extractor = FakeExtractor()
    fetched, fetches = fetch(client, extractor)
    assert fetched.page == ExtractedPage("The body.", title="Page title")
    assert fetched.final_url == "https://news.example/a?landed"
    assert extractor.calls == [
        # the page's own decision is left to build_article, which decides with the feed's evidence too
        {
            "url": "https://news.example/a?landed",
            "charset": "utf-8",
            "now": NOW,
            "content_language": "en",
            "decided": False,
        }
    ]
    assert isinstance(fetched.raw, RawPage) and fetched.raw.compression == rawpage.CODEC
    assert rawpage.decompress(fetched.raw.body, fetched.raw.compression) == HTML
    (record,) = fetches.take()
    assert (record.url, record.kind, record.status, record.bytes, record.error) == (
        "https://news.example/a",
        "page",
        200,
        len(HTML),
        None,
    )
    assert fetches.bytes_fetched == len(HTML) and fetches.take() == ()


def test_raw_page_not_kept_when_the_archive_keeps_none() -> None:
    client = FakeClient(pages={"https://news.example/a": ("text/html", HTML)})
    fetched, _ = fetch(client, archive_raw=False)
    assert fetched.page is not None and fetched.raw is None


def test_robots_refusal_is_logged_and_nothing_requested() -> None:
    client = FakeClient(disallowed={"https://news.example/a"})
    fetched, fetches = fetch(client)
    assert fetched == FetchedPage() and client.requested == []
    (record,) = fetches.take()
    assert record.status is None and record.error is not None and record.error.startswith("robots:")


def test_http_error_keeps_the_feed_text_and_remembers_retry_after() -> None:
    url = "https://news.example/a"
    client = FakeClient(errors={url: FetchError("fetcher: HTTP 429", url=url, status=429, retry_after=120.0)})
    fetched, fetches = fetch(client)
    assert fetched == FetchedPage()
    (record,) = fetches.take()
    assert record.status == 429 and record.error == "fetcher: HTTP 429"
    assert fetches.retry_after_s == 120.0


@pytest.mark.parametrize(
    ("content_type", "extractor", "page_kept", "note"),
    [
        ("application/pdf", FakeExtractor(), False, "extract: not an HTML page (application/pdf)"),
        ("text/html", FakeExtractor(error=ValueError("broken")), False, "extract: ValueError: broken"),
        ("text/html", FakeExtractor(text=""), True, "extract: no article text found on the page"),
    ],
    ids=["not html", "extractor raises", "no text"],
)
def test_page_without_text_is_noted_in_the_fetch_log(
    content_type: str, extractor: FakeExtractor, page_kept: bool, note: str
) -> None:
    client = FakeClient(pages={"https://news.example/a": (content_type, HTML)})
    fetched, fetches = fetch(client, extractor)
    assert (fetched.page is not None) is page_kept
    assert (fetched.raw is not None) is page_kept
    assert fetched.final_url == "https://news.example/a?landed"
    (record,) = fetches.take()
    assert record.status == 200 and record.error is not None and record.error.startswith(note)


def test_pages_in_flight_are_bounded_across_callers() -> None:
    urls = [f"https://news.example/{n}" for n in range(7)]
    client = FakeClient(pages={url: ("text/html", HTML) for url in urls})

    async def run() -> list[FetchedPage]:
        client.gate = asyncio.Event()
        pages = PageFetcher(client, FakeExtractor(), clock=lambda: NOW, in_flight=3)
        fetches = FetchLog("news")
        tasks = [asyncio.ensure_future(pages.fetch(SOURCE, url, fetches)) for url in urls]
        for _ in range(20):  # every task has had its turn: three hold a slot, four wait for one
            await asyncio.sleep(0)
        assert len(client.requested) == 3  # the rest wait for a slot
        client.gate.set()
        return list(await asyncio.gather(*tasks))

    fetched = asyncio.run(run())
    assert all(page.page is not None for page in fetched)
    assert client.most_active == 3 and sorted(client.requested) == sorted(urls)


# -- build_article --------------------------------------------------------------------------------------------

ENTRY = FeedEntry(
    "guid-a",
    "https://news.example/a?utm_source=rss",
    title="Feed headline",
    authors=("Feed Author",),
    published_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
    summary="The feed's summary.",
    content="The feed's full text.",
)


def test_article_from_the_feed_alone() -> None:
    article = build_article(source=SOURCE, entry=ENTRY, link=ENTRY.link or "", fetched_at=NOW)
    assert article.extraction == "feed"
    assert article.text == "The feed's full text."
    assert article.url == article.link == article.landed == "https://news.example/a"
    assert article.urls == ("https://news.example/a",)
    assert (article.source, article.guid, article.fetched_at) == ("news", "guid-a", NOW)
    assert article.title == article.feed_title == "Feed headline"
    assert article.published_at == ENTRY.published_at
    assert article.summary == "The feed's summary."
    assert article.entry_hash == entry_fingerprint(ENTRY)
    assert article.raw is None and not article.url_from_page


def test_article_from_its_page_keeps_every_url_it_is_known_by() -> None:
    page = ExtractedPage(
        "The page's body, longer than the feed's.",
        title="Page headline",
        canonical_url="https://news.example/2026/11/a.html",
        image="/img/a.jpg",
        section="World",
    )
    raw = RawPage("https://news.example/a-landed", "text/html", "utf-8", b"zz", rawpage.CODEC)
    article = build_article(
        source=SOURCE,
        entry=ENTRY,
        link=ENTRY.link or "",
        fetched_at=NOW,
        page=page,
        final_url="https://news.example/a-landed",
        feed_language="en",
        channel_title="News",
        raw=raw,
    )
    assert article.extraction == "page"
    assert article.text == "The page's body, longer than the feed's."
    assert article.url == "https://news.example/2026/11/a.html" and article.url_from_page
    assert article.link == "https://news.example/a"
    assert article.landed == "https://news.example/a-landed"
    assert set(article.urls) == {article.url, article.link, article.landed}
    assert article.image == "https://news.example/img/a.jpg"
    assert article.section == "World" and article.raw is raw
    assert article.feed_title == "Feed headline"
    assert (article.channel_title, article.channel_language) == ("News", "en")


def test_a_page_without_text_leaves_the_feed_text() -> None:
    article = build_article(
        source=SOURCE,
        entry=FeedEntry("g", "https://news.example/b", summary="Only a summary."),
        link="https://news.example/b",
        fetched_at=NOW,
        page=ExtractedPage(""),
        final_url="https://news.example/b",
    )
    assert article.extraction == "feed" and article.text == "Only a summary."
    assert article.content_hash  # even a feed-only article is hashed for dedup
