"""Authors by evidence (issue 13): names only, from JSON-LD, meta tags and bylines; golden small pages per
rule, and pages of the shared metadata benchmark (half A) named by file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.extract import extract_article
from monitor.extract.authors import (
    author_candidates,
    choose_authors,
    clean_names,
    site_names_of,
)
from monitor.extract.charset import decode_html
from monitor.extract.evidence import Candidate
from monitor.extract.page import PageDoc
from monitor.extract.signatures import signature_authors

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "metadata"
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def page(head: str = "", body: str = "", url: str = "https://news.example/story") -> PageDoc:
    doc = PageDoc.parse(f"<html><head>{head}</head><body>{body}</body></html>", url)
    assert doc is not None
    return doc


def json_ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def authors_of(doc: PageDoc) -> tuple[str, ...]:
    choice = choose_authors(author_candidates(doc), site_names=site_names_of(doc))
    return choice.value or ()


# clean_names -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["By Jane Doe and John Roe"], ("Jane Doe", "John Roe")),
        (["Von Max Muster, dpa"], ("Max Muster",)),
        (["Jane Doe | Staff"], ("Jane Doe",)),
        (["Von Max Muster, 12.03.2022, 10:45 Uhr"], ("Max Muster",)),
        (["By Jane Doe Updated March 3, 2020"], ("Jane Doe",)),
        (["Jane Doe, Thursday, November 9, 2023 4:40PM"], ("Jane Doe",)),
        (["بقلم: أحمد علي"], ("أحمد علي",)),
        (["بقلم أحمد علي و سارة حسن"], ("أحمد علي", "سارة حسن")),
        (["Par Marie Dupont et Jean Martin"], ("Marie Dupont", "Jean Martin")),
        (["Por Ana García y Luis Pérez"], ("Ana García", "Luis Pérez")),
        (["di Mario Rossi"], ("Mario Rossi",)),
        (["Door Jan de Vries"], ("Jan de Vries",)),
        (["Lars Fischer und Alina Schadwinkel"], ("Lars Fischer", "Alina Schadwinkel")),
        (["Jane Doe & John Roe; Erika Mustermann"], ("Jane Doe", "John Roe", "Erika Mustermann")),
        (["Jane Doe / John Roe"], ("Jane Doe", "John Roe")),
        (["View all posts by Daniel Lemire"], ("Daniel Lemire",)),
        (["Grant Tinsley, PhD"], ("Grant Tinsley",)),
        (["Glen Owen for The Mail on Sunday"], ("Glen Owen",)),
        (["Jane Doe", "jane doe", "JANE DOE"], ("Jane Doe",)),
        (["jane@example.com", "@janedoe", "https://example.com/jane", "jane[at]example.com"], ()),
        (["Ursula von der Leyen"], ("Ursula von der Leyen",)),
        (["GRACE ZOKOVITCH"], ("GRACE ZOKOVITCH",)),
        (["c1ph4"], ("c1ph4",)),
        (["21 minutes - 4312 words"], ()),
        (["Redaktion", "Staff and news service reports", "LN"], ()),
    ],
)
def test_clean_names(raw: list[str], names: tuple[str, ...]) -> None:
    assert clean_names(raw) == names


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["Interview: Jane Doe"], ("Jane Doe",)),
        (["Text und Fotos: Max Muster"], ("Max Muster",)),
        (["Texte et photos : Marie Dupont"], ("Marie Dupont",)),
        (["Redaktion: Max Muster"], ("Max Muster",)),
        (["Alles von Max Muster"], ("Max Muster",)),
        (["A cura di Mario Rossi"], ("Mario Rossi",)),
        (["Photography by Jane Doe"], ("Jane Doe",)),
        (["Posted on 3 May 2020 by Jane Doe"], ("Jane Doe",)),
        (["Текст: Венера Ерофеева"], ("Венера Ерофеева",)),
        (["Автор: Иван Петров"], ("Иван Петров",)),
        (["作者：王小明"], ("王小明",)),
        (["文/李明"], ("李明",)),
        (["本报记者 李明"], ("李明",)),
        (["김철수 기자"], ("김철수",)),
        (["山田太郎 記者"], ("山田太郎",)),
        (["نویسنده: علی رضایی"], ("علی رضایی",)),
        (["Yazar: Ahmet Yılmaz"], ("Ahmet Yılmaz",)),
        (["लेखक: राहुल शर्मा"], ("राहुल शर्मा",)),
        (["Источник: РИА Новости"], ()),
        (["Иван Петров, РИА Новости"], ("Иван Петров",)),
    ],
)
def test_byline_labels_in_several_languages(raw: list[str], names: tuple[str, ...]) -> None:
    assert clean_names(raw) == names


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["Von unserem Redakteur Max Muster"], ("Max Muster",)),
        (["Von unserer Korrespondentin Erika Muster"], ("Erika Muster",)),
        (["Focus-Online-Experte Max Muster"], ("Max Muster",)),
        (["Jane Doe, Senior Editor"], ("Jane Doe",)),
        (["Max Muster - Wirtschaftsredakteur"], ("Max Muster",)),
        (["By TOM KRISHER, AP Auto Writer"], ("TOM KRISHER",)),
        (["By STEVE PEOPLES, AP National Political Writer"], ("STEVE PEOPLES",)),
        (["Analysis by Jane Doe, Example Editor-at-large"], ("Jane Doe",)),
        (["Jane Doe, Editor-in-Chief"], ("Jane Doe",)),
    ],
)
def test_job_titles_around_a_name(raw: list[str], names: tuple[str, ...]) -> None:
    assert clean_names(raw, site_names=["Example"]) == names


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["Max Muster (dpa)"], ("Max Muster",)),
        (["Max Muster/dpa"], ("Max Muster",)),
        (["Example News - Jane Doe"], ("Jane Doe",)),
        (["Example News Jane Doe"], ("Jane Doe",)),
        (["By Glen Owen And Brendan Carlin For The Mail On Sunday"], ("Glen Owen", "Brendan Carlin")),
        (["https://example.com/jane", "jane(at)example.com"], ()),
        (["Jane Doe and John Roe EXAMPLE NEWS"], ("Jane Doe", "John Roe")),
        (["Tom Davies Associated Press | Published 11:34 PM EST Nov 19, 2019"], ("Tom Davies",)),
        (["By Jane Doe, Example News Business"], ("Jane Doe",)),
        (["Jane Doe, Example News Politics"], ("Jane Doe",)),
    ],
)
def test_agency_outlet_and_site_beside_a_name(raw: list[str], names: tuple[str, ...]) -> None:
    assert clean_names(raw, site_names=["Example News"]) == names


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["Von Max Muster, Berlin"], ("Max Muster",)),
        (["Von Max Muster, Brüssel, und Erika Muster, Berlin"], ("Max Muster", "Erika Muster")),
        (["Disko | Ernst Lohoff"], ("Ernst Lohoff",)),
        (["Max Muster aus Berlin"], ("Max Muster",)),
        (["Max Muster, mit Material von dpa"], ("Max Muster",)),
        (["Jane Doe with AP"], ("Jane Doe",)),
        (["Max Muster ist Redakteur"], ("Max Muster",)),
        (["Max Muster und Agenturen"], ("Max Muster",)),
        (["By JANE DOE, Associated Press"], ("JANE DOE",)),
        (["LP Luana Patriolino"], ("Luana Patriolino",)),
        (["stol.it / Suedtirol Online"], ()),
        (["Henry"], ("Henry",)),
        (["The Russian and Syrian defense ministries"], ()),
        (["Bashar al-Assad"], ("Bashar al-Assad",)),
        (["Ursula von der Leyen und Jean de la Fontaine"], ("Ursula von der Leyen", "Jean de la Fontaine")),
        (["bell hooks"], ("bell hooks",)),
    ],
)
def test_places_helpers_and_outlets_beside_a_name(raw: list[str], names: tuple[str, ...]) -> None:
    assert clean_names(raw) == names


@pytest.mark.parametrize(
    "raw", ["wordpressadmin", "no author", "Posted on 3 May 2020 by admin", "Senior Editor"]
)
def test_placeholders_name_no_one(raw: str) -> None:
    assert clean_names([raw]) == ()


def test_site_name_is_not_a_person() -> None:
    assert clean_names(
        ["Example News", "example.com", "Jane Doe"], site_names=["Example News", "example.com"]
    ) == ("Jane Doe",)


# candidates and the choice ---------------------------------------------------------------------------
def test_site_and_its_address_name_no_person() -> None:
    sites = ["example.de"]
    assert clean_names(["example.de, Frankfurt, Germany"], site_names=sites) == ()
    assert clean_names(["Jane Doe, Frankfurt"], site_names=sites) == ("Jane Doe",)


def test_site_name_with_a_separator_is_not_split_into_people() -> None:
    assert clean_names(["Jobs & Hire"], site_names=["Jobs & Hire"]) == ()
    doc = page(
        '<meta property="og:site_name" content="Jobs & Hire"><meta name="author" content="Jobs & Hire">'
    )
    assert authors_of(doc) == ("Jobs & Hire",)


def test_duplicates_across_json_ld_and_meta() -> None:
    doc = page(
        json_ld({"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Jane Doe"}]})
        + '<meta name="author" content="jane doe">'
    )
    choice = choose_authors(author_candidates(doc))
    assert choice.value == ("Jane Doe",)
    assert choice.source == "json-ld:author"
    assert choice.reason == "agreed by meta:author"


def test_site_name_as_author_is_dropped_for_the_byline_person() -> None:
    doc = page(
        '<meta property="og:site_name" content="Example News">'
        + json_ld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example News"}}),
        '<article><h1>Story</h1><p class="byline">By <a href="/people/jane">Jane Doe</a></p></article>',
    )
    choice = choose_authors(author_candidates(doc), site_names=site_names_of(doc))
    assert (choice.value, choice.source) == (("Jane Doe",), "byline")


def test_json_ld_organisation_as_author_gives_way_to_a_byline_person() -> None:
    org = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Acme Widgets"}}
    doc = page(json_ld(org), '<article><h1>Story</h1><p class="byline">By Jane Doe</p></article>')
    assert authors_of(doc) == ("Jane Doe",)
    assert authors_of(page(json_ld(org))) == ("Acme Widgets",)


def test_page_crediting_no_person_keeps_its_credit() -> None:
    """A desk or the site as the only byline is kept as written (decided on the shared data: pages that
    credit "Redaktion" are read as crediting the desk), never split."""
    doc = page(
        body='<article><h1>Story</h1><span class="author">Staff and news service reports</span></article>'
    )
    choice = choose_authors(author_candidates(doc), site_names=site_names_of(doc))
    assert choice.value == ("Staff and news service reports",)
    assert "no person" in (choice.reason or "")


def test_site_name_without_its_edition_is_no_second_author() -> None:
    """``Jane Doe, Example Insider`` on the site "Example Insider Deutschland": the outlet, not a person."""
    head = '<meta property="og:site_name" content="Example Insider Deutschland">'
    doc = page(head + '<meta name="author" content="Jane Doe, Example Insider">')
    assert authors_of(doc) == ("Jane Doe",)


def test_personal_site_named_after_its_author_keeps_the_author() -> None:
    """The rule above never loses the only name: on "Jane Doe Photography" she stays the page's credit."""
    head = '<meta property="og:site_name" content="Jane Doe Photography">'
    assert authors_of(page(head + '<meta name="author" content="Jane Doe">')) == ("Jane Doe",)


