"""Article page -> body text (pure, CPU-bound).

trafilatura finds the main content; its body tree is flattened into blocks (paragraph, heading, list, table,
quote) that keep how much of their text is link text, then generic rules in :mod:`monitor.extract.body_rules`
drop what is not article text: a leading repeat of the title, trailing share/newsletter/related blocks, "Read
more:" inserts, repeated copies of the body. A JSON-LD ``articleBody`` replaces the result only when it
is clearly more complete (it is often a truncated teaser). When the result holds little of the page's
paragraph text (trafilatura sometimes keeps one of several sibling containers of a split article),
readability-lxml's reading replaces it under the same rule. trafilatura runs without its own fallback first,
and again with it only where that result is short, holds little of the page's paragraph text or is mostly
text from outside it (issue 14). A standfirst that trafilatura left in the article
header is put back when the page's description repeats it word for word (issue 13). Every rule is generic;
site-specific rules belong in the per-source config. Measured by ``benchmarks/extraction.py`` (issue 4).
"""

from __future__ import annotations

import html as html_entities
import json
import re
from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from readability import Document as ReadabilityDocument
from trafilatura.settings import Extractor

from monitor.extract.body_rules import Block, clean_blocks, shingle_set, word_list
from monitor.extract.page import PageDoc
from monitor.htmltext import html_to_text, normalise_paragraphs

LEAF_KINDS = {
    "p": "p",
    "head": "head",
    "h1": "head",
    "h2": "head",
    "h3": "head",
    "h4": "head",
    "h5": "head",
    "h6": "head",
    "quote": "quote",
    "blockquote": "quote",
    "code": "code",
    "pre": "code",
    "list": "list",
    "ul": "list",
    "ol": "list",
    "table": "table",
}
# Elements that stay inside the paragraph around them (trafilatura's own tags and the HTML ones its
# fallback extractors leave in place).
INLINE_TAGS = frozenset(
    {"ref", "a", "hi", "lb", "br", "b", "i", "em", "strong", "span", "graphic", "img", "font", "small"}
    | {"sup", "sub", "u", "abbr", "time", "cite", "del", "ins", "mark", "s", "label"}
)
LINE_BREAK_TAGS = frozenset({"lb", "br"})
NESTED_BLOCK_TAGS = frozenset({"p", "head", "item", "li", "row", "tr", "div"})
LINK_TAGS = ("ref", "a")
# A JSON-LD body replaces the extracted text only when it holds nearly all of it and is clearly longer.
JSON_LD_COVERAGE = 0.9
JSON_LD_MIN_GAIN = 1.5
# When the extraction holds less than this share of the text in the page's <p> elements, trafilatura may have
# taken one of several sibling containers of the article: readability-lxml gets a second opinion.
SECOND_OPINION_SHARE = 0.45
# trafilatura's MIN_EXTRACTED_SIZE: below it, its fallback also tries justext and its baseline.
FALLBACK_MIN_CHARS = 250
# trafilatura's fast pass reads the element holding this share of the page's <p> text, this many levels up
# (article_region; chosen on the benchmarks' tuning halves: 0.8-0.95 and 1-4 levels were tried)
REGION_SHARE = 0.9
REGION_UP = 3
REGION_MIN_CHARS = 500
# A result longer than this many times the page's <p> text is mostly text from outside paragraphs, which
# trafilatura's fallback compares with readability's reading.
FALLBACK_OUTSIDE_PARAGRAPHS = 2.0
# A standfirst (lead) is restored only when it is a real paragraph, not a tagline or a one-line deck.
LEAD_MIN_CHARS = 60
LEAD_MAX_CHARS = 1000
LEAD_PREFIX_CHARS = 40
NOT_TEXT_TAGS = ("script", "style", "noscript", "template", "head")
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
LEAD_MIN_SENTENCES = 2
SENTENCE_END = re.compile(r"[.!?…][\"'»“”’)]*(\s|$)")


@dataclass(frozen=True)
class PageHints:
    """What the page says about itself: title candidates, descriptions, and JSON-LD article bodies."""

    titles: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    json_ld_bodies: tuple[str, ...] = ()


