"""The title by evidence (issue 13): small pages written for each rule, and pages of the shared metadata
benchmark's half A named by file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.extract.charset import decode_html
from monitor.extract.evidence import Candidate
from monitor.extract.page import PageDoc
from monitor.extract.title import (
    choose_title,
    learn_site_name,
    site_name_candidates,
    strip_site_name,
    title_candidates,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "metadata"


def page(head: str, body: str = "", url: str = "https://outlet.example/news/1") -> PageDoc:
    html = f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    doc = PageDoc.parse(html, url)
    assert doc is not None
    return doc


def title_of(doc: PageDoc, **evidence: str) -> str | None:
    names = [c.value for c in site_name_candidates(doc)]
    return choose_title(title_candidates(doc), site_names=names, **evidence).value


def test_entities_are_decoded_even_when_doubly_encoded() -> None:
    doc = page(
        '<title>Warum wir zerst&amp;ouml;ren &quot;Klima&quot; | DW</title><meta property="og:site_name"'
        ' content="DW">'
    )
    assert title_of(doc) == 'Warum wir zerstören "Klima"'
    assert [c.value for c in title_candidates(doc)] == ['Warum wir zerstören "Klima" | DW']


def test_site_suffix_is_stripped_and_the_visible_headline_kept() -> None:
    doc = page(
        '<title>Flut in Libyen: Tausende Tote | DW</title><meta property="og:site_name" content="DW">',
        "<article><h1>Flut in Libyen: Tausende Tote</h1><p>Text.</p></article>",
    )
    choice = choose_title(title_candidates(doc), site_names=["DW"])
    assert (choice.value, choice.source) == ("Flut in Libyen: Tausende Tote", "h1")
    assert strip_site_name("Flut in Libyen: Tausende Tote | DW", ["DW"]) == "Flut in Libyen: Tausende Tote"


def test_site_prefix_with_guillemet_is_stripped_knowing_the_channel_title() -> None:
    doc = page(
        "<title>Tech Blog Network » Why the netbook won</title>",
        '<div id="header"><h1>Tech Blog Network</h1></div>',
    )
    assert title_of(doc, channel_title="Tech Blog Network") == "Why the netbook won"


def test_feed_title_wins_when_the_page_offers_only_the_site_name() -> None:
    """The 2009 blog-network case: every page's title was archived as the site's name."""
    doc = page("<title>Tech Blog Network</title>", "<div><h1>Tech Blog Network</h1></div>")
    choice = choose_title(
        title_candidates(doc),
        site_names=[c.value for c in site_name_candidates(doc)],
        feed_title="Why the netbook won",
        channel_title="Tech Blog Network",
    )
    assert (choice.value, choice.source) == ("Why the netbook won", "feed:title")
    alone = choose_title(title_candidates(doc), channel_title="Tech Blog Network")
    assert alone.value == "Tech Blog Network"  # never empty: without a feed, the name is all there is


def test_visible_headline_beats_the_seo_variant_when_json_ld_agrees() -> None:
    ld = {"@type": "NewsArticle", "headline": "Bergisch Gladbach verklagt die Baufirma"}
    doc = page(
        '<meta property="og:title" content="Pflaster-Desaster: Fußgängerzone in schlechtem Zustand">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script>',
        "<main><h1>Bergisch Gladbach verklagt die Baufirma</h1></main>",
    )
    choice = choose_title(title_candidates(doc))
    assert (choice.value, choice.source) == ("Bergisch Gladbach verklagt die Baufirma", "h1")
    assert choice.reason == "visible headline equals json-ld:headline"


def test_visible_headline_beats_the_seo_variant_when_the_feed_agrees() -> None:
    doc = page(
        '<meta property="og:title" content="Lockdown: what you need to know">',
        "<main><h1>Lockdown extended by four weeks</h1></main>",
    )
    choice = choose_title(title_candidates(doc), feed_title="Lockdown extended by four weeks")
    assert (choice.value, choice.reason) == (
        "Lockdown extended by four weeks",
        "visible headline equals feed:title",
    )


def test_visible_headline_wins_when_nothing_agrees_with_it() -> None:
    """An SEO variant in og:title and <title>, the headline a reader sees in the h1."""
    doc = page(
        "<title>Popular food blogs on Instagram: the list - Site</title>"
        '<meta property="og:title" content="Popular food blogs on Instagram: the list">',
        "<article><header><h1>Masters of taste: 23 food bloggers</h1></header></article>",
    )
    choice = choose_title(title_candidates(doc))
    assert (choice.value, choice.source) == ("Masters of taste: 23 food bloggers", "h1")


def test_a_label_in_the_h1_is_no_headline() -> None:
    doc = page(
        '<meta property="og:title" content="Pour le néolibéralisme, la retraite est un archaïsme">',
        "<article><h1>Opinion</h1><p>Texte.</p></article>",
    )
    assert title_of(doc) == "Pour le néolibéralisme, la retraite est un archaïsme"


def test_a_headline_marked_elsewhere_outweighs_a_disagreeing_h1() -> None:
    """The h1 belongs to a teaser; the article's headline carries itemprop=headline and og:title agrees."""
    doc = page(
        '<meta property="og:title" content="The early reviews for the platform are not great">',
        '<article class="featured"><header><h1>Why not fight for the reindeer?</h1></header></article>'
        '<div><h2 itemprop="headline">The early reviews for the platform are not great</h2></div>',
    )
    assert title_of(doc) == "The early reviews for the platform are not great"