@pytest.mark.parametrize("account", ["admin", "Administrator", "jdadmin", "webmaster"])
def test_placeholder_account_is_no_credit(account: str) -> None:
    """WordPress's default account as the JSON-LD author is the CMS speaking, not a byline a reader sees:
    the page credits no one (a desk, kept as its credit above, is a byline)."""
    ld = json_ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": account}})
    assert authors_of(page(ld)) == ()
    assert authors_of(page(f'<meta name="author" content="{account}">')) == ()


@pytest.mark.parametrize("login", ["jane_doe", "janedoe", "jdoe42"])
def test_login_gives_way_to_a_name_elsewhere_on_the_page(login: str) -> None:
    doc = page(
        f'<meta name="author" content="{login}">',
        "<article><h1>Story</h1><p>Text.</p><p>Written by: Jane Doe</p></article>",
    )
    choice = choose_authors(author_candidates(doc), site_names=site_names_of(doc))
    assert (choice.value, choice.source) == (("Jane Doe",), "text:label")
    assert "meta:author gives a login" in (choice.reason or "")


def test_login_is_kept_when_the_page_names_no_one_else() -> None:
    assert authors_of(page('<meta name="author" content="jane_doe">')) == ("jane_doe",)


def test_first_name_alone_is_completed_by_another_source() -> None:
    doc = page(
        '<meta name="author" content="Jane">',
        '<article><h1>Story</h1><p class="byline">By Jane Doe</p></article>',
    )
    assert authors_of(doc) == ("Jane Doe",)