def _squash(text: str) -> str:
    return " ".join(text.split())


def _inline_text(element: Any) -> str:
    """Text of an element with its line breaks kept; nested blocks start a new line."""
    parts: list[str] = []

    def walk(node: Any, top: bool) -> None:
        if node.tag in LINE_BREAK_TAGS:
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                walk(child, False)
            if child.tail:
                parts.append(child.tail)
        if not top and node.tag in NESTED_BLOCK_TAGS:
            parts.append("\n")

    walk(element, True)
    return "\n".join(line for line in (_squash(raw) for raw in "".join(parts).split("\n")) if line)


def _link_chars(element: Any) -> int:
    return sum(len(_squash("".join(link.itertext()))) for link in element.iter(*LINK_TAGS))


def _list_text(element: Any) -> str:
    items = (" ".join(_inline_text(item).split("\n")) for item in element if item.tag in ("item", "li"))
    return "\n".join(item for item in items if item)


def _table_text(element: Any) -> str:
    rows = (
        " | ".join(_squash("".join(cell.itertext())) for cell in row if isinstance(cell.tag, str))
        for row in element.iter("row", "tr")
    )
    return "\n".join(row for row in rows if row.strip(" |"))


def _flatten(element: Any, out: list[Block]) -> None:
    if element.text and _squash(element.text):
        out.append(Block("p", _squash(element.text)))
    for child in element:
        if not isinstance(child.tag, str):  # comments, processing instructions
            pass
        elif child.tag in LEAF_KINDS:
            kind = LEAF_KINDS[child.tag]
            if kind == "list":
                text = _list_text(child)
            elif kind == "table":
                text = _table_text(child)
            else:
                text = _inline_text(child)
            if text:
                out.append(Block(kind, text, _link_chars(child)))
        elif child.tag in INLINE_TAGS:
            text = _inline_text(child)
            if text:
                out.append(Block("p", text, _link_chars(child)))
        else:  # a container left by a fallback extractor: look inside
            _flatten(child, out)
        if child.tail and _squash(child.tail):
            out.append(Block("p", _squash(child.tail)))


def blocks_from_tree(body: Any) -> list[Block]:
    """trafilatura's body tree (or the HTML its fallbacks return) -> blocks in document order."""
    out: list[Block] = []
    _flatten(body, out)
    return out


def _json_ld_values(node: Any, key: str, out: list[str]) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key and isinstance(value, str):
                out.append(value)
            else:
                _json_ld_values(value, key, out)
    elif isinstance(node, list):
        for value in node:
            _json_ld_values(value, key, out)


def page_hints(doc: PageDoc) -> PageHints:
    """Title candidates (<title>, og/twitter title, <h1>, JSON-LD headline), descriptions, JSON-LD bodies."""
    titles = [_squash(element.text_content()) for element in (*doc.elements("title"), *doc.elements("h1"))]
    # the page's <meta> and <script> elements: an XPath ``//meta`` reads the whole document
    metas = doc.elements("meta") if doc.from_root else doc.tree.xpath("//meta")
    scripts = doc.elements("script") if doc.from_root else doc.tree.xpath("//script")
    titles += [
        _squash(value)
        for meta in metas
        if (value := meta.get("content")) is not None
        and (meta.get("property") in ("og:title", "twitter:title") or meta.get("name") == "twitter:title")
    ]
    descriptions = [
        _squash(value)
        for meta in metas
        if (value := meta.get("content")) is not None
        and (
            meta.get("name") in ("description", "twitter:description")
            or meta.get("property") == "og:description"
        )
    ]
    bodies: list[str] = []
    for script in scripts:
        if script.get("type") != "application/ld+json":
            continue
        try:
            data = json.loads(script.text_content(), strict=False)
        except ValueError:
            continue
        _json_ld_values(data, "articleBody", bodies)
        _json_ld_values(data, "headline", titles)
        _json_ld_values(data, "description", descriptions)
    return PageHints(
        titles=tuple(t for t in titles if t),
        descriptions=tuple(d for d in descriptions if d),
        json_ld_bodies=tuple(b for b in bodies if b.strip()),
    )


