"""Article page -> body text and metadata (pure, CPU-bound: the pipeline runs it in a process pool)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from htmldate import find_date

from monitor.extract.attribution import find_attribution
from monitor.extract.body import extract_body
from monitor.extract.charset import decode_html
from monitor.extract.language import detect_language
from monitor.extract.metadata import choose_authors, extract_metadata, parse_datetime
from monitor.htmltext import html_to_text
from monitor.models import ExtractedPage, Selectors

__all__ = ["extract_article", "extract_body"]


def extract_article(
    content: bytes | str,
    *,
    url: str,
    now: datetime,
    charset: str | None = None,
    selectors: Selectors | None = None,
) -> ExtractedPage:
    """Extract one article page. ``now`` bounds plausible dates; nothing here reads the clock.

    ``selectors`` (a source's own rules) override the generic extractor field by field.
    """
    html = content if isinstance(content, str) else decode_html(content, charset)
    soup = BeautifulSoup(html, "lxml")
    meta = extract_metadata(soup, now=now)
    text = _selected_text(soup, selectors) if selectors and selectors.body else None
    if text is None:
        text = extract_body(html, url=url)
    title, authors, published = meta.title, meta.authors, meta.published_at
    if selectors:
        title = _selected_first(soup, selectors.title) or title
        if selectors.authors and (
            names := [_folded(e.get_text(" ")) for e in soup.select(selectors.authors)]
        ):
            authors = choose_authors([n for n in names if n], site_name=meta.site_name) or authors
        if selectors.published:
            element = soup.select_one(selectors.published)
            if isinstance(element, Tag):
                value = element.get("datetime") or element.get("content") or element.get_text(" ")
                published = parse_datetime(value, now=now) or published
    if published is None:
        published = _htmldate(html, now=now)
    attribution = find_attribution(text)
    if attribution is not None:
        attribution = replace(attribution, url=_credited_link(soup, attribution.name, url))
    return ExtractedPage(
        text=text,
        title=title,
        authors=authors,
        published_at=published,
        modified_at=meta.modified_at,
        summary=meta.description,
        language=meta.language or detect_language(text),
        image=meta.image,
        canonical_url=meta.canonical_url,
        section=meta.section,
        keywords=meta.keywords,
        outlet_name=meta.site_name,
        attribution=attribution,
    )


def _folded(text: str) -> str:
    return " ".join(text.split())


def _selected_first(soup: BeautifulSoup, selector: str | None) -> str | None:
    if not selector:
        return None
    element = soup.select_one(selector)
    return _folded(element.get_text(" ")) or None if isinstance(element, Tag) else None


def _selected_text(soup: BeautifulSoup, selectors: Selectors) -> str | None:
    """The text of the source's body selector, minus its ``drop`` selectors; None if it matches nothing."""
    assert selectors.body is not None
    found = soup.select(selectors.body)
    if not found:
        return None
    for element in found:
        for selector in selectors.drop:
            for unwanted in element.select(selector):
                unwanted.decompose()
    return html_to_text("".join(str(element) for element in found)) or None


def _htmldate(html: str, *, now: datetime) -> datetime | None:
    """htmldate's reading of the page (URL patterns, visible dates), the last resort for a date."""
    try:
        found = find_date(html, extensive_search=True, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate is a heuristic over arbitrary HTML; a failure means "no date"
        return None
    return parse_datetime(found, now=now) if found else None


def _credited_link(soup: BeautifulSoup, name: str, page_url: str) -> str | None:
    """The link on the credited source's name, when the page has one (usually in the credit line)."""
    wanted = name.casefold()
    for anchor in reversed(soup.find_all("a", href=True)):
        if wanted in _folded(anchor.get_text(" ")).casefold():
            href = str(anchor.get("href") or "").strip()
            try:
                absolute = urljoin(page_url, href)
            except ValueError:
                continue
            if absolute.startswith(("http://", "https://")):
                return absolute
    return None
