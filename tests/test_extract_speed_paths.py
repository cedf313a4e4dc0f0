"""The faster paths of the per-page call give what the plain ones gave (issue 14)."""

from __future__ import annotations

import unicodedata
from collections import Counter

import lxml.html
import pytest
from lxml import etree
from trafilatura.utils import load_html, repair_faulty_html

from monitor.extract import authors, language, title
from monitor.extract.body import extract_body
from monitor.extract.page import INDEXED_TAGS, PageDoc, _repaired, following_texts, parse_html

PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Storm | Daily</title>
<meta itemprop="author" content="Meta Only"><script>var x = "<p>not text</p>";</script></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<article><h1 itemprop="headline">Storm floods the <em>coast</em></h1>tail after h1
<p class="byline">By <a href="/author/jane" itemprop="author">Jane Doe</a></p>
<script>ignored()</script>after script
<form><input name="q" value="x"><label>Search</label></form>
<p>The storm reached the coast on Monday night, flooding the harbour and the old town.</p>
<p itemprop="articleBody">Officials said the water would recede by Wednesday; schools stay closed.</p>
<div hidden><p>Hidden text that readability drops from the tree it is given.</p></div>
</article><footer><p>Copyright Daily</p></footer></body></html>"""


def test_parse_html_builds_the_tree_load_html_builds() -> None:
    ours, theirs = parse_html(PAGE), load_html(PAGE)
    assert etree.tostring(ours) == etree.tostring(theirs)
    assert all(isinstance(element, lxml.html.HtmlElement) for element in ours.iter(etree.Element))


def test_parse_html_takes_an_encoding_declaration_and_rejects_what_is_not_html() -> None:
    declared = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Grüße</p></body></html>'
    assert etree.tostring(parse_html(declared)) == etree.tostring(load_html(declared))
    assert parse_html("just some words") is None
    assert load_html("just some words") is None


@pytest.mark.parametrize(
    "page",
    [
        PAGE,
        "<!DOCTYPE html/>\n<html/>\n<body><p>x</p></body>",
        "<html />\n<body><p>a\x00b\x0bc</p></body>",
        "<!doctype html PUBLIC '/x'>\n<html><body><p>\ufffe\x1f</p></body></html>",
    ],
)
def test_the_repair_is_trafilaturas(page: str) -> None:
    assert _repaired(page, page[:50].lower()) == repair_faulty_html(page, page[:50].lower())
    assert etree.tostring(parse_html(page)) == etree.tostring(load_html(page))


def test_elements_are_the_walks_they_replace() -> None:
    doc = PageDoc(parse_html(PAGE))
    for tag in INDEXED_TAGS:
        assert doc.elements(tag) == list(doc.tree.iter(tag))
    assert doc.from_root
    assert not PageDoc(doc.tree.find("body")).from_root


@pytest.mark.parametrize("tag", ["h1", "em", "p", "form", "label"])
def test_following_texts_is_xpath_following_text(tag: str) -> None:
    tree = parse_html(PAGE)
    element = next(tree.iter(tag))
    expected = [(str(text), text.getparent()) for text in element.xpath("following::text()")]
    assert list(following_texts(element)) == expected


def test_itemprop_is_the_xpath_it_replaces() -> None:
    doc = PageDoc(parse_html(PAGE))
    assert doc.itemprop("author") == doc.xpath('//*[@itemprop="author"][not(self::meta)]')
    assert [e.tag for e in doc.itemprop("author", skip=())] == ["meta", "a"]
    assert doc.itemprop("headline", skip=("meta", "h1")) == []
    assert doc.itemprop("nothing") == []


def test_extract_body_leaves_the_tree_it_is_given_as_it_was() -> None:
    tree = parse_html(PAGE)
    before = etree.tostring(tree)
    assert "flooding the harbour" in extract_body(tree)
    assert etree.tostring(tree) == before


def _weights_char_by_char(sample: str) -> Counter[str]:
    weights: Counter[str] = Counter()
    for char in sample:
        if char.isalpha() or (char > "\u02ff" and unicodedata.category(char)[0] == "M"):
            script = language._script(char)
            weights[script] += language.WIDE_WEIGHT if script in language._WIDE else 1
    return weights


@pytest.mark.parametrize(
    "sample",
    [
        "",
        "Plain English, with digits 2026 and_underscores.",
        "Москва and Paris: ελληνικά, 東京で地震が発生した。한국어 텍스트",
        "हिन्दी में समाचार, ภาษาไทย, العربية وفارسی",
        "e\u0301 combining, ﬁ ligature, ß, İstanbul, half-width ｶﾀｶﾅ",
    ],
)
def test_script_weights_count_as_the_character_loop(sample: str) -> None:
    fast = language._script_weights(sample)
    slow = _weights_char_by_char(sample)
    assert list(fast.items()) == list(slow.items())


BYLINES = """<html><body class="author-page"><div class="BYLINE">upper case: not marked</div>
<meta class="byline" content="x"><img class="author-photo"><script class="byline"></script>
<p class="byline">By <a class="author-name" href="/author/jane">Jane Doe</a></p><span id="byline-2">x</span>
<div data-testid="byline"><span class="autor">Max</span><span class="auteur">Jean</span></div>
<div class="" id="" data-testid="">empty marks</div></body></html>"""


def test_marked_bylines_are_the_xpath_they_replace() -> None:
    xpath = (
        "//*[contains(@class,'yline') or contains(@class,'uthor') or contains(@class,'utor') or "
        "contains(@class,'uteur') or contains(@id,'yline') or contains(@data-testid,'yline')]"
        "[not(self::meta or self::link or self::script or self::style or self::img or self::body)]"
    )
    for page in (PAGE, BYLINES):
        tree = parse_html(page)
        assert list(authors._marked_bylines(tree)) == tree.xpath(xpath)
    assert len(list(authors._marked_bylines(parse_html(BYLINES)))) == 6


@pytest.mark.parametrize("remove_comments", [True, False])
def test_body_texts_are_xpath_body_text_but_scripts_styles_and_whitespace(remove_comments: bool) -> None:
    page = PAGE.replace("tail after h1", "tail <!-- a comment -->after<?pi x?> h1")
    tree = lxml.html.fromstring(page, parser=lxml.html.HTMLParser(remove_comments=remove_comments))
    expected = [(str(text), text.getparent()) for text in tree.xpath("//body//text()")]
    visible = [(text, parent) for text, parent in expected if parent.tag not in {"script", "style"}]
    kept = [(text, parent) for text, parent in visible if text.strip()]
    assert list(authors._body_texts(tree)) == kept
    assert len(kept) < len(visible) < len(expected)  # the page has whitespace-only text nodes, and a script


@pytest.mark.parametrize(
    "name",
    [
        "Salon.com",
        "L’Opinion",
        "BioBioChile - La Red",
        "Ｆｕｌｌ ｗｉｄｔｈ_ﬁ",
        "新华网 2026",
        "e\u0301 ß İ ①½",
    ],
)
def test_compact_keeps_what_isalnum_keeps(name: str) -> None:
    folded = unicodedata.normalize("NFKC", name).casefold()
    assert title._compact(name) == "".join(char for char in folded if char.isalnum())


def test_author_link_elements_are_the_xpath_they_replace() -> None:
    page = BYLINES.replace(
        "</body>",
        '<a href="/AUTHOR/x">X</a><a href="/aut/y">Y</a><a href="https://e.org/autoren/z">Z</a>'
        '<a href="/de/autore/w?p=1">W</a><a>none</a><area href="/author/area"></body>',
    )
    xpath = (
        "//a[contains(@href,'/author/') or contains(@href,'/autor/') or contains(@href,'/authors/') or "
        "contains(@href,'/autoren/') or contains(@href,'/auteur/') or contains(@href,'/autore/')]"
    )
    for html in (PAGE, page):
        tree = parse_html(html)
        assert list(authors._author_link_elements(PageDoc(tree))) == tree.xpath(xpath)
    found = authors._author_link_elements(PageDoc(parse_html(page)))
    assert [a.text for a in found] == ["Jane Doe", "Z", "W"]


def test_rel_author_links_are_the_xpath_they_replace() -> None:
    page = BYLINES.replace(
        "</body>",
        '<a rel="author" href="/x">X</a><a rel="author nofollow">Y</a><a rel="AUTHOR">Z</a>'
        '<p><a rel="author">W</a></p></body>',
    )
    for html in (PAGE, BYLINES, page):
        doc = PageDoc(parse_html(html))
        assert authors._rel_author_links(doc) == doc.tree.xpath('//a[@rel="author"]')
        inner = PageDoc(doc.tree.find("body"))  # not the document's root: the XPath still sees it all
        assert authors._rel_author_links(inner) == doc.tree.xpath('//a[@rel="author"]')
    assert [a.text for a in authors._rel_author_links(PageDoc(parse_html(page)))][-2:] == ["X", "W"]