def test_credit_most_sources_give_when_no_person_is_named() -> None:
    doc = page(
        json_ld(
            {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Example Editorial Team"}}
        ),
        '<article><h1>Story</h1><p class="byline">Example Blog Redaktion</p><p>Text.</p>'
        "<p>Autor</p><p>Example Blog Redaktion</p></article>",
    )
    choice = choose_authors(author_candidates(doc), site_names=site_names_of(doc))
    assert choice.value == ("Example Blog Redaktion",)


def test_feed_authors_when_the_page_names_no_one() -> None:
    choice = choose_authors((), feed_authors=["By Jane Doe"])
    assert (choice.value, choice.source) == (("Jane Doe",), "feed:authors")


def test_page_person_beats_feed_authors() -> None:
    choice = choose_authors([Candidate(("Max Muster",), "meta:author")], feed_authors=["Jane Doe"])
    assert choice.value == ("Max Muster",)


def test_byline_label_and_name_in_separate_elements() -> None:
    doc = page(
        body='<h1>Story</h1><div class="td-post-author-name"><div class="td-author-by">Von</div> '
        '<a href="/author/patrick/">Patrick Czerny</a><div class="td-author-line"> - </div></div>'
    )
    assert authors_of(doc) == ("Patrick Czerny",)


def test_byline_with_a_date_inside() -> None:
    doc = page(body='<h1>Story</h1><div class="article-byline">Von Max Muster | 12.03.2022, 10:45 Uhr</div>')
    assert authors_of(doc) == ("Max Muster",)


def test_authors_of_related_articles_and_comments_are_not_taken() -> None:
    doc = page(
        body='<article><h1>Story</h1><p class="byline">By Jane Doe</p><p>Text.</p></article>'
        '<div class="related-posts"><span class="author">Other Writer</span></div>'
        '<div class="comments"><span class="comment-author">A Reader</span></div>'
    )
    assert authors_of(doc) == ("Jane Doe",)


def test_json_ld_author_reference_is_resolved() -> None:
    doc = page(
        json_ld(
            {
                "@graph": [
                    {"@type": "Article", "author": {"@id": "https://x.example/#jane"}},
                    {"@type": "Person", "@id": "https://x.example/#jane", "name": "Jane Doe"},
                ]
            }
        )
    )
    assert authors_of(doc) == ("Jane Doe",)


def test_article_author_url_is_not_a_name() -> None:
    doc = page(
        '<meta property="article:author" content="https://facebook.com/jane"><meta name="author" content="Jane Doe">'
    )
    assert [c.source for c in author_candidates(doc)] == ["meta:author"]


@pytest.mark.parametrize(
    "href", ["/author/jane-doe", "/reporters/jane-doe", "/auteurs/jane_doe", "/journalisten/jane-doe"]
)
def test_link_to_an_author_page_names_the_author(href: str) -> None:
    doc = page(
        '<meta name="author" content="Jobs &amp; Hire"><meta property="og:site_name" content="Jobs &amp; Hire">',
        f'<h1>Story</h1><div>By&nbsp;<a href="{href}">Jane Doe</a></div><p>Text.</p>',
    )
    assert authors_of(doc) == ("Jane Doe",)


def test_name_written_twice_by_the_layout_is_one_name() -> None:
    doc = page(
        body="<h1>Story</h1><a href='/auteurs/kf'><span>Kristen Falc'hon</span> <span>Kristen Falc'hon</span></a>"
    )
    assert authors_of(doc) == ("Kristen Falc'hon",)
    assert clean_names(["By Jane Doe Jane Doe"]) == ("Jane Doe",)


def test_by_line_below_the_headline_without_markup() -> None:
    doc = page(body="<h1>Story</h1><p>von Andreas Kürten</p><p>Der Text beginnt hier.</p>")
    assert authors_of(doc) == ("Andreas Kürten",)


@pytest.mark.parametrize(
    "body",
    [
        "<h1>Story</h1><p>Text.</p><p><em>Written by: <a href='/x'>Julie Mollins</a></em></p>",
        "<h1>Story</h1><p>Text.</p><div><h4>Autor</h4><p><a href='/p/nh'>Julie Mollins</a><b>, </b></p></div>",
    ],
)
def test_labelled_byline_anywhere_in_the_page(body: str) -> None:
    assert authors_of(page(body=body)) == ("Julie Mollins",)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("<p><strong>Eine Kolumne von Nils Pickert</strong></p>", ("Nils Pickert",)),
        ("<p>A column by Jose de la Cruz</p>", ("Jose de la Cruz",)),
        (
            "<p class='postmetadata'>Von R. R. am <a href='/2013/08/07/'>07.08.2013</a> um 09:07 Uhr</p>",
            ("R. R.",),
        ),
    ],
)
def test_labelled_byline_after_a_genre_and_before_a_date(body: str, names: tuple[str, ...]) -> None:
    assert authors_of(page(body=f"<h1>Story</h1><p>Text.</p>{body}")) == names


