"""Compose a feed entry and (when there is one) its extracted page into an :class:`Article` (pure)."""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.dedup import (
    band_keys,
    canonical_url,
    choose_canonical,
    content_hash,
    fold_text,
    without_fragment,
)
from monitor.extract.attribution import find_attribution
from monitor.models import Article, ExtractedPage, FeedEntry, RawPage, Source


def entry_link(entry: FeedEntry, *, feed_url: str) -> str | None:
    """The entry's link made absolute, as published (fragment dropped): the URL to request. None when it
    has no usable http(s) link."""
    if not entry.link:
        return None
    try:
        absolute = without_fragment(urljoin(feed_url, entry.link.strip()))
        parts = urlsplit(absolute)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _absolute(base: str, url: str | None) -> str | None:
    if not url:
        return None
    try:
        absolute = urljoin(base, url.strip())
        urlsplit(absolute).port  # noqa: B018 (raises on a malformed port or IPv6 literal)
    except ValueError:
        return None
    return absolute if absolute.startswith(("http://", "https://")) else None


def build_article(
    *,
    source: Source,
    entry: FeedEntry,
    link: str,
    fetched_at: datetime,
    page: ExtractedPage | None = None,
    final_url: str | None = None,
    feed_language: str | None = None,
    raw: RawPage | None = None,
) -> Article:
    """The page wins for every field it has; the feed entry fills the rest.

    ``link`` is the entry's URL (canonicalised here). ``extraction`` is ``'page'`` when the page gave body
    text, else ``'feed'`` (the entry's own content or summary stands in for the body).
    """
    page_text = page.text if page is not None else ""
    if page_text:
        text, extraction = page_text, "page"
    else:
        text, extraction = entry.content or entry.summary or "", "feed"
    link = canonical_url(link)
    landed = canonical_url(final_url) if final_url else link
    url = choose_canonical(final_url or link, page.canonical_url) if page is not None else landed
    attribution = page.attribution if page is not None and page_text else find_attribution(text)
    return Article(
        url=url,
        source=source.id,
        guid=entry.guid,
        title=(page.title if page else None) or entry.title,
        authors=(page.authors if page else ()) or entry.authors,
        published_at=(page.published_at if page else None) or entry.published_at,
        fetched_at=fetched_at,
        text=text,
        summary=(page.summary if page else None) or entry.summary,
        language=(page.language if page else None) or entry.language or feed_language or source.language,
        image=_absolute(final_url or link, (page.image if page else None) or entry.image),
        extraction=extraction,
        content_hash=content_hash(text),
        urls=tuple(dict.fromkeys((url, link, landed))),
        link=link,
        feed_title=entry.title,
        landed=landed,
        url_from_page=page is not None and url != landed,
        attribution=attribution,
        bands=band_keys(text),
        entry_hash=entry_fingerprint(entry),
        modified_at=page.modified_at if page else None,
        section=page.section if page else None,
        keywords=page.keywords if page else (),
        outlet_name=page.outlet_name if page else None,
        raw=raw,
    )


def entry_fingerprint(entry: FeedEntry) -> str:
    """What a feed entry says about its article: a changed ``updated`` date, title or content means the
    article may have been edited."""
    parts = [
        entry.updated_at.isoformat() if entry.updated_at else "",
        fold_text(entry.title or ""),
        content_hash(entry.content or entry.summary or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def diff_stats(old: str, new: str) -> dict[str, int]:
    """Paragraphs added, removed and kept between two versions of a text, and the change in length."""
    before, after = old.split("\n\n"), new.split("\n\n")
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    return {
        "paragraphs_added": len(after) - kept,
        "paragraphs_removed": len(before) - kept,
        "paragraphs_kept": kept,
        "chars_delta": len(new) - len(old),
    }


def reextracted_fields(current: dict[str, Any], page: ExtractedPage, *, page_url: str) -> dict[str, Any]:
    """The columns a fresh extraction of an archived page changes (``{}``: nothing), as stored values.

    A field the new extraction cannot find keeps its archived value: re-extraction only improves.
    """
    text = page.text or current["text"]
    fresh: dict[str, Any] = {
        "text": text,
        "content_hash": content_hash(text),
        "title": page.title or current["title"],
        "authors": json.dumps(list(page.authors), ensure_ascii=False) if page.authors else current["authors"],
        "summary": page.summary or current["summary"],
        "language": page.language or current["language"],
        "image": _absolute(page_url, page.image) or current["image"],
        "section": page.section or current["section"],
        "keywords": json.dumps(list(page.keywords), ensure_ascii=False)
        if page.keywords
        else current["keywords"],
        "outlet_name": page.outlet_name or current["outlet_name"],
        "published_at": _iso(page.published_at) or current["published_at"],
        "modified_at": _iso(page.modified_at) or current["modified_at"],
    }
    attribution = find_attribution(text) if page.attribution is None else page.attribution
    fresh["attribution"] = (
        json.dumps(
            {"name": attribution.name, "url": attribution.url, "line": attribution.line}, ensure_ascii=False
        )
        if attribution
        else None
    )
    if page.text:
        fresh["extraction"] = "page"
    return {column: value for column, value in fresh.items() if value != current[column]}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
