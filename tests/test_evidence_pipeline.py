"""Metadata by evidence through the whole pipeline (issue 13), against a real HTTP server on 127.0.0.1:
feed-only sources in nine scripts get a language and are found by a one-word query; a blog network whose
pages' titles are "Site » Headline" with only a bare day keeps the feed's headline and minute; reextract
decides the same way from what the row kept."""

from __future__ import annotations

import html
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from monitor.models import StoredArticle
from tests.support.archive import EVERY_ARTICLE, articles, reader
from tests.support.newssite import NewsServer, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI

# language: (title, summary, one-word query found only in it)
FEED_ONLY = {
    "zh": (
        "马杜罗会见伊朗外长",
        "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。",
        "马杜罗",
    ),
    "ja": (
        "東北で強い地震",
        "気象庁によると、けさ東北地方で強い地震があり、津波の心配はないということです。",
        "地震",
    ),
    "ko": ("서울 도심 행진", "토요일 서울 도심에서 대규모 집회가 열려 시민들이 행진했다.", "집회"),
    "th": ("ฝนตกหนัก", "ฝนตกหนักทำให้เกิดน้ำท่วมในหลายจังหวัดของภาคเหนือ ประชาชนต้องอพยพ", "น้ำท่วม"),
    "ar": (
        "بيان في غزة",
        "أصدرت المقاومة الفلسطينية بيانا حول المفاوضات الجارية في القاهرة اليوم.",
        "مقاومة",
    ),
    "fa": (
        "دیدار وزیر خارجه",
        "وزیر امور خارجه ایران امروز در تهران با همتای کویتی خود دیدار و گفتگو کرد.",
        "کویتی",
    ),
    "ru": (
        "Встреча в Стамбуле",
        "Делегации провели переговоры в Стамбуле и договорились о новой встрече.",
        "переговоры",
    ),
    "hi": (
        "दिल्ली में बारिश",
        "दिल्ली में भारी बारिश के कारण कई इलाकों में जलभराव हो गया और यातायात रुक गया।",
        "जलभराव",
    ),
    "en": (
        "Valley floods",
        "Heavy floods hit the valley on Monday after three days of rain, officials said.",
        "flooded",
    ),
}


def _rss(items: list[tuple[str, str, str, str]], *, title: str, language: str | None = None) -> str:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><guid>{html.escape(link)}</guid>"
        f"<pubDate>{date}</pubDate><description>{html.escape(summary)}</description></item>"
        for t, link, date, summary in items
    )
    declared = f"<language>{language}</language>" if language else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{html.escape(title)}</title>'
        f"<link>http://example.invalid/</link>{declared}{entries}</channel></rss>"
    )


@pytest.fixture
def server() -> Iterator[NewsServer]:
    with NewsServer() as running:
        yield running