def test_heading_header_inside_the_article_is_the_articles() -> None:
    doc = page("", "<article><header><h1>Masters of taste: 23 food bloggers</h1></header></article>")
    assert [c.source for c in title_candidates(doc)] == ["h1"]
    chrome = page("", "<header><h1>Masters of taste</h1></header><article><p>Text.</p></article>")
    assert title_candidates(chrome) == ()


def test_kicker_in_the_heading_is_left_out_when_metadata_has_the_headline_alone() -> None:
    doc = page(
        '<meta property="og:title" content="Rene Benko-Firma Signa in Sorge">',
        '<article><h1><span class="roofline">Immobilienkrise </span>Rene Benko-Firma Signa in Sorge</h1></article>',
    )
    assert title_of(doc) == "Rene Benko-Firma Signa in Sorge"


@pytest.mark.parametrize(
    "heading",
    [
        '<span class="article-header__roofline">Wurmkiste</span> Wurmkiste selber bauen',
        '<span class="headline--topline">Bauen</span><span>: </span><span>Wurmkiste selber bauen</span>',
        '<span class="supertitle"><time datetime="2022-02-01">1. Februar 2022</time></span> Wurmkiste selber bauen',
        'Wurmkiste selber bauen<span class="element-invisible"> | Garten.example</span>',
        'Wurmkiste selber bauen <span class="sr-only">(Video)</span>',
        'Wurmkiste selber bauen<span class="subtitle">So geht es in zehn Schritten</span>',
    ],
)
def test_kicker_date_and_hidden_text_in_the_heading_are_left_out_whatever_the_metadata(heading: str) -> None:
    """What the markup marks as a kicker (roofline, topline, overline...), a date or text hidden from sighted
    readers is no part of the headline, even when no other title repeats the rest."""
    doc = page(
        '<meta property="og:title" content="So bauen Sie eine Wurmkiste">',
        f"<article><h1>{heading}</h1></article>",
    )
    assert title_of(doc) == "Wurmkiste selber bauen"


def test_home_link_heading_is_the_site_name_and_the_post_title_is_in_an_h2() -> None:
    """The classic blog theme: the blog's name in an h1 linking home, the post's title in an h2, and
    "Blog » Blog Archive » Post" in <title>; the home link may also be an archived copy's."""
    for home in (
        "https://blog.example/",
        "/",
        "https://web.archive.org/web/20140226054445/http://blog.example/",
    ):
        doc = page(
            "<title>Time 4 talks » Blog Archiv » Weitere Digitalisierung der Schweizer Kinos</title>",
            f'<div id="header"><h1><a href="{home}">Time 4 talks</a></h1></div><div class="post">'
            '<h2><a href="/2013/08/07/kinos/" rel="bookmark">Weitere Digitalisierung der Schweizer Kinos</a>'
            "</h2><p>Text.</p></div>",
            url="https://blog.example/2013/08/07/kinos/",
        )
        assert ("Time 4 talks", "h1:home-link") in [(c.value, c.source) for c in site_name_candidates(doc)]
        assert title_of(doc) == "Weitere Digitalisierung der Schweizer Kinos"


def test_home_link_heading_is_stripped_from_the_document_title() -> None:
    doc = page(
        "<title>Enchufla Figuren - Salsa-Figuren - Rueda in Berlin</title>",
        '<div id="header"><h1><a href="/"><span>Salsa-Figuren - Rueda in Berlin</span></a></h1></div>'
        '<div id="page-title">Enchufla Figuren</div>',
        url="http://rueda.example/enchufla",
    )
    assert title_of(doc) == "Enchufla Figuren"


