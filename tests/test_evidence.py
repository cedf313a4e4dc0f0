"""Metadata by evidence (issue 13): the page, its feed entry and channel, and what is known of the source
decide each field together, in the pipeline, in ``reextract`` and in ``monitor extract --explain``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from monitor.articles import build_article, reextracted_fields
from monitor.cli import cli
from monitor.extract import extract_article
from monitor.extract.decide import decide, learn
from monitor.extract.evidence import FeedEvidence
from monitor.models import ArticleFields, FeedEntry, Source, StoredPage

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
SOURCE = Source(id="blognet", name="Blog Network", url="https://blog.example/feed", interval_s=900)
BODY = (
    "<p>The city council voted on Monday to rebuild the old harbour bridge, ending a debate that had "
    "lasted more than ten years and divided the town.</p>"
    "<p>Engineers say the work will take three years and close the crossing to lorries for most of it, "
    "while a ferry will carry cyclists and people on foot.</p>"
)


def _page(title: str, *, head: str = "", h1: str | None = None, lang: str = "en") -> str:
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (
        f'<html lang="{lang}"><head><title>{title}</title>{head}</head>'
        f"<body><article>{heading}{BODY}</article></body></html>"
    )


def test_site_name_only_title_loses_to_the_feed_title() -> None:
    """The 2009 blog-network case: <title> is "Site » Headline" with no h1; pages alone would take the site
    name for a title. The feed's title and the name learned across pages decide."""
    pages = [
        extract_article(_page(f"Blog Network » Story number {i}"), url=f"https://blog.example/{i}", now=NOW)
        for i in range(3)
    ]
    knowledge = learn(None, [p.evidence for p in pages if p.evidence])
    assert knowledge.site_name == "Blog Network"
    entry = FeedEntry(guid="1", link="https://blog.example/1", title="Story number 1")
    article = build_article(
        source=SOURCE,
        entry=entry,
        link="https://blog.example/1",
        fetched_at=NOW,
        page=pages[1],
        knowledge=knowledge,
    )
    assert article.title == "Story number 1"


def test_feed_minute_beats_the_pages_bare_day() -> None:
    head = '<meta property="article:published_time" content="2009-06-08">'
    page = extract_article(
        _page("A headline", head=head, h1="A headline"), url="https://b.example/a", now=NOW
    )
    assert page.published_local == "2009-06-08"
    entry = FeedEntry(
        guid="a",
        link="https://b.example/a",
        title="A headline",
        published_at=datetime(2009, 6, 8, 5, 50, 18, tzinfo=UTC),
    )
    article = build_article(source=SOURCE, entry=entry, link="https://b.example/a", fetched_at=NOW, page=page)
    assert article.published_at == datetime(2009, 6, 8, 5, 50, 18, tzinfo=UTC)
    other_day = FeedEntry(
        guid="a",
        link="https://b.example/a",
        title="A headline",
        published_at=datetime(2009, 6, 10, 7, 0, tzinfo=UTC),
    )
    article = build_article(
        source=SOURCE, entry=other_day, link="https://b.example/a", fetched_at=NOW, page=page
    )
    assert article.published_local is not None and article.published_local.startswith("2009-06-08")


def test_declared_offset_kept_local_and_converted_for_utc() -> None:
    head = '<meta property="article:published_time" content="2026-11-28T23:30:00+03:00">'
    page = extract_article(_page("Headline", head=head, h1="Headline"), url="https://b.example/x", now=NOW)
    assert page.published_local == "2026-11-28T23:30:00+03:00"
    assert page.published_at == datetime(2026, 11, 28, 20, 30, tzinfo=UTC)


def test_feed_only_article_gets_a_language_from_its_text() -> None:
    entry = FeedEntry(
        guid="z",
        link="https://zh.example/1",
        title="马杜罗发表讲话",
        summary="委内瑞拉总统马杜罗周日在加拉加斯发表讲话，呼吁各方保持冷静并继续对话。",
    )
    feed_only = Source(
        id="zh", name="ZH", url="https://zh.example/feed", interval_s=900, fetch_articles=False
    )
    article = build_article(source=feed_only, entry=entry, link="https://zh.example/1", fetched_at=NOW)
    assert article.language == "zh"


def test_channel_language_holds_against_a_quoting_text() -> None:
    """An English page (no declaration of its own) quoting French bloggers, in a channel declaring en."""
    french = (
        "<p>« Nous ne lâcherons rien, la mobilisation continue partout en France », écrit un blogueur "
        "parisien, tandis qu'un autre ajoute que « le gouvernement doit entendre la colère de la rue ».</p>"
    )
    html = f"<html><head><title>Bloggers react</title></head><body><article><h1>Bloggers react</h1>{french}</article></body></html>"
    page = extract_article(html, url="https://en.example/b", now=NOW)
    entry = FeedEntry(guid="b", link="https://en.example/b", title="Bloggers react", language="en")
    article = build_article(
        source=SOURCE, entry=entry, link="https://en.example/b", fetched_at=NOW, page=page, feed_language="en"
    )
    assert article.language == "en"


