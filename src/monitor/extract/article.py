"""Article page -> body text and metadata (pure, CPU-bound: the pipeline runs it in a process pool)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from monitor.extract.attribution import find_attribution
from monitor.extract.authors import clean_names
from monitor.extract.body import extract_body
from monitor.extract.charset import decode_html
from monitor.extract.dates import local_iso, parse_moment, to_utc
from monitor.extract.decide import choose_modified, choose_site_name, decide, page_evidence, with_detection
from monitor.extract.evidence import clean_text
from monitor.extract.page import PageDoc, element_text
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
    content_language: str | None = None,
    decided: bool = True,
) -> ExtractedPage:
    """Extract one article page: one lxml parse feeds the metadata rules, then the body extraction.

    ``now`` bounds plausible dates (nothing here reads the clock). The page's fields are decided from the
    page alone; ``evidence`` keeps every candidate, so that the pipeline decides again with the feed's and
    the source's evidence (:func:`monitor.extract.decide.decide`). ``selectors`` (a source's own rules)
    override the generic extractor field by field.

    ``decided=False`` is for that caller: the page-only decision of the title, the authors, the publication
    time and the language, which it would decide again, is left to it (those fields are None unless a
    source's selectors chose them; the evidence is the same); the modified time and the outlet's name, which
    it takes from the page, are still set (issue 14, D69: ~1 ms a page the pipeline would throw away).
    """
    html = content if isinstance(content, str) else decode_html(content, charset)
    doc = PageDoc.parse(html, url)
    if doc is None:
        return ExtractedPage(text="")
    doc.content_language = content_language
    evidence = page_evidence(doc, now=now)
    soup = BeautifulSoup(html, "lxml") if selectors else None
    text = _selected_text(soup, selectors) if soup is not None and selectors and selectors.body else None
    if text is None:
        text = extract_body(doc, url=url)  # leaves doc.tree as it was
    evidence = with_detection(evidence, text)
    chosen = decide(evidence, fetched_at=now) if decided else None
    title = chosen.title.value if chosen else None
    authors = (chosen.authors.value if chosen else None) or ()
    published = chosen.published.value if chosen else None
    published_at = to_utc(published) if published else None
    published_local = local_iso(published) if published else None
    selected: list[str] = []
    if soup is not None and selectors:
        if selected_title := _selected_first(soup, selectors.title):
            title = selected_title
            selected.append("title")
        if selectors.authors and (
            names := [n for e in soup.select(selectors.authors) if (n := clean_text(e.get_text(" ")))]
        ):
            site_names = [c.value for c in evidence.site_names]
            if cleaned := clean_names(names, site_names=site_names):
                authors = cleaned
                selected.append("authors")
        if selectors.published:
            element = soup.select_one(selectors.published)
            if isinstance(element, Tag):
                value = element.get("datetime") or element.get("content") or element.get_text(" ")
                if (moment := parse_moment(value, now=now)) is not None:
                    published_at, published_local = to_utc(moment), local_iso(moment)
                    selected.append("published_at")
    attribution = find_attribution(text)
    if attribution is not None:
        attribution = replace(attribution, url=_credited_link(doc, attribution.name, url))
    modified = (chosen.modified if chosen else choose_modified(evidence)).value
    ld = doc.article_ld
    return ExtractedPage(
        text=text,
        title=title,
        authors=tuple(authors),
        published_at=published_at,
        published_local=published_local,
        modified_at=to_utc(modified) if modified else None,
        summary=clean_text(ld.get("description"))
        or doc.meta("og:description", "description", "twitter:description"),
        language=chosen.language.value if chosen else None,
        image=_image_url(ld.get("image")) or doc.meta("og:image", "twitter:image", "twitter:image:src"),
        canonical_url=_canonical(doc),
        section=_section(doc),
        keywords=_keywords(doc),
        outlet_name=(chosen.site_name if chosen else choose_site_name(evidence)).value,
        attribution=attribution,
        evidence=evidence,
        selected=tuple(selected),
    )


def _canonical(doc: PageDoc) -> str | None:
    for link in doc.elements("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and (href := clean_text(link.get("href"))):
            return href
    return doc.meta("og:url")


def _section(doc: PageDoc) -> str | None:
    value = doc.article_ld.get("articleSection")
    if isinstance(value, list):
        value = value[0] if value else None
    return clean_text(value) or doc.meta(
        "article:section", "parsely-section", "section", "og:section", "sailthru.section"
    )


def _keywords(doc: PageDoc) -> tuple[str, ...]:
    """Keywords and tags: JSON-LD ``keywords``, ``news_keywords``/``keywords`` meta, ``article:tag``."""
    raw = doc.article_ld.get("keywords")
    candidates: list[str] = []
    if isinstance(raw, list):
        candidates.extend(str(item) for item in raw if isinstance(item, str))
    elif isinstance(raw, str):
        candidates.extend(raw.split(","))
    if not candidates:
        for _, value in doc.meta_all("news_keywords", "keywords", "parsely-tags"):
            candidates.extend(value.split(","))
    candidates.extend(value for _, value in doc.meta_all("article:tag"))
    found: list[str] = []
    seen: set[str] = set()
    for candidate in candidates:
        keyword = " ".join(candidate.split()).strip(" ;")
        if keyword and len(keyword) <= 60 and keyword.casefold() not in seen:
            seen.add(keyword.casefold())
            found.append(keyword)
    return tuple(found[:30])


def _image_url(value: object) -> str | None:
    if isinstance(value, list):
        for item in value:
            if url := _image_url(item):
                return url
        return None
    if isinstance(value, dict):
        return clean_text(value.get("url") or value.get("contentUrl"))
    return clean_text(value)


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


def _credited_link(doc: PageDoc, name: str, page_url: str) -> str | None:
    """The link on the credited source's name, when the page has one (usually in the credit line): the
    page's links read from the last, only on the pages that credit a source."""
    wanted = name.casefold()
    for anchor in reversed(doc.elements("a")):
        href: str | None = anchor.get("href")
        if href and (text := element_text(anchor)) and wanted in text.casefold():
            try:
                absolute = urljoin(page_url, href.strip())
            except ValueError:
                continue
            if absolute.startswith(("http://", "https://")):
                return absolute
    return None
