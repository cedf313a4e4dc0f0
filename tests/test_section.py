from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.parse.section import parse_section

SECTIONS = Path(__file__).parent / "data" / "sections"
PAGE = SECTIONS / "section_page.html"
EXPECTED = json.loads((SECTIONS / "section_page.expected.json").read_text(encoding="utf-8"))
URL = EXPECTED["url"]


@pytest.mark.parametrize("selector", sorted(EXPECTED["selectors"]))
def test_golden_section_page(selector: str) -> None:
    feed = parse_section(PAGE.read_bytes(), url=URL, selector=selector)
    want = EXPECTED["selectors"][selector]
    assert [{"link": entry.link, "title": entry.title} for entry in feed.entries] == want
    assert all(entry.guid is None for entry in feed.entries)
    assert feed.title == EXPECTED["title"]
    assert feed.language == EXPECTED["language"]
    assert feed.link == URL


def test_text_input_reads_like_bytes() -> None:
    from_text = parse_section(PAGE.read_text(encoding="utf-8"), url=URL, selector="h3 a")
    from_bytes = parse_section(PAGE.read_bytes(), url=URL, selector="h3 a")
    assert from_text == from_bytes and len(from_text.entries) == 5


def test_page_url_with_tracking_parameters_is_still_recognised_as_the_page() -> None:
    feed = parse_section(PAGE.read_bytes(), url=URL + "?utm_source=newsletter#top", selector="h3 a")
    assert "https://www.dailyharbour.example/world/" not in [entry.link for entry in feed.entries]


def test_without_base_href_links_resolve_against_the_page() -> None:
    page = '<h3><a href="2024/05/ferry">Ferry</a></h3><h3><a href="../sport/regatta">Regatta</a></h3>'
    feed = parse_section(page, url="https://news.example/world/", selector="h3 a")
    assert [entry.link for entry in feed.entries] == [
        "https://news.example/world/2024/05/ferry",
        "https://news.example/sport/regatta",
    ]


def test_relative_base_href_resolves_against_the_page() -> None:
    page = '<head><base href="/archive/"></head><body><h3><a href="ferry">Ferry</a></h3></body>'
    feed = parse_section(page, url="https://news.example/world/", selector="h3 a")
    assert [entry.link for entry in feed.entries] == ["https://news.example/archive/ferry"]


def test_bytes_are_decoded_by_their_declared_charset() -> None:
    page = (
        '<html><head><meta charset="windows-1252"><title>Caf\xe9s</title></head>'
        '<body><h3><a href="/caf\xe9-society">Caf\xe9 society returns to the old quay</a></h3></body></html>'
    ).encode("windows-1252")
    feed = parse_section(page, url="https://news.example/", selector="h3 a")
    assert feed.title == "Cafés"
    assert [entry.title for entry in feed.entries] == ["Café society returns to the old quay"]


def test_title_falls_back_to_a_later_link_to_the_same_story() -> None:
    page = (
        '<div class="card"><a href="/a"><img src="/a.jpg" alt=""></a><a href="/a">Headline A</a></div>'
        '<div class="card"><a href="/b" title="Headline B"><img src="/b.jpg" alt=""></a></div>'
    )
    feed = parse_section(page, url="https://news.example/", selector=".card a")
    assert [(entry.link, entry.title) for entry in feed.entries] == [
        ("https://news.example/a", "Headline A"),
        ("https://news.example/b", "Headline B"),
    ]


def test_container_without_a_link_is_skipped() -> None:
    page = '<h3>Most read</h3><h3><span>No link here</span></h3><h3><a href="/c">C</a></h3>'
    feed = parse_section(page, url="https://news.example/", selector="h3")
    assert [entry.link for entry in feed.entries] == ["https://news.example/c"]


def test_invalid_selector_names_the_selector() -> None:
    with pytest.raises(ParseError) as caught:
        parse_section(PAGE.read_bytes(), url=URL, selector="h3 >")
    assert str(caught.value).startswith("parser: invalid CSS selector 'h3 >' (")
    assert caught.value.url == URL


@pytest.mark.parametrize("selector", ["h2 a", ".teaser--partner a", "footer li:last-child a", "a.load-more"])
def test_selector_without_article_links_is_an_error(selector: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_section(PAGE.read_bytes(), url=URL, selector=selector)
    assert str(caught.value) == f"parser: selector '{selector}' matched no article links on the page"
    assert caught.value.url == URL