def json_ld_text(article_body: str) -> str:
    """A JSON-LD articleBody as paragraphs: some sites put HTML, even escaped HTML, in it."""
    if "&lt;" in article_body:
        article_body = html_entities.unescape(article_body)
    return html_to_text(article_body)


def paragraph_sizes(paragraphs: Iterable[Any]) -> list[int]:
    """The characters of text inside each of the page's <p> elements (article text, and also teasers and
    comments), in order: counted once a page; their sum is the page's <p> text, which
    :func:`fast_can_stand`, :func:`needs_fallback` and :func:`holds_little` take, and :func:`article_region`
    reads them one by one."""
    return [sum(len(piece.strip()) for piece in element.itertext()) for element in paragraphs]


def article_region(paragraphs: Sequence[Any], sizes: Sequence[int]) -> Any | None:
    """The page's smallest element holding ``REGION_SHARE`` of its <p> text (``sizes``, one per element of
    ``paragraphs``: :func:`paragraph_sizes`), taken
    ``REGION_UP`` levels up and copied into a page of its own (``<html><body>element</body></html>``); None
    when that is the page's body, or when the page has under ``REGION_MIN_CHARS`` of <p> text (issue 14).

    trafilatura's fast pass is handed this page instead of the whole one: its cost grows with the page (its
    prunes and its three copies of the tree), while the article it looks for sits around the element that
    holds the page's paragraphs. The levels up keep what stands beside the paragraphs (a lead, a subtitle,
    the article's own container, whose class names trafilatura's rules look for); the fallback gate then
    checks the result against the whole page's <p> text, and the full pass, when it runs, reads the whole
    page."""
    paragraph_text = sum(sizes)
    if paragraph_text < REGION_MIN_CHARS:
        return None
    held: dict[Any, int] = {}
    top = None
    for element, size in zip(paragraphs, sizes, strict=True):
        node = element if size else None
        while node is not None:
            held[node] = held.get(node, 0) + size
            top, node = node, node.getparent()
    need = REGION_SHARE * paragraph_text
    node = top
    while node is not None and (inner := next((c for c in node if held.get(c, 0) >= need), None)) is not None:
        node = inner  # a share over half: at most one child holds it
    for _ in range(REGION_UP):
        if node is None or node.tag in ("body", "html"):
            break
        node = node.getparent()
    if node is None or node.tag in ("body", "html"):
        return None
    region = deepcopy(node)
    region.tail = None
    page = lxml.html.Element("html")
    page.append(lxml.html.Element("body"))
    page[0].append(region)
    return page


def holds_little(text: str, paragraph_text: int) -> bool:
    """The text is shorter than ``SECOND_OPINION_SHARE`` of the page's <p> text (the sum of
    :func:`paragraph_sizes`)."""
    return len(text) < SECOND_OPINION_SHARE * paragraph_text


def readability_blocks(tree: Any) -> list[Block]:
    """readability-lxml's reading of the page as blocks (it modifies the tree); [] when it fails."""
    try:
        summary = ReadabilityDocument(tree).summary(html_partial=True)
    except Exception:  # a heuristic over arbitrary HTML: a failure means "no second opinion"
        return []
    try:
        fragment = lxml.html.fragment_fromstring(summary)
    except (ValueError, lxml.etree.ParserError):
        return []
    return blocks_from_tree(fragment)


def more_complete(extracted: str, candidate: str) -> bool:
    """The candidate holds nearly all of the extracted text and is clearly longer."""
    extracted_words = word_list(extracted)
    candidate_words = word_list(candidate)
    if not extracted_words:
        return bool(candidate_words)
    extracted_shingles = shingle_set(extracted_words)
    covered = len(extracted_shingles & shingle_set(candidate_words)) / len(extracted_shingles)
    return covered >= JSON_LD_COVERAGE and len(candidate_words) >= JSON_LD_MIN_GAIN * len(extracted_words)


