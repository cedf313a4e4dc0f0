"""Evidence for one metadata field: the candidates a page, its feed and its source offer, and the choice
made among them (pure). ``monitor extract --explain`` prints these; the pipeline keeps only the values."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


@dataclass(frozen=True, slots=True)
class Candidate(Generic[T]):
    """One value offered for a field and where it was found (``h1``, ``og:title``, ``json-ld:headline``,
    ``feed:title``, ``detected``...)."""

    value: T
    source: str


@dataclass(frozen=True, slots=True)
class Choice(Generic[T]):
    """The value chosen for a field (None: no evidence), the candidate it came from, and every candidate
    that was considered, in the order they were found."""

    value: T | None
    source: str | None = None
    candidates: tuple[Candidate[T], ...] = ()
    reason: str | None = None
    """Why this candidate won, in a few words (for ``--explain``)."""


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time as a page or feed declares it: ``at`` is aware, in the declared offset (UTC when none
    was declared); ``precision`` is ``"day"`` for a bare date, else ``"minute"`` or ``"second"``."""

    at: datetime
    precision: str = "second"
    declared_offset: bool = True


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """Everything the page itself offers for each field, before the feed and the source are heard."""

    titles: tuple[Candidate[str], ...] = ()
    site_names: tuple[Candidate[str], ...] = ()
    published: tuple[Candidate[Moment], ...] = ()
    modified: tuple[Candidate[Moment], ...] = ()
    authors: tuple[Candidate[tuple[str, ...]], ...] = ()
    languages: tuple[Candidate[str], ...] = ()
    detected_language: tuple[str, float] | None = None
    """The body text's language as detected, with the model's confidence."""
    document_title: str | None = None
    """The ``<title>`` as written (the site name is learned from its repeated part across pages)."""


@dataclass(frozen=True, slots=True)
class FeedEvidence:
    """What the feed says about one entry and its channel (kept with the article, so that ``reextract``
    decides with the same evidence)."""

    title: str | None = None
    published: datetime | None = None
    language: str | None = None
    authors: tuple[str, ...] = ()
    channel_title: str | None = None
    channel_language: str | None = None
    text: str | None = None
    """The entry's own content or summary, plain text (for language detection of feed-only articles)."""


@dataclass(frozen=True, slots=True)
class SourceEvidence:
    """What is known of the source across its pages: its configured language, the site name learned from
    its titles, and a declared language that its pages share while their text is detected as others."""

    language: str | None = None
    site_name: str | None = None
    template_language: str | None = None
    names: tuple[str, ...] = field(default_factory=tuple)
    """Other names of the source (its config name, its id), also stripped from titles."""


def clean_text(value: object) -> str | None:
    """A metadata string as a reader sees it: entities decoded (also doubly encoded ones, as in
    ``zerst&amp;ouml;ren``), whitespace folded; None when nothing is left or the value is not a string."""
    if not isinstance(value, str):
        return None
    text = value
    for _ in range(2):
        if "&" not in text or not _ENTITY.search(text):
            break
        text = html.unescape(text)
    text = " ".join(text.split())
    return text or None
