"""trafilatura's fallback runs only where its fast result looks like one the fallback replaces (issue 14)."""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest

from monitor.extract import body
from monitor.extract.body import extract_body, fast_can_stand, needs_fallback, paragraph_chars
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
def passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The ``fast`` flag of every trafilatura pass extract_body makes."""
    seen: list[bool] = []
    real = body.trafilatura_text

    def recording(tree: Any, hints: body.PageHints, *, fast: bool) -> str:
        seen.append(fast)
        return real(tree, hints, fast=fast)

    monkeypatch.setattr(body, "trafilatura_text", recording)
    return seen


def test_a_fast_result_holding_the_page_is_kept(passes: list[bool]) -> None:
    text = extract_body(WHOLE)
    assert passes == [True]
    assert "Point 11 of the plan" in text


def test_a_short_fast_result_gets_the_fallback_which_wins(passes: list[bool]) -> None:
    doc = PageDoc.parse(SPLIT)
    assert doc is not None
    fast = body.trafilatura_text(doc.tree, body.page_hints(doc), fast=True)
    passes.clear()
    text = extract_body(SPLIT)
    assert passes == [True, False]
    assert "Point 11 of the plan" not in fast
    assert "Point 11 of the plan" in text


def test_almost_no_paragraph_text_goes_straight_to_the_full_extraction(passes: list[bool]) -> None:
    lines = "".join(f"<div>{SENTENCE * 2}Line {i}.<br>{SENTENCE}</div>" for i in range(8))
    text = extract_body(_page(f'<div class="main">{lines}</div>'))
    assert passes == [False]
    assert "Line 7." in text


def test_needs_fallback_when_short_holding_little_or_mostly_outside_paragraphs() -> None:
    elements = _paragraphs(f"<div>{LEAD}{POINTS}</div>")
    chars = sum(len(piece.strip()) for p in elements for piece in p.itertext())
    paragraphs = paragraph_chars(elements)
    assert needs_fallback("x" * 200, paragraphs)  # under trafilatura's MIN_EXTRACTED_SIZE
    assert needs_fallback("x" * int(0.4 * chars), paragraphs)  # holds little of the <p> text
    assert not needs_fallback("x" * int(0.8 * chars), paragraphs)
    assert not needs_fallback("x" * 2 * chars, paragraphs)
    assert needs_fallback("x" * (2 * chars + 10), paragraphs)  # mostly from outside paragraphs


def test_fast_can_stand_needs_enough_paragraph_text() -> None:
    assert not fast_can_stand(paragraph_chars(_paragraphs("<div><p>Short.</p><p>Also short.</p></div>")))
    assert fast_can_stand(paragraph_chars(_paragraphs(f"<div>{LEAD}</div>")))
