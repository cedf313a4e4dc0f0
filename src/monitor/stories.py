"""Which story a new article joins, and whether a re-fetch is a revision (pure: data in, intents out).

The writer gathers what these need inside its transaction (the near-duplicate candidates and their stories'
originals; the stored version of a re-fetched article), asks, and applies the answer there, as reader's
``Decider`` returns intents its storage applies: a second backend reuses the decisions instead of copying
them (issue 15; the rules are D20 and D21).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.dedup import StoryCandidate, best_match, fold_text, is_older
from monitor.models import Article


@dataclass(frozen=True, slots=True)
class JoinStory:
    """The new article is a copy: it joins the story whose original is ``original``."""

    original: int
    score: float
    """Its similarity to the member it matched."""


@dataclass(frozen=True, slots=True)
class LeadStory:
    """The new article is a copy older than the story's original: the story ``story_id`` is re-pointed to it
    (it becomes the original, every member a copy of it)."""

    story_id: int
    score: float


StoryIntent = JoinStory | LeadStory | None
"""None: the article stays its own story."""


def story_for(
    article_id: int,
    published_at: datetime | None,
    text: str,
    candidates: Sequence[StoryCandidate],
    originals: Mapping[int, datetime | None],
) -> StoryIntent:
    """The story of a new article given the archived articles sharing a near-duplicate key or its content
    hash (``candidates``) and the publication time of each of their stories' original (``originals``, by
    story id): the best match at or above the threshold decides; the earliest copy is the original."""
    if not text:
        return None
    match = best_match(text, candidates)
    if match is None:
        return None
    candidate, score = match
    if candidate.story_id not in originals:
        return None  # the story's original is gone: leave the newcomer alone
    if is_older(published_at, article_id, originals[candidate.story_id], candidate.story_id):
        return LeadStory(story_id=candidate.story_id, score=score)
    return JoinStory(original=candidate.story_id, score=score)


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """The archived version of an article that a re-fetch compares against."""

    title: str | None
    text: str
    content_hash: str
    extraction: str


def is_revision(stored: StoredVersion | None, new: Article | None) -> bool:
    """Whether a re-fetch recorded a new version: a page with text, extracted the same way as the stored one
    (or replacing a feed's teaser), whose text or title changed. A re-fetch without text never replaces
    a text."""
    if stored is None or new is None or not new.text:
        return False
    comparable = new.extraction == stored.extraction or stored.extraction == "feed"
    changed = new.content_hash != stored.content_hash or fold_text(new.title or "") != fold_text(
        stored.title or ""
    )
    return comparable and changed


def is_same_article(content_hash: str, feed_title: str | None, article: Article, *, headline: bool) -> bool:
    """Whether an article found under a URL another one is archived under is that one (D22): the same text,
    and, for a URL only a redirect landed on (``headline``), the same feed headline too, since consent walls
    and paywalls send many articles to one URL with one text."""
    if content_hash != article.content_hash:
        return False
    if headline and feed_title and article.feed_title:
        return fold_text(feed_title) == fold_text(article.feed_title)
    return True