def test_feed_only_articles_in_nine_scripts_have_a_language_and_are_found(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    sources = []
    for language, (title, summary, _) in FEED_ONLY.items():
        link = server.url(f"/{language}/news/1")
        feed = _rss([(title, link, "Mon, 23 Nov 2026 08:00:00 GMT", summary)], title=f"News {language}")
        server.add(f"/{language}/rss.xml", feed, content_type="application/rss+xml; charset=utf-8")
        sources.append(
            {"id": f"src-{language}", "feed": server.url(f"/{language}/rss.xml"), "fetch_articles": False}
        )
    config, archive = tmp_path / "config.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0, err
    with reader(archive) as archived:
        languages = {article.source: article.language for article in archived.iter_articles(EVERY_ARTICLE)}
    assert languages == {f"src-{language}": language for language in FEED_ONLY}
    for language, (_, _, word) in FEED_ONLY.items():
        code, out, err = monitor_cli(config, "search", word, "--format", "json")
        assert code == 0, err
        assert [hit["source"] for hit in json.loads(out)] == [f"src-{language}"], word


BLOG_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Blog Network &raquo; {title}</title>
<meta name="date" content="2009-06-08"></head><body><div id="header"><a href="/">Blog Network</a></div>
<div class="post"><h2 class="storytitle">{title}</h2><div class="storycontent">
<p>{title} was the talk of the blog network this morning, with readers writing in from every corner of
the country to share what they had seen and what they made of it.</p>
<p>Several of them sent photographs, and one reader who was there from the start described the scene in
detail, from the first arrivals at dawn to the crowds that gathered by noon.</p>
<p>More posts on the subject will follow as the week goes on and as the people involved answer the
questions our readers have been asking since the news first broke.</p></div></div></body></html>"""


def by_guid(stored: list[StoredArticle]) -> list[StoredArticle]:
    return sorted(stored, key=lambda article: article.guid or "")


def test_blog_network_titles_and_times_come_from_the_feed_where_the_page_is_poorer(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    items = []
    for i in range(5):
        title = f"Garden party number {i} draws a crowd"
        server.add(
            f"/blog/{i}", BLOG_PAGE.format(title=html.escape(title)), content_type="text/html; charset=utf-8"
        )
        items.append((title, server.url(f"/blog/{i}"), f"Mon, 08 Jun 2009 05:5{i}:18 GMT", "A garden party."))
    server.add(
        "/blog/feed", _rss(items, title="Blog Network", language="en"), content_type="application/rss+xml"
    )
    config, archive = tmp_path / "config.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "blognet", "feed": server.url("/blog/feed")}], archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0, err
    with reader(archive) as archived:
        rows = [(a.title, a.published_at, a.language, a.guid) for a in by_guid(articles(archived))]
        knowledge = archived.poll_state("blognet").knowledge
    assert len(rows) == 5
    for i, (title, published_at, language, _) in enumerate(rows):
        assert title == f"Garden party number {i} draws a crowd"
        assert published_at == f"2009-06-08T05:5{i}:18Z"
        assert language == "en"
    assert knowledge is not None and knowledge.site_name == "Blog Network"
    # re-extraction decides again from the kept page and the feed evidence kept in the row: same result
    db = sqlite3.connect(archive)  # the rows spoilt by hand: no writer method does that
    db.execute("UPDATE articles SET title = 'Blog Network', published_at = '2009-06-08T00:00:00Z'")
    db.commit()
    db.close()
    code, _, err = monitor_cli(config, "reextract", "--force")
    assert code == 0, err
    with reader(archive) as archived:
        again = [(a.title, a.published_at) for a in by_guid(articles(archived))]
    assert again == [(title, published) for title, published, _, _ in rows]


def test_the_content_language_header_is_the_pages_own_declaration(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    """A page that declares nothing in its markup, sent with ``Content-Language: fr``, in a channel that
    declares ``en``: the page's own declaration (its header) comes before the channel's."""
    page = (
        "<html><head><title>Le conseil vote</title></head><body><article><h1>Le conseil vote</h1>"
        "<p>Le conseil municipal a voté lundi la reconstruction du vieux pont du port, mettant fin à un débat "
        "qui durait depuis plus de dix ans et divisait la ville.</p></article></body></html>"
    )
    for name, headers in (("with", {"Content-Language": "fr"}), ("without", {})):
        server.add(f"/fr/{name}", page, content_type="text/html; charset=utf-8", headers=headers)
    items = [
        ("Le conseil vote", server.url(f"/fr/{name}"), "Mon, 23 Nov 2026 08:00:00 GMT", "Vote.")
        for name in ("with", "without")
    ]
    server.add("/fr/feed", _rss(items, title="Town", language="en"), content_type="application/rss+xml")
    config, archive = tmp_path / "config.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "town", "feed": server.url("/fr/feed")}], archive=archive)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0, err
    with reader(archive) as archived:
        languages = {a.url.rsplit("/", 1)[1]: a.language for a in archived.iter_articles(EVERY_ARTICLE)}
    assert languages == {"with": "fr", "without": "en"}
