"""Where a site keeps its feeds (pure): the ``<link rel="alternate">`` tags a homepage advertises, the
paths feeds usually live at, and a cheap look at a response to tell a feed or a sitemap from anything else.

Nothing here fetches: the caller tries the candidates in order and sniffs each body with
:func:`looks_like_feed` before handing it to the full parser.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from monitor.dedup import canonical_url
from monitor.extract.charset import decode_html
from monitor.parse.section import base_url

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
XML_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
COMMON_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/all.atom.xml",
    "/sitemap_news.xml",
    "/news-sitemap.xml",
)
SNIFF_BYTES = 2048

_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"\s*<([A-Za-z_][\w.-]*(?::[\w.-]+)?)")
_RSS_RDF_NAMESPACES = ("purl.org/rss/", "my.netscape.com/rdf/")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True, slots=True)
class FeedCandidate:
    url: str
    title: str | None
    kind: str
    """``"feed"`` or ``"sitemap"``."""


def feed_links(content: bytes | str, *, url: str) -> list[FeedCandidate]:
    """The feeds (and ``rel="sitemap"`` links) the page at ``url`` declares, absolute, in document order.

    ``application/json`` alternates that point into the WordPress REST API (every WordPress page has one,
    for the page itself) are not feeds and are left out.
    """
    text = decode_html(content, None) if isinstance(content, bytes) else content
    soup = BeautifulSoup(text, "lxml")
    base = base_url(soup, url)
    found: list[FeedCandidate] = []
    seen: set[str] = set()
    for link in soup.find_all("link", href=True):
        rel = link.get("rel")
        rels = {value.lower() for value in (rel if isinstance(rel, list) else str(rel or "").split())}
        mime = str(link.get("type") or "").split(";", 1)[0].strip().lower()
        if "alternate" in rels and mime in FEED_TYPES:
            kind = "feed"
        elif "sitemap" in rels:
            kind = "sitemap"
        else:
            continue
        absolute = urljoin(base, str(link.get("href")).strip())
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if mime == "application/json" and ("/wp-json/" in parts.path or "rest_route=" in parts.query):
            continue
        if (key := canonical_url(absolute)) in seen:
            continue
        seen.add(key)
        title = link.get("title")
        folded = " ".join(title.split()) if isinstance(title, str) else ""
        found.append(FeedCandidate(url=absolute, title=folded or None, kind=kind))
    return found


def candidate_urls(url: str) -> list[str]:
    """:data:`COMMON_PATHS` on the site of ``url``, to try when the homepage advertises no feed."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        return []
    return [f"{scheme}://{parts.netloc}{path}" for path in COMMON_PATHS]


def looks_like_feed(content: bytes, content_type: str) -> str | None:
    """``"feed"`` (RSS, Atom, RSS 1.0/RDF, JSON Feed), ``"sitemap"`` (urlset, sitemapindex) or None, from the
    first :data:`SNIFF_BYTES` of the body; the content type decides only when those bytes do not."""
    text = _head(content)
    if not text:
        return None
    if text.startswith("{"):
        if "jsonfeed.org/version" in text.replace("\\/", "/"):
            return "feed"
        # The version key may come after 2 KB of items; then only the label can tell.
        return "feed" if content_type.split(";", 1)[0].strip().lower() == "application/feed+json" else None
    pos = 0
    while (prolog := _PROLOG.match(text, pos)) is not None:
        pos = prolog.end()
    root = _ROOT.match(text, pos)
    if root is None:
        rest = text[pos:].lstrip()
        if rest and not rest.startswith(("<!", "<?")):
            return None  # not markup, or markup that is not XML
        # Only comments, a DOCTYPE or processing instructions fit in the first bytes: trust the label.
        mime = content_type.split(";", 1)[0].strip().lower()
        return "feed" if mime in XML_FEED_TYPES else None
    name = root.group(1).rpartition(":")[2].lower()
    if name in ("rss", "feed"):
        return "feed"
    if name == "rdf":
        return "feed" if any(namespace in text for namespace in _RSS_RDF_NAMESPACES) else None
    if name in ("urlset", "sitemapindex"):
        return "sitemap"
    return None


def _head(content: bytes) -> str:
    """The first :data:`SNIFF_BYTES` of the body as text, inflated first when gzip'd (sitemaps often are)."""
    head = content[:SNIFF_BYTES]
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(content, SNIFF_BYTES)
        except zlib.error:
            return ""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head.decode(codec, errors="replace").lstrip()
    return head.decode("utf-8", errors="replace").lstrip()
