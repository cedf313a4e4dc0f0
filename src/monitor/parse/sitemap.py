"""Sitemaps -> entries (pure): the sitemap protocol's ``<urlset>`` and ``<sitemapindex>``, with the Google
News and image extensions, gzip or plain.

A news site's sitemap is often its only machine-readable list of new articles, and it lists thousands of
old ones too, so only URLs dated within ``max_age_s`` of ``now`` are kept. Sitemaps come from servers we do
not trust: the XML parser never expands entities or reaches the network, and gzip is inflated with a hard
cap. Elements are matched on their local names, since sites get the namespaces wrong (or leave them out).
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.errors import ParseError
from monitor.extract.dates import parse_datetime
from monitor.extract.language import language_code
from monitor.inflate import InflateError, gunzip, is_gzip
from monitor.models import FeedEntry

MAX_INFLATED_BYTES = 50 * 1024 * 1024
"""A sitemap may be 50 MB uncompressed (sitemaps.org); anything bigger is refused, not inflated."""

_YEAR_OR_MONTH = re.compile(r"^\d{4}(-\d\d)?$")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Sitemap:
    entries: tuple[FeedEntry, ...]
    """Article URLs (from ``<urlset>``), newest first when dated."""
    sitemaps: tuple[str, ...]
    """Nested sitemap URLs (from ``<sitemapindex>``) worth following, newest first."""


def parse_sitemap(
    content: bytes, *, url: str, now: datetime, max_age_s: float, max_bytes: int = MAX_INFLATED_BYTES
) -> Sitemap:
    """Parse a sitemap or sitemap index fetched from ``url``, keeping what changed in the last ``max_age_s``.

    Undated URLs are kept only when nothing in the document is dated (a small hand-written sitemap);
    nested sitemaps without a ``<lastmod>`` are always kept, after the dated ones. A gzip'd sitemap inflates
    to ``max_bytes`` at most (the fetcher's cap, which saw only the compressed bytes).
    """
    if is_gzip(content):
        try:
            content = gunzip(content, limit=max_bytes)
        except InflateError as exc:
            raise ParseError(f"parser: gzip'd sitemap {exc} (http.max_bytes)", url=url) from None
    root = _parse_xml(content, url=url)
    kind = _local(root.tag)
    cutoff = now - timedelta(seconds=max_age_s)
    if kind == "urlset":
        return Sitemap(entries=_url_entries(root, url=url, now=now, cutoff=cutoff), sitemaps=())
    if kind == "sitemapindex":
        return Sitemap(entries=(), sitemaps=_nested_sitemaps(root, url=url, now=now, cutoff=cutoff))
    raise ParseError(f"parser: not a sitemap (the root element is <{kind}>)", url=url)


def _parse_xml(content: bytes, *, url: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"parser: not a sitemap ({exc})", url=url) from None
    if root is None:
        errors = parser.error_log
        reason = errors[0].message if len(errors) else "no XML element"
        raise ParseError(f"parser: not a sitemap ({reason})", url=url)
    return root


def _local(tag: Any) -> str:
    """``{ns}name``, ``prefix:name`` (an undeclared prefix, kept by the recovering parser) -> ``name``."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Any, name: str) -> Any:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element: Any) -> str:
    """The element's text. Entity references stay unexpanded: an HTML entity name becomes its character,
    any other entity (a document-defined one, possibly external or recursive) is dropped."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child, etree._Entity):
            parts.append(html.entities.html5.get(f"{child.name};", ""))
        elif isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _folded(element: Any) -> str | None:
    return " ".join(_text(element).split()) or None


def _http_url(value: str, *, base: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    absolute = urljoin(base, text)
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _date(element: Any, *, now: datetime) -> datetime | None:
    text = _text(element).strip()
    if _YEAR_OR_MONTH.match(text):  # W3C Datetime allows YYYY and YYYY-MM
        text += "-01" * (3 - len(text.split("-")))
    return parse_datetime(text, now=now)


def _url_entries(root: Any, *, url: str, now: datetime, cutoff: datetime) -> tuple[FeedEntry, ...]:
    entries: list[FeedEntry] = []
    for item in _children(root, "url"):
        link = _http_url(_text(_child(item, "loc")), base=url)
        if link is None:
            continue
        lastmod = _date(_child(item, "lastmod"), now=now)
        news = _child(item, "news")
        title: str | None = None
        published: datetime | None = None
        language: str | None = None
        if news is not None:
            title = _folded(_child(news, "title"))
            published = _date(_child(news, "publication_date"), now=now)
            publication = _child(news, "publication")
            if publication is not None:
                language = language_code(_text(_child(publication, "language")))
        image = None
        for holder in _children(item, "image"):
            if image := _http_url(_text(_child(holder, "loc")), base=url):
                break
        entries.append(
            FeedEntry(
                guid=None,
                link=link,
                title=title,
                published_at=published or lastmod,
                updated_at=lastmod,
                image=image,
                language=language,
            )
        )
    if any(entry.published_at is not None for entry in entries):
        recent = [e for e in entries if e.published_at is not None and e.published_at >= cutoff]
        recent.sort(key=lambda e: e.published_at or cutoff, reverse=True)
        entries = recent
    return tuple(_first_of_each(entries, key=lambda entry: entry.link or ""))


def _nested_sitemaps(root: Any, *, url: str, now: datetime, cutoff: datetime) -> tuple[str, ...]:
    dated: list[tuple[datetime, str]] = []
    undated: list[str] = []
    for item in _children(root, "sitemap"):
        link = _http_url(_text(_child(item, "loc")), base=url)
        if link is None:
            continue
        lastmod = _date(_child(item, "lastmod"), now=now)
        if lastmod is None:
            undated.append(link)
        elif lastmod >= cutoff:
            dated.append((lastmod, link))
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return tuple(_first_of_each([link for _, link in dated] + undated, key=lambda link: link))


def _first_of_each(items: list[_T], *, key: Callable[[_T], str]) -> list[_T]:
    seen: set[str] = set()
    kept: list[_T] = []
    for item in items:
        if (value := key(item)) not in seen:
            seen.add(value)
            kept.append(item)
    return kept
