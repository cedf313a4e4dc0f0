"""Metadata by evidence, field by field (pure): what the page offers (:class:`PageEvidence`), what the feed
says of the entry and its channel (:class:`FeedEvidence`) and what is known of the source
(:class:`SourceEvidence`) go in; one :class:`Choice` per field comes out, naming where its value came from
and the candidates it beat. The pipeline, ``monitor reextract`` and ``monitor extract --explain`` all decide
here, so the same evidence always gives the same article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.extract.authors import author_candidates, choose_authors
from monitor.extract.dates import (
    choose_published,
    fallback_candidate,
    modified_candidates,
    published_candidates,
)
from monitor.extract.evidence import (
    Candidate,
    Choice,
    FeedEvidence,
    Moment,
    PageEvidence,
    SourceEvidence,
)
from monitor.extract.language import (
    choose_language,
    declared_languages,
    detect_scored,
    learn_template_language,
)
from monitor.extract.page import PageDoc
from monitor.extract.signatures import signature_authors
from monitor.extract.title import choose_title, learn_site_name, site_name_candidates, title_candidates
from monitor.models import SourceKnowledge

__all__ = ["Decisions", "decide", "learn", "page_evidence", "with_detection"]


@dataclass(frozen=True, slots=True)
class Decisions:
    """One choice per metadata field."""

    title: Choice[str]
    published: Choice[Moment]
    modified: Choice[Moment]
    authors: Choice[tuple[str, ...]]
    language: Choice[str]
    site_name: Choice[str]

    def fields(self) -> dict[str, Choice[object]]:
        """The choices by field name, in the order ``--explain`` prints them."""
        return {
            "title": self.title,  # type: ignore[dict-item]
            "published_at": self.published,  # type: ignore[dict-item]
            "modified_at": self.modified,  # type: ignore[dict-item]
            "authors": self.authors,  # type: ignore[dict-item]
            "language": self.language,  # type: ignore[dict-item]
            "site_name": self.site_name,  # type: ignore[dict-item]
        }


def page_evidence(doc: PageDoc, *, now: datetime) -> PageEvidence:
    """Everything the page offers for each field but the body's language (:func:`with_detection` adds it
    once the body is extracted). Read before the body extraction."""
    published = published_candidates(doc, now=now)
    if not published and (fallback := fallback_candidate(doc, now=now)) is not None:
        published = (fallback,)
    return PageEvidence(
        titles=title_candidates(doc),
        site_names=site_name_candidates(doc),
        published=published,
        modified=modified_candidates(doc, now=now),
        authors=author_candidates(doc),
        languages=declared_languages(doc),
        document_title=doc.document_title,
    )


def with_detection(evidence: PageEvidence, text: str) -> PageEvidence:
    """The evidence with what the body text adds (the body is extracted after the metadata): its language
    detected, and the reporters a Korean, Chinese or Japanese text names in its signature or dateline
    (``text:signature``, the least trusted author source: markup that names someone wins)."""
    if not text:
        return replace(evidence, detected_language=None)
    authors = evidence.authors
    if names := signature_authors(text):
        authors = (*authors, Candidate(names, "text:signature"))
    return replace(evidence, detected_language=detect_scored(text), authors=authors)


def decide(
    page: PageEvidence | None,
    feed: FeedEvidence | None = None,
    source: SourceEvidence | None = None,
    *,
    fetched_at: datetime | None = None,
) -> Decisions:
    """Each field's value from all the evidence there is. ``page`` None: the article has only its feed."""
    page = page or PageEvidence()
    feed = feed or FeedEvidence()
    source = source or SourceEvidence()
    site_names = [c.value for c in page.site_names]
    for name in (source.site_name, *source.names):
        if name and name not in site_names:
            site_names.append(name)

    title = choose_title(
        page.titles,
        site_names=site_names,
        feed_title=feed.title,
        channel_title=feed.channel_title,
        learned_site_name=source.site_name,
    )
    if title.value is None and feed.title:
        title = Choice(
            feed.title, "feed:title", (Candidate(feed.title, "feed:title"),), "only the feed has one"
        )

    published = choose_published(page.published, feed_published=feed.published, fetched_at=fetched_at)
    modified = choose_modified(page)

    authors = choose_authors(page.authors, site_names=site_names, feed_authors=feed.authors)

    detected = page.detected_language
    if detected is None and feed.text:
        detected = detect_scored(feed.text)
    language = choose_language(
        page.languages,
        detected=detected,
        feed_language=feed.language,
        channel_language=feed.channel_language,
        configured=source.language,
        template_language=source.template_language,
    )

    return Decisions(
        title=title,
        published=published,
        modified=modified,
        authors=authors,
        language=language,
        site_name=choose_site_name(page, source),
    )


def choose_modified(page: PageEvidence) -> Choice[Moment]:
    """The page's last-modified time: the first it declares (a feed says nothing of it)."""
    candidates = tuple(page.modified)
    if not candidates:
        return Choice(None)
    return Choice(candidates[0].value, candidates[0].source, candidates, "first declared")


def choose_site_name(page: PageEvidence, source: SourceEvidence | None = None) -> Choice[str]:
    """The outlet's name: the first the page declares, else the one learned from the source's titles."""
    if page.site_names:
        return Choice(
            page.site_names[0].value, page.site_names[0].source, page.site_names, "declared by the page"
        )
    if source is not None and source.site_name:
        return Choice(source.site_name, "learned", (), "repeated across the source's titles")
    return Choice(None)


SAMPLES = 30
"""How many recent pages of a source its learned site name and template language are drawn from."""


def learn(previous: SourceKnowledge | None, pages: Sequence[PageEvidence]) -> SourceKnowledge:
    """What a source's pages teach, from its recent samples and this poll's pages (pure)."""
    previous = previous or SourceKnowledge()
    titles = [*previous.titles, *(p.document_title for p in pages if p.document_title)][-SAMPLES:]
    languages = [
        *previous.languages,
        *(
            (
                p.languages[0].value if p.languages else None,
                p.detected_language[0] if p.detected_language else None,
                p.detected_language[1] if p.detected_language else 0.0,
            )
            for p in pages
        ),
    ][-SAMPLES:]
    observations = [
        (declared, (detected, confidence) if detected else None)
        for declared, detected, confidence in languages
    ]
    return SourceKnowledge(
        site_name=learn_site_name(titles),
        template_language=learn_template_language(observations),
        titles=tuple(titles),
        languages=tuple(languages),
    )