def choose_body(extracted: str, json_ld_bodies: tuple[str, ...]) -> str:
    """The extracted text, unless a JSON-LD body is clearly more complete (or the extraction found nothing).

    A JSON-LD body is often a teaser cut after a few hundred characters, or carries image captions and embed
    markup, so it wins only when it contains nearly all of the extracted text and is much longer.
    """
    candidates = [text for text in (json_ld_text(body) for body in json_ld_bodies) if text]
    if not candidates:
        return extracted
    longest = max(candidates, key=len)
    return longest if more_complete(extracted, longest) else extracted


@dataclass(frozen=True)
class Lead:
    """The page's standfirst: an element between the headline and the body whose text is the description."""

    text: str
    position: int  # the element's index in document order
    starts: dict[str, int]  # the first LEAD_PREFIX_CHARS of each text node -> its index in document order


def find_lead(tree: Any, descriptions: tuple[str, ...]) -> Lead | None:
    """The element after the page's first <h1> whose whole text is one of the page's descriptions.

    Publishers set the meta description to the standfirst, which trafilatura often leaves out (it sits in a
    header or a "teaser" container). Two pieces of evidence agree: the visible text and the declared summary.
    Read before trafilatura prunes the tree; whether it comes before the body is decided afterwards.
    """
    wanted = {
        text
        for text in descriptions
        if LEAD_MIN_CHARS <= len(text) <= LEAD_MAX_CHARS
        and len(SENTENCE_END.findall(text)) >= LEAD_MIN_SENTENCES
    }
    if not wanted:
        return None
    heads = {text[:LEAD_PREFIX_CHARS] for text in wanted}
    starts: dict[str, int] = {}
    headline: int | None = None
    found: tuple[str, int] | None = None
    for position, element in enumerate(tree.iter()):
        if not isinstance(element.tag, str) or element.tag in NOT_TEXT_TAGS:
            continue
        if element.tag == "h1" and headline is None:
            headline = position
        raw = element.text
        if raw is None or len(raw) < LEAD_PREFIX_CHARS:  # squashing only shortens it
            continue
        text = _squash(raw)
        if len(text) < LEAD_PREFIX_CHARS:
            continue
        starts.setdefault(text[:LEAD_PREFIX_CHARS], position)
        if found is None and headline is not None and text[:LEAD_PREFIX_CHARS] in heads:
            container = element
            for _ in range(3):  # the text may sit in an inline child of the lead element
                if container.tag in HEADING_TAGS:  # a subheadline or deck, not a paragraph
                    break
                whole = _squash(container.text_content())
                if whole in wanted:
                    found = (whole, position)
                    break
                container = container.getparent()
                if container is None or len(whole) > LEAD_MAX_CHARS:
                    break
    if found is None:
        return None
    return Lead(found[0], found[1], starts)


def with_lead(text: str, lead: Lead | None) -> str:
    """The body with the standfirst put back in front, when the body starts after it and lacks it."""
    if lead is None or not text:
        return text
    lead_shingles = shingle_set(word_list(lead.text))
    if len(lead_shingles & shingle_set(word_list(text))) >= 0.5 * len(lead_shingles):
        return text
    for paragraph in text.split("\n\n")[:3]:
        start = lead.starts.get(_squash(paragraph)[:LEAD_PREFIX_CHARS])
        if start is not None:
            return f"{lead.text}\n\n{text}" if start > lead.position else text
    return text


@lru_cache(maxsize=2)
def _body_options(fast: bool = False) -> Extractor:
    """trafilatura's settings for the body, made once per mode: each call would read its configuration
    again, and the clock for the date limit of a metadata extraction that is not asked for. Never changed
    after. ``fast`` skips trafilatura's fallback (its readability and justext comparisons)."""
    return Extractor(
        url=None,  # the URL only resolves link targets, which are not kept: resolving them is slow
        fast=fast,
        comments=False,
        with_metadata=False,
        tables=True,
        links=True,  # link text marks related-article lists; links are not kept in the output
        output_format="txt",  # only the body tree is read: "python" would also serialise it to text
    )


