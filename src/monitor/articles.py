"""Compose a feed entry and (when there is one) its extracted page into an :class:`Article` (pure)."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from monitor.dedup import (
    canonical_url,
    choose_canonical,
    content_hash,
    fold_text,
    text_keys,
    without_fragment,
)
from monitor.extract.attribution import find_attribution
from monitor.extract.dates import local_iso, to_utc
from monitor.extract.decide import decide
from monitor.extract.evidence import FeedEvidence, Moment, SourceEvidence
from monitor.models import (
    Article,
    ArticleFields,
    ExtractedPage,
    FeedEntry,
    RawPage,
    Reextraction,
    Source,
    SourceKnowledge,
    StoredPage,
)
from monitor.timefmt import utc_iso


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


def feed_evidence(
    entry: FeedEntry, *, channel_title: str | None = None, channel_language: str | None = None
) -> FeedEvidence:
    """What the feed says of one entry and its channel, as the metadata rules take it."""
    return FeedEvidence(
        title=entry.title,
        published=entry.published_at,
        language=entry.language,
        authors=entry.authors,
        channel_title=channel_title,
        channel_language=channel_language,
        text=entry.content or entry.summary,
    )


def source_evidence(source: Source | None, knowledge: SourceKnowledge | None = None) -> SourceEvidence:
    """The source's configured language and name (None: no longer configured) with what was learned from
    its pages."""
    return SourceEvidence(
        language=source.language if source else None,
        site_name=knowledge.site_name if knowledge else None,
        template_language=knowledge.template_language if knowledge else None,
        names=(source.name,) if source and source.name else (),
    )


def build_article(
    *,
    source: Source,
    entry: FeedEntry,
    link: str,
    fetched_at: datetime,
    page: ExtractedPage | None = None,
    final_url: str | None = None,
    feed_language: str | None = None,
    channel_title: str | None = None,
    knowledge: SourceKnowledge | None = None,
    raw: RawPage | None = None,
) -> Article:
    """The article from its feed entry and (when there is one) its page: each metadata field decided from
    all the evidence (:func:`monitor.extract.decide.decide`), the body from the page when it gave one.

    ``link`` is the entry's URL (canonicalised here). ``extraction`` is ``'page'`` when the page gave body
    text, else ``'feed'`` (the entry's own content or summary stands in for the body). ``knowledge`` is
    what was learned from the source's pages (site name, template-default language).
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
    meta = decided_fields(
        page,
        feed_evidence(entry, channel_title=channel_title, channel_language=feed_language),
        source_evidence(source, knowledge),
        fetched_at=fetched_at,
    )
    text_hash, bands = text_keys(text)
    return Article(
        url=url,
        source=source.id,
        guid=entry.guid,
        title=meta.title or entry.title,
        authors=meta.authors or entry.authors,
        published_at=meta.published_at or entry.published_at,
        published_local=meta.published_local,
        fetched_at=fetched_at,
        text=text,
        summary=(page.summary if page else None) or entry.summary,
        language=meta.language or entry.language or feed_language or source.language,
        image=_absolute(final_url or link, (page.image if page else None) or entry.image),
        extraction=extraction,
        content_hash=text_hash,
        urls=tuple(dict.fromkeys((url, link, landed))),
        link=link,
        feed_title=entry.title,
        landed=landed,
        url_from_page=page is not None and url != landed,
        attribution=attribution,
        bands=bands,
        entry_hash=entry_fingerprint(entry),
        modified_at=page.modified_at if page else None,
        section=page.section if page else None,
        keywords=page.keywords if page else (),
        outlet_name=(page.outlet_name if page else None) or meta.site_name,
        raw=raw,
        entry_published_at=entry.published_at,
        entry_language=entry.language,
        channel_title=channel_title,
        channel_language=feed_language,
    )


@dataclass(frozen=True, slots=True)
class DecidedFields:
    """An article's metadata as decided from all its evidence."""

    title: str | None
    authors: tuple[str, ...]
    published_at: datetime | None
    published_local: str | None
    language: str | None
    site_name: str | None


def decided_fields(
    page: ExtractedPage | None,
    feed: FeedEvidence,
    source: SourceEvidence,
    *,
    fetched_at: datetime | None,
) -> DecidedFields:
    """Each metadata field decided from the page's evidence, the feed's and the source's
    (:func:`monitor.extract.decide.decide`), except the fields the page fixed (its source's selectors
    chose them): the one decision the pipeline and ``reextract`` share."""
    chosen = decide(page.evidence if page is not None else None, feed, source, fetched_at=fetched_at)
    fixed = _fixed_fields(page)
    published_at, published_local = page_time(page, chosen.published.value)
    return DecidedFields(
        title=(page.title if page and "title" in fixed else None) or chosen.title.value,
        authors=tuple((page.authors if page and "authors" in fixed else ()) or chosen.authors.value or ()),
        published_at=published_at,
        published_local=published_local,
        language=(page.language if page and "language" in fixed else None) or chosen.language.value,
        site_name=chosen.site_name.value,
    )


def _fixed_fields(page: ExtractedPage | None) -> frozenset[str]:
    """The page's fields that no feed evidence may change: those the source's own selectors chose, or all
    of them for a page that kept no evidence."""
    if page is None:
        return frozenset()
    if page.evidence is None:
        return frozenset({"title", "authors", "published_at", "language"})
    return frozenset(page.selected)


def page_time(page: ExtractedPage | None, moment: Moment | None) -> tuple[datetime | None, str | None]:
    """``published_at`` (UTC) and ``published_local`` (as declared) from the decided moment; a time the
    source's own selectors chose stands."""
    if page is not None and "published_at" in _fixed_fields(page) and page.published_at is not None:
        return page.published_at, page.published_local
    if moment is None:
        return None, None
    return to_utc(moment), local_iso(moment)


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


def stored_feed_evidence(current: StoredPage) -> FeedEvidence:
    """What the feed said of an archived article, as kept beside its page (columns of migration 0010)."""
    published = current.entry_published_at
    try:
        entry_published = datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None
    except ValueError:
        entry_published = None
    return FeedEvidence(
        title=current.feed_title,
        published=entry_published,
        language=current.entry_language,
        channel_title=current.channel_title,
        channel_language=current.channel_language,
    )


def reextracted_fields(
    current: StoredPage,
    page: ExtractedPage,
    *,
    page_url: str,
    source: SourceEvidence | None = None,
    fetched_at: datetime | None = None,
) -> Reextraction:
    """The article's fields after a fresh extraction of its archived page, and which of them changed (none:
    nothing to write); the store maps fields to its columns.

    Metadata is decided again from the page's evidence with what the feed said of the entry (kept beside
    the page) and what is known of the source, exactly as the pipeline decides it. A field the new
    extraction cannot find keeps its archived value: re-extraction only improves.
    """
    old = current.current
    text = page.text or old.text
    title, authors, language = page.title, page.authors, page.language
    published_at, published_local = page.published_at, page.published_local
    if page.evidence is not None:
        meta = decided_fields(
            page, stored_feed_evidence(current), source or SourceEvidence(), fetched_at=fetched_at
        )
        title, authors, language = meta.title or title, meta.authors or authors, meta.language or language
        published_at, published_local = meta.published_at, meta.published_local
    fresh = ArticleFields(
        text=text,
        content_hash=content_hash(text),
        title=title or old.title,
        authors=tuple(authors) if authors else old.authors,
        summary=page.summary or old.summary,
        language=language or old.language,
        image=_absolute(page_url, page.image) or old.image,
        section=page.section or old.section,
        keywords=tuple(page.keywords) if page.keywords else old.keywords,
        outlet_name=page.outlet_name or old.outlet_name,
        published_at=utc_iso(published_at) or old.published_at,
        modified_at=utc_iso(page.modified_at) or old.modified_at,
        published_local=published_local or old.published_local,
        attribution=find_attribution(text) if page.attribution is None else page.attribution,
        extraction="page" if page.text else old.extraction,
    )
    changed = frozenset(
        f.name for f in fields(ArticleFields) if getattr(fresh, f.name) != getattr(old, f.name)
    )
    return Reextraction(article_id=current.article_id, fields=fresh, changed=changed)
