"""Publication dates by evidence (issue 13): golden small pages per rule, and pages of the shared metadata
benchmark (half A) named by file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from monitor.extract.charset import decode_html
from monitor.extract.dates import (
    choose_published,
    fallback_candidate,
    local_iso,
    modified_candidates,
    parse_moment,
    published_candidates,
    to_utc,
)
from monitor.extract.evidence import Candidate, Moment
from monitor.extract.page import PageDoc

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "metadata"


def page(head: str = "", body: str = "", url: str = "https://news.example/story") -> PageDoc:
    doc = PageDoc.parse(f"<html><head>{head}</head><body>{body}</body></html>", url)
    assert doc is not None
    return doc


def json_ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def chosen(doc: PageDoc, **kwargs: datetime | None) -> Moment:
    choice = choose_published(published_candidates(doc, now=NOW), **kwargs)
    assert choice.value is not None, choice
    return choice.value


# parsing ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "local", "precision", "declared"),
    [
        ("2019-12-12T09:30:00+01:00", "2019-12-12T09:30:00+01:00", "second", True),
        ("2019-12-12T08:30:00Z", "2019-12-12T08:30:00+00:00", "second", True),
        ("2019-12-12 09:30:00.123456+0100", "2019-12-12T09:30:00+01:00", "second", True),
        ("2019-12-12T09:30", "2019-12-12T09:30:00+00:00", "minute", False),
        ("2019-12-12", "2019-12-12", "day", False),
        ("12.12.2019", "2019-12-12", "day", False),
        ("Thu, 12 Dec 2019 09:30:00 +0100", "2019-12-12T09:30:00+01:00", "second", True),
        ("2019-12-12T00:00:00+01:00", "2019-12-12", "day", True),  # a template's midnight is a bare day
    ],
)
def test_parse_moment_keeps_the_declared_offset(
    text: str, local: str, precision: str, declared: bool
) -> None:
    moment = parse_moment(text, now=NOW)
    assert moment is not None
    assert (local_iso(moment), moment.precision, moment.declared_offset) == (local, precision, declared)


@pytest.mark.parametrize("text", ["1994-12-31", "2026-11-30T00:00:00Z", "not a date", "", "2019-13-45"])
def test_parse_moment_rejects_implausible_and_malformed_dates(text: str) -> None:
    assert parse_moment(text, now=NOW) is None


def test_declared_offset_is_kept_local_and_converted_for_utc() -> None:
    doc = page('<meta property="article:published_time" content="2019-12-12T09:30:00+01:00">')
    moment = chosen(doc)
    assert local_iso(moment) == "2019-12-12T09:30:00+01:00"
    assert to_utc(moment) == datetime(2019, 12, 12, 8, 30, tzinfo=UTC)


def test_utc_time_is_shown_in_the_zone_of_the_page_country() -> None:
    """A German page writing its times in UTC: 23:00 UTC on 6 November is 7 November for its readers."""
    doc = page(
        '<meta property="article:published_time" content="2022-11-06T23:00:00+00:00">',
        url="https://magazin.example.de/reise",
    )
    moment = chosen(doc)
    assert local_iso(moment) == "2022-11-07T00:00:00+01:00"
    assert to_utc(moment) == datetime(2022, 11, 6, 23, 0, tzinfo=UTC)


def test_local_time_without_offset_reveals_the_page_zone_of_its_utc_times() -> None:
    """A US page: metadata in UTC (05:30:59 on the 9th), the article's ``<time>`` the same instant as wall-
    clock time without an offset (23:30:59 on the 8th): the page's offset is -06:00 and its day the 8th."""
    doc = page(
        '<meta property="article:published_time" content="2023-11-09T05:30:59+00:00">',
        '<h1>Story</h1><time datetime="2023-11-08 23:30:59">November 8, 2023 at 11:30 p.m.</time>',
        url="https://news.example.com/story",
    )
    moment = chosen(doc)
    assert local_iso(moment) == "2023-11-08T23:30:59-06:00"
    assert to_utc(moment) == datetime(2023, 11, 9, 5, 30, 59, tzinfo=UTC)


def test_unrelated_local_and_utc_times_reveal_no_zone() -> None:
    doc = page(
        '<meta property="article:published_time" content="2023-11-09T05:30:59+00:00">',
        '<h1>Story</h1><time datetime="2023-11-08 23:31:12">November 8</time>',
        url="https://news.example.com/story",
    )
    assert local_iso(chosen(doc)) == "2023-11-09T05:30:59+00:00"