def trafilatura_text(tree: Any, hints: PageHints, *, fast: bool) -> str:
    """trafilatura's body of the page (a copy of ``tree`` is pruned, not the tree), cleaned into text and
    checked against the page's JSON-LD body; the seam where the fast and the full extraction are chosen."""
    document = trafilatura.bare_extraction(tree, options=_body_options(fast))
    body = getattr(document, "body", None)
    if body is None:
        return choose_body("", hints.json_ld_bodies)
    blocks = clean_blocks(blocks_from_tree(body), hints.titles, hints.descriptions)
    return choose_body("\n\n".join(block.text for block in blocks), hints.json_ld_bodies)


def fast_can_stand(paragraph_text: int) -> bool:
    """Whether any fast result could escape :func:`needs_fallback`: not on a page with under
    ``FALLBACK_MIN_CHARS / FALLBACK_OUTSIDE_PARAGRAPHS`` characters of <p> text (the sum of
    :func:`paragraph_sizes`), where every result is either too short or mostly text from outside paragraphs
    (then only the full extraction runs)."""
    return paragraph_text * FALLBACK_OUTSIDE_PARAGRAPHS >= FALLBACK_MIN_CHARS


def needs_fallback(text: str, paragraph_text: int) -> bool:
    """Whether trafilatura's fast result is one its fallback could change, given the page's <p> text
    (the sum of :func:`paragraph_sizes`). Its readability comparison replaces a result that readability's is
    over twice as long as (such a result holds little of the page's <p> text: :func:`holds_little`), or one
    whose text is not paragraph text (more than ``FALLBACK_OUTSIDE_PARAGRAPHS`` times all of the page's <p>
    text: a page dump, tables, a recall retry's run of divs); under ``FALLBACK_MIN_CHARS`` it also tries
    justext and its baseline."""
    return (
        len(text) < FALLBACK_MIN_CHARS
        or holds_little(text, paragraph_text)
        or len(text) > FALLBACK_OUTSIDE_PARAGRAPHS * paragraph_text
    )


def extract_body(html: str | lxml.html.HtmlElement | PageDoc, *, url: str | None = None) -> str:
    """The article body as plain text, paragraphs separated by a blank line ('' when there is none).

    ``html`` is the page, its lxml tree, or the page parsed once for the metadata too (:class:`PageDoc`,
    whose lookups the body shares); a tree is left as it was.

    ``url`` is accepted for callers' sake; the body does not depend on it.
    """
    doc = (
        html
        if isinstance(html, PageDoc)
        else PageDoc(html)
        if isinstance(html, lxml.html.HtmlElement)
        else PageDoc.parse(html)
    )
    if doc is None:
        return ""
    tree = doc.tree
    hints = page_hints(doc)
    lead = find_lead(tree, hints.descriptions)
    # trafilatura without its fallback (readability, justext: a third of its time) first; the whole of it
    # only where the fast result looks like one the fallback replaces (issue 14: one page in eight)
    paragraphs = doc.elements("p")
    sizes = paragraph_sizes(paragraphs)
    paragraph_text = sum(sizes)
    if fast_can_stand(paragraph_text):
        # on the part of the page that holds its paragraphs (issue 14: under half trafilatura's time)
        region = article_region(paragraphs, sizes)
        text = trafilatura_text(tree if region is None else region, hints, fast=True)
    else:
        text = ""
    if needs_fallback(text, paragraph_text):
        text = trafilatura_text(tree, hints, fast=False)
    if holds_little(text, paragraph_text):
        # readability drops hidden elements in place: a copy keeps the caller's tree whole (trafilatura
        # copies it too), so the caller may still read it; this runs on one page in twenty
        second = "\n\n".join(
            block.text
            for block in clean_blocks(readability_blocks(deepcopy(tree)), hints.titles, hints.descriptions)
        )
        if more_complete(text, second):
            text = second
    return normalise_paragraphs(with_lead(text, lead))