def test_reextraction_decides_with_the_stored_feed_evidence() -> None:
    page = extract_article(_page("Blog Network » Story"), url="https://blog.example/s", now=NOW)
    fields = ArticleFields(
        text=page.text,
        content_hash="",
        title="Blog Network",
        authors=(),
        summary=None,
        language="en",
        image=None,
        section=None,
        keywords=(),
        outlet_name=None,
        published_at=None,
        modified_at=None,
        published_local=None,
        attribution=None,
        extraction="page",
    )
    current = StoredPage(
        article_id=1,
        source="blog",
        url="https://blog.example/s",
        content_type="text/html",
        charset=None,
        compression="none",
        body=b"",
        current=fields,
        feed_title="Story",
        entry_published_at="2009-06-08T05:50:18Z",
        entry_language="en",
        channel_title="Blog Network",
        channel_language="en",
    )
    changed = reextracted_fields(current, page, page_url="https://blog.example/s", fetched_at=NOW)
    assert {"title", "published_at"} <= changed.changed
    assert changed.fields.title == "Story"
    assert changed.fields.published_at == "2009-06-08T05:50:18Z"


def test_decide_names_the_winner_and_the_candidates() -> None:
    head = '<meta property="og:title" content="Bridge vote: council says yes | Town News">'
    page = extract_article(
        _page("Bridge vote | Town News", head=head, h1="Bridge vote: council says yes"),
        url="https://t.example/b",
        now=NOW,
    )
    assert page.evidence is not None
    chosen = decide(page.evidence, FeedEvidence(title="Bridge vote: council says yes"), fetched_at=NOW)
    assert chosen.title.value == "Bridge vote: council says yes"
    assert {c.source for c in chosen.title.candidates} >= {"h1", "og:title", "title"}


def test_extract_explain_json(tmp_path: Path) -> None:
    head = '<meta property="og:site_name" content="Town News">'
    page = tmp_path / "page.html"
    page.write_text(_page("Bridge vote | Town News", head=head, h1="Bridge vote"), encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(
        f"archive: {tmp_path / 'a.db'}\nsources:\n  - id: town\n    feed: https://t.example/feed\n"
    )
    result = CliRunner().invoke(
        cli, ["-c", str(config), "extract", str(page), "--explain", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["title"]["value"] == "Bridge vote"
    assert report["title"]["from"]
    assert any(c["from"] == "title" and "Town News" in c["value"] for c in report["title"]["candidates"])
    assert report["language"]["value"] == "en"
    text = CliRunner().invoke(cli, ["-c", str(config), "extract", str(page), "--explain", "--source", "town"])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("title:") and "(from " in text.output


def test_a_page_left_undecided_gives_the_pipeline_the_same_article() -> None:
    """``decided=False`` (the pipeline's call, issue 14) skips the page-only decision that build_article
    makes again with the feed's evidence: same evidence, same modified time and outlet name, no page-only
    title, authors, time or language; the article built from it is the one built from the decided page."""
    head = (
        '<meta property="og:site_name" content="Harbour Times">'
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:published_time" content="2026-11-28T09:30:00+01:00">'
        '<meta property="article:modified_time" content="2026-11-28T11:00:00+01:00">'
    )
    html = _page("Bridge to be rebuilt | Harbour Times", head=head, h1="Bridge to be rebuilt")
    decided = extract_article(html, url="https://blog.example/a", now=NOW)
    lean = extract_article(html, url="https://blog.example/a", now=NOW, decided=False)
    assert decided.title == "Bridge to be rebuilt" and decided.authors == ("Jane Doe",)
    assert decided.language == "en" and decided.published_local == "2026-11-28T09:30:00+01:00"
    assert (lean.title, lean.authors, lean.published_at, lean.published_local, lean.language) == (
        None,
        (),
        None,
        None,
        None,
    )
    assert lean.evidence == decided.evidence
    assert (lean.text, lean.modified_at, lean.outlet_name) == (
        decided.text,
        decided.modified_at,
        decided.outlet_name,
    )
    assert lean.modified_at == datetime(2026, 11, 28, 10, tzinfo=UTC) and lean.outlet_name == "Harbour Times"
    for entry in (
        FeedEntry(guid="a", link="https://blog.example/a"),
        FeedEntry(guid="a", link="https://blog.example/a", title="Feed title", authors=("John Roe",)),
    ):
        built = [
            build_article(source=SOURCE, entry=entry, link=entry.link or "", fetched_at=NOW, page=page)
            for page in (decided, lean)
        ]
        assert built[0] == built[1]
        assert built[1].title == "Bridge to be rebuilt" and built[1].authors == ("Jane Doe",)