@pytest.mark.parametrize(
    "post",
    [
        '<h2 class="entry-title">Schwache Profile – günstige Lawinensituation</h2>',
        "<article><header><h2>Schwache Profile – günstige Lawinensituation</h2></header><p>Text.</p></article>",
    ],
)
def test_the_article_title_in_an_h2_when_no_h1_reads_as_a_headline(post: str) -> None:
    """No title agrees with it, but the markup makes the h2 the entry's title (hAtom ``entry-title``, the
    article's own header); an h1 holding a label ("Page") does not stand in its way."""
    doc = page("<title>Wochenbericht 14. - 20. Januar 2022 - SLF</title>", f"<h1>Page</h1>{post}")
    assert title_of(doc) == "Schwache Profile – günstige Lawinensituation"
    sidebar = page(
        "<title>Wochenbericht 14. - 20. Januar 2022 - SLF</title>",
        "<div><h2>Weitere Berichte im Archiv</h2></div>",
    )
    assert title_of(sidebar) == "Wochenbericht 14. - 20. Januar 2022"


@pytest.mark.parametrize(
    "chrome",
    [
        '<div class="breadcrumbs"><h1>News » Politics today</h1></div>',
        '<div class="cookie-consent"><h1>We value your privacy here</h1></div>',
        '<div class="adblock-message"><h1>We need to talk about your ad blocker</h1></div>',
    ],
)
def test_heading_in_breadcrumbs_or_a_dialog_is_chrome(chrome: str) -> None:
    doc = page(
        '<meta property="og:title" content="Lockdown extended by four weeks, report says">',
        f"{chrome}<main><p>Text.</p></main>",
    )
    assert [c.source for c in title_candidates(doc)] == ["og:title"]


@pytest.mark.parametrize(
    ("heading", "want"),
    [
        (
            "Für den HSV in der Oberliga?<span>:</span> Jansen kämpft",
            "Für den HSV in der Oberliga?: Jansen kämpft",
        ),
        ("4 Wege zu „<em>Mein Motto</em>“ für 2020", "4 Wege zu „Mein Motto“ für 2020"),
        (
            "<span>Pflaster-Desaster</span><span>Fußgängerzone in schlechtem Zustand</span>",
            "Pflaster-Desaster Fußgängerzone in schlechtem Zustand",
        ),
    ],
)
def test_heading_text_is_joined_as_a_reader_sees_it(heading: str, want: str) -> None:
    doc = page("", f"<article><h1>{heading}</h1></article>")
    assert title_of(doc) == want


def test_learned_site_name() -> None:
    assert learn_site_name(["A » x one", "A » y two", "A » z three"]) == "A"
    assert learn_site_name(["Netbooks » Blog Archive » x", "Netbooks » Blog Archive » y"]) == (
        "Netbooks » Blog Archive"
    )
    assert learn_site_name(["Only one » title", "Only one » title"]) is None
    assert learn_site_name(["Floods in Libya", "Earthquake in Turkey"]) is None
    doc = page("<title>Netbooks » Blog Archive » Why the netbook won</title>")
    learned = learn_site_name(["Netbooks » Blog Archive » x", "Netbooks » Blog Archive » y"])
    assert title_of(doc, learned_site_name=learned or "") == "Why the netbook won"


def test_logo_heading_in_the_header_is_ignored() -> None:
    doc = page(
        '<title>Need for Speed – Insubordinantes Denken</title><meta property="og:site_name"'
        ' content="Insubordinantes Denken">',
        '<header class="site-header"><div class="site-branding"><h1>Insubordinantes Denken</h1></div></header>'
        '<main><article><header class="entry-header"><h1>Need for Speed</h1></header></article></main>',
    )
    headings = [c.value for c in title_candidates(doc) if c.source == "h1"]
    assert headings[0] == "Need for Speed"
    assert title_of(doc) == "Need for Speed"