# feed and page ---------------------------------------------------------------------------------------
def test_feed_minute_beats_the_page_bare_day_on_the_same_day() -> None:
    doc = page('<meta name="date" content="2009-06-08">')
    choice = choose_published(
        published_candidates(doc, now=NOW), feed_published=datetime(2009, 6, 8, 5, 50, 18, tzinfo=UTC)
    )
    assert choice.source == "feed:published"
    assert choice.value is not None and to_utc(choice.value) == datetime(2009, 6, 8, 5, 50, 18, tzinfo=UTC)


def test_feed_time_is_compared_in_the_page_time_zone() -> None:
    """The feed says 23:30 UTC on the 7th; the page's zone (+02:00) makes that the 8th, the page's day."""
    doc = page(
        '<meta name="date" content="2009-06-08">'
        '<meta property="article:modified_time" content="2009-06-09T10:00:00+02:00">'
    )
    choice = choose_published(
        published_candidates(doc, now=NOW), feed_published=datetime(2009, 6, 7, 23, 30, tzinfo=UTC)
    )
    assert choice.source == "feed:published"
    assert choice.value is not None and local_iso(choice.value) == "2009-06-08T01:30:00+02:00"


def test_page_day_wins_over_a_feed_time_on_another_day() -> None:
    doc = page('<meta name="date" content="2009-06-08">')
    choice = choose_published(
        published_candidates(doc, now=NOW), feed_published=datetime(2009, 6, 10, 5, 50, tzinfo=UTC)
    )
    assert choice.source == "meta:date"
    assert choice.value is not None and local_iso(choice.value) == "2009-06-08"


def test_precise_page_time_wins_over_the_feed() -> None:
    doc = page('<meta property="article:published_time" content="2009-06-08T07:00:00+02:00">')
    choice = choose_published(
        published_candidates(doc, now=NOW), feed_published=datetime(2009, 6, 8, 5, 50, tzinfo=UTC)
    )
    assert choice.source == "meta:article:published_time"


def test_feed_alone_when_the_page_states_nothing() -> None:
    choice = choose_published((), feed_published=datetime(2009, 6, 8, 5, 50, tzinfo=UTC))
    assert choice.source == "feed:published"


# the fetch bounds the time ---------------------------------------------------------------------------
def test_time_later_than_the_fetch_is_dropped_not_clamped() -> None:
    fetched = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    later = Candidate(Moment(fetched + timedelta(hours=3)), "json-ld:datePublished")
    earlier = Candidate(Moment(fetched - timedelta(days=2)), "meta:date")
    alone = choose_published([later], fetched_at=fetched)
    assert alone.value is None and alone.reason == "later than the fetch"
    both = choose_published([later, earlier], fetched_at=fetched)
    assert both.source == "meta:date" and "later than the fetch" in (both.reason or "")


def test_small_clock_skew_and_a_bare_day_of_the_fetch_are_accepted() -> None:
    fetched = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
    skew = Candidate(Moment(fetched + timedelta(minutes=5)), "meta:article:published_time")
    assert choose_published([skew], fetched_at=fetched).value is not None
    # a page in UTC+1 writes "28 November" at 00:30 UTC's 01:30 local: the same day, not the future
    day = Candidate(Moment(datetime(2026, 11, 28, tzinfo=UTC), "day", declared_offset=False), "meta:date")
    assert choose_published([day], fetched_at=fetched - timedelta(hours=1)).value is not None


# disagreement ----------------------------------------------------------------------------------------
def test_json_ld_article_outweighs_weaker_disagreeing_sources() -> None:
    doc = page(
        json_ld({"@type": "NewsArticle", "datePublished": "2020-01-10T08:00:00+01:00"})
        + '<meta name="date" content="2020-03-01">',
        '<article><h1>Story</h1><time datetime="2020-03-01">1 March</time></article>',
    )
    choice = choose_published(published_candidates(doc, now=NOW))
    assert choice.source == "json-ld:datePublished"
    assert choice.value is not None and local_iso(choice.value) == "2020-01-10T08:00:00+01:00"
    assert "disagreeing" in (choice.reason or "")


