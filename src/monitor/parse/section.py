"""Section and home pages -> entries (pure), for outlets without a feed: a CSS selector per source names
the article links, and everything the selector catches beyond them (other sites, the page itself, repeats
of the same story) is dropped here.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import soupsieve
from bs4 import BeautifulSoup, Tag

from monitor.dedup import canonical_url, same_site
from monitor.errors import ParseError
from monitor.extract.charset import decode_html
from monitor.extract.language import language_code
from monitor.models import FeedEntry, ParsedFeed


def parse_section(content: bytes | str, *, url: str, selector: str) -> ParsedFeed:
    """The article links ``selector`` matches on the page at ``url``, in document order, canonicalised.

    A matched element is a link itself or holds one (its first ``a[href]``). A story linked twice (an
    image and a headline) is listed once, with the first title found.
    """
    text = decode_html(content, None) if isinstance(content, bytes) else content
    soup = BeautifulSoup(text, "lxml")
    try:
        matched = soup.select(selector)
    except soupsieve.SelectorSyntaxError as exc:
        reason = str(exc).splitlines()[0]
        raise ParseError(f"parser: invalid CSS selector {selector!r} ({reason})", url=url) from None
    base = base_url(soup, url)
    page = canonical_url(url)
    order: list[str] = []
    titles: dict[str, str | None] = {}
    for element in matched:
        link = element if element.name == "a" and element.get("href") is not None else None
        link = link or element.find("a", href=True)
        if not isinstance(link, Tag):
            continue
        href = link.get("href")
        if not isinstance(href, str):
            continue
        absolute = urljoin(base, href.strip())
        if urlsplit(absolute).scheme not in ("http", "https"):
            continue
        article = canonical_url(absolute)
        if article == page or not same_site(article, url):
            continue
        if article not in titles:
            order.append(article)
            titles[article] = None
        titles[article] = titles[article] or _title(link)
    if not order:
        raise ParseError(f"parser: selector {selector!r} matched no article links on the page", url=url)
    html_tag = soup.find("html")
    return ParsedFeed(
        title=_folded(soup.title.get_text()) if soup.title else None,
        link=url,
        language=language_code(html_tag.get("lang")) if isinstance(html_tag, Tag) else None,
        entries=tuple(FeedEntry(guid=None, link=article, title=titles[article]) for article in order),
    )


def base_url(soup: BeautifulSoup, url: str) -> str:
    """What relative links on the page at ``url`` resolve against: its ``<base href>``, if usable."""
    base = soup.find("base", href=True)
    href = base.get("href") if isinstance(base, Tag) else None
    if isinstance(href, str) and href.strip():
        absolute = urljoin(url, href.strip())
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return url


def _folded(text: str) -> str | None:
    return " ".join(text.split()) or None


def _title(link: Tag) -> str | None:
    attribute = link.get("title")
    return _folded(link.get_text(" ")) or (_folded(attribute) if isinstance(attribute, str) else None)