def test_first_name_of_the_meta_tags_completed_by_a_labelled_byline() -> None:
    doc = page(
        '<meta name="author" content="Nils">', "<h1>Story</h1><p><b>Eine Kolumne von Nils Pickert</b></p>"
    )
    assert authors_of(doc) == ("Nils Pickert",)


def test_byline_of_an_embedded_post_is_not_the_page_byline() -> None:
    body = (
        "<h1>Story</h1><p>Text.</p><div class='fb-post'><blockquote><p>Quoted post.</p>"
        "<p>Posted by <a href='https://facebook.example/pr'>Pamela Rendi-Wagner</a> on Sunday</p></blockquote></div>"
    )
    assert authors_of(page(body=body)) == ()


def test_labelled_byline_skips_the_site_and_teasers_and_sentences() -> None:
    body = (
        "<h1>Story</h1><p>By The Daily Planet</p><p>Written by a friend of the house, Jane Doe said.</p>"
        "<aside class='related'><p>By Erika Mustermann</p></aside><p>Von</p><p>Max Muster</p>"
    )
    doc = page('<meta property="og:site_name" content="The Daily Planet">', body)
    assert authors_of(doc) == ("Max Muster",)


# pages of the shared benchmark (half A) --------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "0080_boxen1.com-ring-r_ckkehr.html",  # label, name and separator in separate elements
        "0122_lacrux.com-mammut.html",  # the desk as the only credit
        "0212_independent.co.uk.penalty.html",
        "0272_archive.peptalks.de.schulnoten.html",  # rel=author in the article's own footer
        "0290_doschu.com.solopreneur.html",  # a Yoast graph: the author by @id
        "0040_rosalux.de-quarantaene.html",  # a label heading, the name in the next element
        "0222_theplanetarypress.com.forestlands.html",  # "Written by:" in the text; the site as byline
        "0032_interscenar.io.hoeren.html",  # a login in the meta tags, the name in a labelled byline
        "0142_blog.teufel.de.leistung.html",  # no person: the credit three sources of four give
        "0014_jobsnhire.com.health.html",  # the site as meta author, the person linked to /reporters/
        "0260_pinkstinks.de-Kulturtechnik.html",  # "Nils" in the meta tags, "Eine Kolumne von Nils Pickert"
    ],
)
def test_shared_benchmark_pages(name: str) -> None:
    path = SHARED / "pages" / name
    if not path.exists():
        pytest.skip(f"the shared metadata benchmark is not at {SHARED}")
    rows = (json.loads(line) for line in (SHARED / "expected.jsonl").read_text(encoding="utf-8").splitlines())
    row = next(r for r in rows if r["page"] == f"pages/{name}")
    doc = PageDoc.parse(decode_html(path.read_bytes(), None), str(row["url"]))
    assert doc is not None
    assert {n.casefold() for n in authors_of(doc)} == {n.casefold() for n in row["authors"]}