def test_agreeing_sources_give_the_most_precise_statement() -> None:
    doc = page(
        '<meta name="date" content="2020-01-10">'
        '<meta property="og:published_time" content="2020-01-10T08:00:00+01:00">',
        "<h1>Story</h1><p>10. Januar 2020</p>",
    )
    choice = choose_published(published_candidates(doc, now=NOW))
    assert choice.source == "meta:og:published_time"
    assert "meta:date" in (choice.reason or "")


def test_related_article_time_is_not_taken() -> None:
    doc = page(
        body='<div class="related-articles"><time datetime="2019-01-01T10:00:00+01:00">1.1.</time></div>'
        '<aside><time datetime="2019-02-02T10:00:00+01:00">2.2.</time></aside>'
        '<article><h1>Story</h1><p class="meta"><time datetime="2020-05-05T10:00:00+02:00">5 May</time></p>'
        "<p>Text.</p></article>"
    )
    found = [c for c in published_candidates(doc, now=NOW) if c.source == "time"]
    assert [local_iso(c.value) for c in found] == ["2020-05-05T10:00:00+02:00"]


def test_json_ld_listing_objects_are_not_candidates() -> None:
    doc = page(json_ld({"@type": "ItemList", "datePublished": "2019-01-01"}))
    assert published_candidates(doc, now=NOW) == ()


def test_url_and_dateline_below_the_headline_are_candidates() -> None:
    doc = page(
        body="<h1>Story</h1><p>Von Max Muster, 1. Februar 2022</p>", url="https://x.example/2022/02/01/story"
    )
    found = {c.source: local_iso(c.value) for c in published_candidates(doc, now=NOW)}
    assert found == {"text:headline": "2022-02-01", "url": "2022-02-01"}


def test_dateline_inside_the_headline_element_beats_a_date_in_the_text_below() -> None:
    doc = page(
        body="<h1>Story<br><small><span class='icon'></span>&nbsp;02.02.2022 &bull; Tags</small></h1>"
        "<p>Die am 28.01.2022 in Kraft getretene Verordnung gilt.</p>"
    )
    assert local_iso(chosen(doc)) == "2022-02-02"


def test_date_the_headline_mentions_is_not_its_dateline() -> None:
    doc = page(
        body="<h1>Ab <em>1. März 2022</em> gilt die neue Regel für alle</h1><p>Von Max, 3. Februar 2022</p>"
    )
    doc_long = page(body="<h1>Story <span>Was sich am 1. März 2022 für Mieter in Berlin ändert</span></h1>")
    assert local_iso(chosen(doc)) == "2022-02-03"
    assert published_candidates(doc_long, now=NOW) == ()


def test_modified_stays_separate() -> None:
    doc = page(
        '<meta property="article:published_time" content="2020-01-10T08:00:00+01:00">'
        '<meta property="article:modified_time" content="2020-01-12T08:00:00+01:00">'
    )
    assert [c.source for c in modified_candidates(doc, now=NOW)] == ["meta:article:modified_time"]
    assert local_iso(chosen(doc)) == "2020-01-10T08:00:00+01:00"


def republished(shown: str) -> PageDoc:
    return page(
        '<meta property="article:published_time" content="2022-11-17T11:33:13+01:00">'
        '<meta property="article:modified_time" content="2022-11-17T11:32:18+01:00">',
        f'<article><h1>Story</h1><time datetime="{shown}">{shown}</time><p>Text.</p></article>',
        url="https://www.example.de/story",
    )


def test_publication_stamped_when_saved_gives_way_to_the_day_the_page_shows() -> None:
    """A CMS that re-stamps the publication time when the page is saved: the stamp is the modification
    time, and the page's own date (months earlier) is the publication."""
    doc = republished("2022-03-09")
    sources = [c.source for c in published_candidates(doc, now=NOW)]
    assert sources == ["meta:article:published_time=modified", "time", "text:headline"]
    assert local_iso(chosen(doc)) == "2022-03-09"


@pytest.mark.parametrize("shown", ["2022-11-16", "2022-11-17T11:33:13+01:00"])
def test_publication_equal_to_the_modification_is_kept_near_the_day_shown(shown: str) -> None:
    assert local_iso(chosen(republished(shown))) == "2022-11-17T11:33:13+01:00"


