"""Feeds -> entries (pure): RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 by hand.

feedparser is given the body as a stream, never a string: a string that looks like a URL would make it
fetch, and only the fetcher talks to the network.
"""

from __future__ import annotations

import io
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.htmltext import html_to_text
from monitor.inflate import InflateError, gunzip, is_gzip
from monitor.models import FeedEntry, ParsedFeed

JSON_FEED_TYPES = ("application/feed+json", "application/json")
MAX_INFLATED_BYTES = 50 * 1024 * 1024
"""A feed is never bigger than a sitemap may be."""


def parse_feed(content: bytes, *, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document. A malformed feed that still yields entries is used (``problem`` says what
    was wrong); one that yields no entries raises :class:`ParseError`. A gzip'd body (a server that forgot
    its ``Content-Encoding``, a ``.xml.gz`` file) is inflated first, up to ``MAX_INFLATED_BYTES``."""
    if is_gzip(content):
        try:
            content = gunzip(content, limit=MAX_INFLATED_BYTES)
        except InflateError as exc:
            raise ParseError(f"parser: the gzip'd feed {exc}", url=url) from None
    if content_type in JSON_FEED_TYPES or content.lstrip()[:1] == b"{":
        return _parse_json_feed(content, url=url)
    return _parse_xml_feed(content, url=url, content_type=content_type)


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None


def _text_of(value: Any) -> str | None:
    html = _clean(value)
    return (html_to_text(html) or None) if html else None


def _raw(entry: Any, key: str) -> Any:
    """Read a key without feedparser's deprecated published/updated aliasing (it warns, and will go)."""
    return dict.get(entry, key)


def _struct_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _language(value: Any) -> str | None:
    text = _clean(value)
    if not text:
        return None
    code = text.replace("_", "-").split("-", 1)[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


def _xml_authors(entry: Any) -> tuple[str, ...]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = _clean(author.get("name")) if isinstance(author, dict) else None
        if name and name not in names:
            names.append(name)
    if not names and (single := _clean(entry.get("author"))):
        names.append(single)
    return tuple(names)


def _xml_image(entry: Any) -> str | None:
    for key in ("media_content", "media_thumbnail"):
        for media in entry.get(key) or []:
            if isinstance(media, dict) and _clean(media.get("url")):
                medium = media.get("medium") or media.get("type") or "image"
                if "image" in str(medium):
                    return str(media["url"]).strip()
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return _clean(link.get("href"))
    image = entry.get("image")
    if isinstance(image, dict):
        return _clean(image.get("href") or image.get("url"))
    return None


_UPDATE_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 604800, "monthly": 2592000, "yearly": 31536000}


def feed_hint_seconds(
    *, ttl: str | None = None, update_period: str | None = None, update_frequency: str | None = None
) -> float | None:
    """The shortest interval a feed asks for: ``<ttl>`` (minutes) and ``sy:updatePeriod``/``Frequency``."""
    hints = []
    if ttl and ttl.strip().isdigit():
        hints.append(int(ttl.strip()) * 60.0)
    if update_period and update_period.strip().lower() in _UPDATE_PERIODS:
        frequency = int(update_frequency) if update_frequency and update_frequency.strip().isdigit() else 1
        hints.append(_UPDATE_PERIODS[update_period.strip().lower()] / max(frequency, 1))
    return max(hints) if hints else None


_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)


def strip_doctype(content: bytes) -> bytes:
    """Feeds have no business declaring entities: dropping the DOCTYPE (and its internal subset) before
    parsing means no entity expansion (billion laughs) and no external entity (XXE) is ever attempted."""
    head = content[:65536]
    if b"<!DOCTYPE" not in head.upper() and b"<!doctype" not in head:
        return content
    return _DOCTYPE.sub(b"", head, count=1) + content[65536:]


def _parse_xml_feed(content: bytes, *, url: str, content_type: str) -> ParsedFeed:
    content = strip_doctype(content)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers, sanitize_html=True)
    problem = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problem = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed document"
    if not parsed.entries:
        if problem is not None:
            raise ParseError(f"parser: not a readable feed ({problem})", url=url)
        if not parsed.get("version"):
            raise ParseError("parser: not a recognised feed format (RSS, Atom or JSON Feed)", url=url)
    feed = parsed.feed
    entries = []
    for entry in parsed.entries:
        content_html = None
        for part in entry.get("content") or []:
            if isinstance(part, dict) and _clean(part.get("value")):
                content_html = part["value"]
                break
        entries.append(
            FeedEntry(
                guid=_clean(entry.get("id")),
                link=_clean(entry.get("link")),
                title=_text_of(entry.get("title")),
                authors=_xml_authors(entry),
                published_at=_struct_to_datetime(
                    _raw(entry, "published_parsed")
                    or _raw(entry, "created_parsed")
                    or _raw(entry, "updated_parsed")
                ),
                updated_at=_struct_to_datetime(_raw(entry, "updated_parsed")),
                summary=_text_of(entry.get("summary")),
                content=_text_of(content_html),
                image=_xml_image(entry),
                language=_language(entry.get("language")),
            )
        )
    return ParsedFeed(
        title=_text_of(feed.get("title")),
        link=_clean(feed.get("link")),
        language=_language(feed.get("language")),
        entries=tuple(entries),
        problem=problem,
        hint_s=feed_hint_seconds(
            ttl=_clean(feed.get("ttl")),
            update_period=_clean(feed.get("sy_updateperiod")),
            update_frequency=_clean(feed.get("sy_updatefrequency")),
        ),
    )


def _iso_datetime(value: Any) -> datetime | None:
    text = _clean(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _json_authors(item: dict[str, Any], feed: dict[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for holder in (item, feed):
        people = holder.get("authors")
        if not isinstance(people, list):
            people = [holder["author"]] if isinstance(holder.get("author"), dict) else []
        for person in people:
            name = _clean(person.get("name")) if isinstance(person, dict) else None
            if name and name not in names:
                names.append(name)
        if names:
            break
    return tuple(names)


def _parse_json_feed(content: bytes, *, url: str) -> ParsedFeed:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:  # bad JSON or encoding, a 5000-digit number, deep nesting
        reason = f"{type(exc).__name__}: {exc}"[:200]
        raise ParseError(f"parser: not a readable JSON Feed ({reason})", url=url) from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ParseError("parser: JSON document is not a JSON Feed (no jsonfeed.org version)", url=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("parser: JSON Feed has no items list", url=url)
    feed_language = _language(document.get("language"))
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        guid = item.get("id")
        entries.append(
            FeedEntry(
                guid=str(guid).strip() if guid is not None and str(guid).strip() else None,
                link=_clean(item.get("url")) or _clean(item.get("external_url")),
                title=_text_of(item.get("title")),
                authors=_json_authors(item, document),
                published_at=_iso_datetime(item.get("date_published")),
                updated_at=_iso_datetime(item.get("date_modified")),
                summary=_text_of(item.get("summary")),
                content=_text_of(item.get("content_html")) or _clean(item.get("content_text")),
                image=_clean(item.get("image")) or _clean(item.get("banner_image")),
                language=_language(item.get("language")) or feed_language,
            )
        )
    if not entries and items:
        raise ParseError("parser: JSON Feed items are not objects", url=url)
    return ParsedFeed(
        title=_clean(document.get("title")),
        link=_clean(document.get("home_page_url")),
        language=feed_language,
        entries=tuple(entries),
    )