def test_time_zone_of_a_bylines_time_is_no_credit() -> None:
    raw = ("Example wire services | Published 11:11 PM EST Nov 19, 2019",)
    choice = choose_authors([Candidate(raw, "byline")], site_names=["Example"])
    assert choice.value == ("Example wire services",)


# a Korean, Chinese or Japanese article's signature, read from its body text ------------------------------------------------
KO_BODY = "정부는 올해 예산안을 국회에 제출했다. 예산은 지난해보다 늘었다."
ZH_BODY = "据介绍，今年以来经济运行总体平稳。"
JA_BODY = "政府は30日、新たな経済対策を決定した。"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (f"{KO_BODY}\n\n정덕현 칼럼니스트\n\nthekian1@entermedia.co.kr\n\n[사진=JTBC]", ("정덕현",)),
        (f"{KO_BODY}\n\n칼럼니스트 박생강\n\npillgoo9@gmail.com", ("박생강",)),
        (f"{KO_BODY}\n\n홍길동 기자 hong@yna.co.kr\n\n저작권자 무단전재 및 재배포금지", ("홍길동",)),
        (f"{KO_BODY}\n\n김철수기자", ("김철수",)),
        (f"(서울=연합뉴스) 홍길동 기자 = {KO_BODY}\n\n{KO_BODY}", ("홍길동",)),
        (f"[워싱턴=뉴시스] 남궁민수 특파원 = {KO_BODY}", ("남궁민수",)),
        (f"新华社北京11月30日电（记者张三、李四）{ZH_BODY}", ("张三", "李四")),
        (f"本报上海11月30日电（记者 王五 通讯员 赵六）{ZH_BODY}", ("王五",)),
        (f"人民网北京11月30日电（记者欧阳明月、张三，实习生李四）{ZH_BODY}", ("欧阳明月", "张三")),
        (f"中新网11月30日电 (记者 陈小明){ZH_BODY}", ("陈小明",)),
        (f"新華社台北電（記者林美玲）{ZH_BODY}", ("林美玲",)),
        (f"【ワシントン＝山田太郎】{JA_BODY}", ("山田太郎",)),
        (f"【ロンドン＝山田太郎、パリ＝佐藤花子】{JA_BODY}", ("山田太郎", "佐藤花子")),
        (f"[ニューヨーク=長谷川浩二]\n\n{JA_BODY}", ("長谷川浩二",)),
    ],
)
def test_korean_chinese_and_japanese_signature_lines(text: str, names: tuple[str, ...]) -> None:
    assert signature_authors(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "",
        "The minister said the budget would grow.\n\nJane Doe, Reuters",
        f"{KO_BODY}\n\n정치부 기자들은 국회에서 예산안을 취재했다.",  # a sentence about reporters, not a signature
        f"{KO_BODY}\n\n홍길동 기자 홍보 담당",  # more than a name, a title and an address
        "홍길동 기자\n\n" + "\n\n".join([KO_BODY] * 9),  # not among the last lines, not a dateline
        f"新华社北京11月30日电 {ZH_BODY}",  # a dateline naming no reporter
        f"{ZH_BODY}\n\n（记者张三）",  # not where a dateline stands
        f"新华社电（记者 John Smith）{ZH_BODY}",  # not a name in Han characters
        f"【北京＝共同】{JA_BODY}",  # an agency
        f"【ワシントン＝時事】{JA_BODY}",
        f"【速報】{JA_BODY}",  # no place and name
        f"[서울=뉴시스] {KO_BODY}",  # a Korean wire dateline naming no reporter
    ],
)
def test_no_korean_signature(text: str) -> None:
    assert signature_authors(text) == ()


def test_a_korean_signature_names_the_author_only_where_the_markup_names_none() -> None:
    paragraphs = "".join(f"<p>{KO_BODY} {KO_BODY}</p>" for _ in range(6))
    signed = f"<article><h1>예산안 제출</h1>{paragraphs}<p>홍길동 기자 hong@news.example</p></article>"
    page = extract_article(
        f"<html><body>{signed}</body></html>".encode(), url="https://news.example/a", now=NOW
    )
    assert page.authors == ("홍길동",)
    assert page.evidence is not None
    assert page.evidence.authors[-1] == Candidate(("홍길동",), "text:signature")
    head = json_ld({"@type": "NewsArticle", "author": {"@type": "Person", "name": "김영희"}})
    marked = f"<html><head>{head}</head><body>{signed}</body></html>".encode()
    assert extract_article(marked, url="https://news.example/a", now=NOW).authors == ("김영희",)