# htmldate, the last resort ---------------------------------------------------------------------------
def test_fallback_finds_a_visible_date_and_leaves_the_tree_intact() -> None:
    doc = page(body="<div><h2>Blog</h2><p>Text of the post, long enough to be an article.</p>"
               "<p class='postmeta'>2010-05-19 by Max</p></div>")  # fmt: skip
    assert published_candidates(doc, now=NOW) == ()
    before = etree.tostring(doc.tree)
    found = fallback_candidate(doc, now=NOW)
    assert found is not None and found.source == "htmldate" and local_iso(found.value) == "2010-05-19"
    assert etree.tostring(doc.tree) == before


@pytest.mark.parametrize(
    ("body", "day"),
    [
        (
            "<p class='foot'>Letzte Änderung: 31.10.2023 - 14:49<br>Erschienen am: 01.11.2023</p>",
            "2023-11-01",
        ),
        ("<p>Text.</p><p><span>Published on</span> <b>March 3, 2020</b></p>", "2020-03-03"),
        ("<p>Publié le mardi 10 décembre 2019</p><p>Modifié le 12 décembre 2019</p>", "2019-12-10"),
        ("<div class='footer'><p>Veröffentlicht am 02.02.2022</p></div>", "2022-02-02"),  # the only one
    ],
)
def test_labelled_publication_date_before_htmldate(body: str, day: str) -> None:
    doc = page(body=f"<div><h2>Blog</h2><p>Text of the post, long enough to be an article.</p>{body}</div>")
    found = fallback_candidate(doc, now=NOW)
    assert found is not None and (found.source, local_iso(found.value)) == ("text:label", day)


def test_labelled_dates_of_teasers_are_not_taken() -> None:
    teasers = "".join(f"<li>Veröffentlicht am 0{n}.02.2022</li>" for n in (1, 2))
    doc = page(body=f"<h2>Blog</h2><p>Text, vom Juni 2010.</p><ul class='related'>{teasers}</ul>")
    found = fallback_candidate(doc, now=NOW)
    assert found is None or found.source == "htmldate"


# pages of the shared benchmark (half A) --------------------------------------------------------------
def shared_page(name: str) -> tuple[PageDoc, dict[str, object]]:
    """A page of the shared benchmark with its human-checked expectations (skipped when the set is absent)."""
    path = SHARED / "pages" / name
    if not path.exists():
        pytest.skip(f"the shared metadata benchmark is not at {SHARED}")
    rows = (json.loads(line) for line in (SHARED / "expected.jsonl").read_text(encoding="utf-8").splitlines())
    row = next(r for r in rows if r["page"] == f"pages/{name}")
    doc = PageDoc.parse(decode_html(path.read_bytes(), None), str(row["url"]))
    assert doc is not None
    return doc, row


@pytest.mark.parametrize(
    "name",
    [
        "0000_tdg.ch.chlorothalonil.html",  # JSON-LD and meta agree
        "0028_golf.de-augusta.html",  # only the dateline below the headline
        "0144_beige.de.suedfrankreich.html",  # UTC on a German page: the readers' day
        "0290_doschu.com.solopreneur.html",  # the URL's month and a Yoast graph
        "0184_twincities.com-mayor.html",  # UTC metadata, local <time>: the page's own offset
        "0126_hvw-online.org-zuschauer.html",  # the dateline inside the h1, a law's date in the text below
        "0288_literaturkritik.de-Ann-Cotten.html",  # "Erschienen am" after "Letzte Änderung" in a footer
        "0198_heizung.de.waermepumpen.html",  # published_time re-stamped with the modification
    ],
)
def test_shared_benchmark_pages(name: str) -> None:
    doc, row = shared_page(name)
    candidates = published_candidates(doc, now=NOW) or tuple(
        c for c in [fallback_candidate(doc, now=NOW)] if c is not None
    )
    choice = choose_published(candidates, fetched_at=NOW)
    assert choice.value is not None and local_iso(choice.value)[:10] == row["date"]


def test_feed_time_without_offset_is_taken_as_utc() -> None:
    choice = choose_published((), feed_published=datetime(2009, 6, 8, 5, 50))
    assert choice.value is not None and choice.value.at.tzinfo == UTC


def test_local_iso_of_a_minute() -> None:
    moment = Moment(datetime(2019, 12, 12, 9, 30, tzinfo=timezone(timedelta(hours=1))), "minute")
    assert local_iso(moment) == "2019-12-12T09:30:00+01:00"