@pytest.mark.parametrize(
    ("title", "names", "want"),
    [
        ("عنوان الخبر الرئيسي - الميادين", ["الميادين"], "عنوان الخبر الرئيسي"),
        ("الميادين | عنوان الخبر الرئيسي", ["الميادين"], "عنوان الخبر الرئيسي"),
        ("习近平会见外国领导人_新华网", ["新华网"], "习近平会见外国领导人"),
        ("习近平会见外国领导人-新华网", ["xinhuanet.com", "新华网"], "习近平会见外国领导人"),
        ("기사 제목입니다 - 연합뉴스", ["연합뉴스"], "기사 제목입니다"),
        ("GdP-Vize Klemmer: Mangelnde Wertschätzung", ["GdP"], "GdP-Vize Klemmer: Mangelnde Wertschätzung"),
        ("Perturbazione polare al Sud - La Stampa", ["lastampa.it"], "Perturbazione polare al Sud"),
        ("Headline of the day - Suisse - tdg.ch", ["tdg.ch/"], "Headline of the day - Suisse"),
        ("Pferdesport bei Olympia 2028 dabei -", [], "Pferdesport bei Olympia 2028 dabei"),
        (
            "23.01.2022 - Wierer darf noch jubeln - Biathlon Antholz",
            ["Biathlon Antholz"],
            "Wierer darf noch jubeln",
        ),
        ("2021-11-08 | Online-Fachtag zum Intersex Day", [], "Online-Fachtag zum Intersex Day"),
        ("1.000 Tage - eine Bilanz", [], "1.000 Tage - eine Bilanz"),
        ("«Wir waren fast 40 Tage in Quarantäne»", [], "«Wir waren fast 40 Tage in Quarantäne»"),
        ("Formel-1-Fahrercheck - AlphaTauri: Das können Gasly", ["Motorsport-Magazin.com"], None),
    ],
)
def test_strip_site_name_in_every_script(title: str, names: list[str], want: str | None) -> None:
    assert strip_site_name(title, names) == (want or title)


def test_known_site_name_after_a_colon_at_the_end_is_stripped() -> None:
    """The <title> some CMSs write as "Headline: Site"; at the start, "Name: …" is how a quote is headlined."""
    doc = page(
        "<title>Reparaturcafé öffnet am 31. Januar: Stadt Beispiel</title>"
        '<meta property="og:site_name" content="Stadt Beispiel">'
    )
    assert title_of(doc) == "Reparaturcafé öffnet am 31. Januar"
    assert strip_site_name("Stadt Beispiel: Das Rathaus bleibt zu", ["Stadt Beispiel"]) == (
        "Stadt Beispiel: Das Rathaus bleibt zu"
    )
    assert strip_site_name("Warum wir streiken: Verdi", ["Ver.di"]) == "Warum wir streiken: Verdi"


def test_short_head_before_a_guillemet_is_a_name_even_when_nobody_names_it() -> None:
    """WordPress's "Site » Blog Archive » Post": the known name goes, and so does the short label after it;
    a visible heading keeps what it shows."""
    doc = page("<title>Kino Blog » Blog Archiv » Weitere Digitalisierung der Schweizer Kinos</title>")
    assert title_of(doc, channel_title="Kino Blog") == "Weitere Digitalisierung der Schweizer Kinos"
    assert strip_site_name("Opinion | Why the netbook won the decade", []) == "Why the netbook won the decade"
    assert strip_site_name("Brexit | Was nun?", []) == "Brexit | Was nun?"  # no head that short
    heading = page("", "<article><h1>Interview | Warum wir streiken müssen</h1></article>")
    assert title_of(heading) == "Interview | Warum wir streiken müssen"


def test_rtl_page_keeps_its_headline() -> None:
    doc = page(
        '<title>عنوان الخبر الرئيسي - الميادين</title><meta property="og:site_name" content="الميادين">',
        "<article><h1>عنوان الخبر الرئيسي</h1></article>",
        url="https://www.almayadeen.net/news/1",
    )
    assert title_of(doc) == "عنوان الخبر الرئيسي"


def test_a_site_name_that_holds_the_page_title_is_no_site_name() -> None:
    doc = page(
        "<title>US-Sport in Zeiten von Corona - ZDFmediathek</title>"
        '<meta name="application-name" content="US-Sport in Zeiten von Corona - ZDFmediathek">'
    )
    assert [c.source for c in site_name_candidates(doc)] == ["url"]
    assert title_of(doc) == "US-Sport in Zeiten von Corona"


def test_no_evidence_gives_no_title() -> None:
    choice = choose_title([])
    assert choice.value is None
    assert choose_title([], feed_title="From the feed").value == "From the feed"
    assert choose_title([Candidate("  ", "title")]).value is None


