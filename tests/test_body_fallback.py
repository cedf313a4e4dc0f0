"""trafilatura's fallback runs only where its fast result looks like one the fallback replaces (issue 14)."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from monitor.extract import body
from monitor.extract.body import (
    article_region,
    extract_body,
    fast_can_stand,
    needs_fallback,
    paragraph_sizes,
)
from monitor.extract.page import PageDoc

SENTENCE = "The council voted on the new harbour plan after a long debate about costs, jobs and the tides. "
LEAD = f"<p>{SENTENCE * 3}</p>"
POINTS = "".join(f"<p>{SENTENCE * 2}Point {i} of the plan was the new quay wall.</p>" for i in range(12))


def _page(content: str) -> str:
    return (
        "<html><head><title>Harbour plan</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<h1>Harbour plan</h1>{content}<footer>Footer</footer></body></html>"
    )


# trafilatura's main pass takes the <article> (one paragraph); readability, in its fallback, the article
# split into the sibling container
SPLIT = _page(f'<article class="post-content">{LEAD}</article><div class="entry">{POINTS}</div>')
WHOLE = _page(f"<article>{LEAD}{POINTS}</article>")


def _paragraphs(html: str) -> list[Any]:
    return list(lxml.html.fromstring(html).iter("p"))


@pytest.fixture
def trees(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, Any]]:
    """``(fast, tree)`` of every trafilatura pass extract_body makes."""
    seen: list[tuple[bool, Any]] = []
    real = body.trafilatura_text

    def recording(tree: Any, hints: body.PageHints, *, fast: bool) -> str:
        seen.append((fast, tree))
        return real(tree, hints, fast=fast)

    monkeypatch.setattr(body, "trafilatura_text", recording)
    return seen


def _flags(trees: list[tuple[bool, Any]]) -> list[bool]:
    return [fast for fast, _ in trees]


def test_a_fast_result_holding_the_page_is_kept(trees: list[tuple[bool, Any]]) -> None:
    text = extract_body(WHOLE)
    assert _flags(trees) == [True]
    assert "Point 11 of the plan" in text


def test_a_short_fast_result_gets_the_fallback_which_wins(trees: list[tuple[bool, Any]]) -> None:
    doc = PageDoc.parse(SPLIT)
    assert doc is not None
    fast = body.trafilatura_text(doc.tree, body.page_hints(doc), fast=True)
    trees.clear()
    text = extract_body(SPLIT)
    assert _flags(trees) == [True, False]
    assert "Point 11 of the plan" not in fast
    assert "Point 11 of the plan" in text


def test_almost_no_paragraph_text_goes_straight_to_the_full_extraction(trees: list[tuple[bool, Any]]) -> None:
    lines = "".join(f"<div>{SENTENCE * 2}Line {i}.<br>{SENTENCE}</div>" for i in range(8))
    text = extract_body(_page(f'<div class="main">{lines}</div>'))
    assert _flags(trees) == [False]
    assert "Line 7." in text


def test_needs_fallback_when_short_holding_little_or_mostly_outside_paragraphs() -> None:
    elements = _paragraphs(f"<div>{LEAD}{POINTS}</div>")
    chars = sum(len(piece.strip()) for p in elements for piece in p.itertext())
    paragraphs = sum(paragraph_sizes(elements))
    assert needs_fallback("x" * 200, paragraphs)  # under trafilatura's MIN_EXTRACTED_SIZE
    assert needs_fallback("x" * int(0.4 * chars), paragraphs)  # holds little of the <p> text
    assert not needs_fallback("x" * int(0.8 * chars), paragraphs)
    assert not needs_fallback("x" * 2 * chars, paragraphs)
    assert needs_fallback("x" * (2 * chars + 10), paragraphs)  # mostly from outside paragraphs


def test_fast_can_stand_needs_enough_paragraph_text() -> None:
    assert not fast_can_stand(sum(paragraph_sizes(_paragraphs("<div><p>Short.</p><p>Also short.</p></div>"))))
    assert fast_can_stand(sum(paragraph_sizes(_paragraphs(f"<div>{LEAD}</div>"))))


# A page whose article sits deep inside the layout, beside a long menu and a teaser column: the fast pass
# reads the element holding the paragraphs, three levels up, and nothing of the menu.
MENU = "".join(f"<li><a href='/section/{i}'>Section {i} of the site menu</a></li>" for i in range(60))
DEEP = (
    "<html><head><title>Harbour plan</title></head><body>"
    f"<header><nav><ul>{MENU}</ul></nav></header>"
    '<main><div class="layout"><div class="column"><article class="story">'
    "<h1>Harbour plan</h1><div class='standfirst'>The council chose the northern quay, after ten years.</div>"
    f'<div class="story-text">{LEAD}{POINTS}</div></article></div>'
    "<aside><p>Read more: the ferry timetable.</p></aside></div></main>"
    "<footer><p>Copyright the Harbour Gazette.</p></footer></body></html>"
)


def test_the_fast_pass_reads_the_part_of_the_page_holding_its_paragraphs(
    trees: list[tuple[bool, Any]],
) -> None:
    doc = PageDoc.parse(DEEP)
    assert doc is not None
    before = lxml.html.tostring(doc.tree)
    text = extract_body(doc)
    assert _flags(trees) == [True]
    region = trees[0][1]
    assert region is not doc.tree
    assert lxml.html.tostring(doc.tree) == before  # the page's own tree is left whole
    # div.story-text holds the paragraphs; three levels up: article, div.column, div.layout
    assert [element.tag for element in region] == ["body"]
    assert [(child.tag, child.get("class")) for child in region[0]] == [("div", "layout")]
    content = region.text_content()
    assert "The council chose the northern quay" in content
    assert "Section 59 of the site menu" not in content
    assert "Copyright the Harbour Gazette" not in content
    assert "Point 11 of the plan" in text
    assert "Section 3 of the site menu" not in text


def test_the_full_pass_reads_the_whole_page(trees: list[tuple[bool, Any]]) -> None:
    doc = PageDoc.parse(SPLIT)
    assert doc is not None
    extract_body(doc)
    assert _flags(trees) == [True, False]
    assert trees[1][1] is doc.tree


def _region(html: str) -> Any:
    doc = PageDoc.parse(html)
    assert doc is not None
    paragraphs = doc.elements("p")
    return article_region(paragraphs, paragraph_sizes(paragraphs))


def test_no_region_for_little_paragraph_text_or_paragraphs_spread_over_the_page() -> None:
    assert _region(_page(f"<div><div><div>{LEAD}</div></div></div>")) is None  # under REGION_MIN_CHARS
    halves = f"<div><div><div>{POINTS[: len(POINTS) // 2]}</div></div></div>"
    spread = _page(halves + f"<div><div><div>{POINTS}</div></div></div>")
    assert _region(spread) is None  # no element below <body> holds 90% of the <p> text
    shallow = _page(f"<div>{POINTS}</div>")
    assert _region(shallow) is None  # three levels up from div is the page's <html>


def test_the_region_is_a_copy_without_the_tail() -> None:
    html = _page(
        f'<div id="a"><div id="b"><div id="c"><div id="d">{POINTS}</div></div></div></div>Tail text.'
    )
    region = _region(html)
    assert region is not None
    (copied,) = region[0]
    assert copied.get("id") == "a"
    assert copied.tail is None
    assert "Tail text." not in region.text_content()
    assert "Point 11 of the plan" in copied.text_content()