# pages of the shared benchmark, half A (even numbers) --------------------------------------------------
SHARED_PAGES = [
    "0008_kleinegruenemonster.wordpress.com.start.html",  # logo h1 before the article's h1
    "0040_rosalux.de-quarantaene.html",  # guillemets are the headline's, " - Site" is not
    "0044_d27eb719099b43639104995806e07d00.html",  # og:title an SEO variant, h1 = JSON-LD headline
    "0062_bostonherald.com-Brothel-catering.html",  # "Local News | " kicker inside the h1
    "0070_st-georg.de-olympia.html",  # dangling separator
    "0104_gdp.de-Wertsch_tzung.html",  # site name "GdP" inside "GdP-Vize"
    "0158_lastampa.it.temperature.html",  # no headline h1; site named after the host
    "0182_zdf.de.corona.html",  # application-name holds the page title
    "0206_handwerk-magazin.de-Angriffe.html",  # kicker span before the headline
    "0234_wsl.ch-neubeau.html",  # no h1; the h2 that resembles the <title>
    "0252_bundeskanzleramt.gv.at-bundesminsterin.html",  # date span before the headline
]


@pytest.mark.parametrize("name", SHARED_PAGES)
def test_shared_benchmark_pages(name: str) -> None:
    if not (SHARED / "pages").is_dir():
        pytest.skip(f"the shared metadata benchmark is not at {SHARED}")
    rows = [json.loads(line) for line in (SHARED / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    row = next(r for r in rows if r["page"] == f"pages/{name}")
    doc = PageDoc.parse(decode_html((SHARED / row["page"]).read_bytes()), row["url"])
    assert doc is not None
    assert title_of(doc) == " ".join(row["title"].split())


@pytest.mark.parametrize(
    ("title", "domain", "want"),
    [
        ("Neue DJV-Online-Seminare – Natürlich Jagd", "natuerlich-jagd.de", "Neue DJV-Online-Seminare"),
        (
            "Saftiger Zitronenkuchen | Backen macht glücklich",
            "backenmachtgluecklich.de",
            "Saftiger Zitronenkuchen",
        ),
        ("Tout sur le vote des jeunes - Télé-Loisirs", "teleloisirs.fr", "Tout sur le vote des jeunes"),
        ("Über die Rente wird weiter gestritten - Blog", "ueber.example", None),
    ],
)
def test_a_site_name_with_accents_is_the_domain_spelt_in_ascii(
    title: str, domain: str, want: str | None
) -> None:
    """A domain spells "ü" as "ue" or "u", "é" as "e": the site's name in the title is known by its domain."""
    assert strip_site_name(title, [domain]) == (want or title)


def test_a_label_in_the_h1_ranks_after_the_page_title_when_nothing_agrees() -> None:
    """A wiki's "Page" h1 (a tab's label) says less than the ``<title>``; a headline-length h1 still wins."""
    doc = page(
        "<title>BeginnersGuide/Download - Python Wiki</title>",
        "<h1>Page</h1><h1>User</h1><div id='content'><p>Text.</p></div>",
        url="https://wiki.example.org/moin/BeginnersGuide/Download",
    )
    assert title_of(doc) == "BeginnersGuide/Download"
    headline = page(
        "<title>BeginnersGuide - Python Wiki</title>", "<main><h1>Downloading Python today</h1></main>"
    )
    assert title_of(headline) == "Downloading Python today"


def test_a_kicker_before_a_separator_in_one_metadata_title_when_another_has_the_headline_alone() -> None:
    """With no heading to agree with, "Kücknitz - So lief …" in JSON-LD against "So lief …" in og:title says
    that "Kücknitz" is a kicker; a colon is the headline's own ("Lübeck: So war …")."""
    ld = {"@type": "NewsArticle", "headline": "Kücknitz - So lief die Auktion der Schätzchen"}
    doc = page(
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        '<meta property="og:title" content="So lief die Auktion der Schätzchen">'
    )
    choice = choose_title(title_candidates(doc))
    assert (choice.value, choice.source) == ("So lief die Auktion der Schätzchen", "og:title")
    ld["headline"] = "Lübeck: So lief die Auktion der Schätzchen"
    colon = page(
        f'<script type="application/ld+json">{json.dumps(ld)}</script>'
        '<meta property="og:title" content="So lief die Auktion der Schätzchen">'
    )
    assert title_of(colon) == "Lübeck: So lief die Auktion der Schätzchen"
