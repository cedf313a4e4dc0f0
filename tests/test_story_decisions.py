"""The story and revision decisions, pure (monitor.stories): what the writer applies in its transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from monitor.dedup import StoryCandidate, content_hash
from monitor.models import Article
from monitor.stories import JoinStory, LeadStory, StoredVersion, is_revision, is_same_article, story_for

TEXT = " ".join(f"word{n} of the story that outlets copy from one another" for n in range(30))
EARLY, LATE = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC)


def article(text: str = TEXT, title: str = "Talks") -> Article:
    return Article(
        url="https://a.example/1", source="a", guid="1", title=title, authors=(), published_at=LATE,
        fetched_at=LATE, text=text, summary=None, language="en", image=None, extraction="page",
        content_hash=content_hash(text), feed_title=title,
    )  # fmt: skip


def test_a_copy_joins_the_story_and_an_older_copy_leads_it() -> None:
    candidates = [StoryCandidate(id=3, story_id=2, text=TEXT, published_at=EARLY)]
    assert story_for(9, LATE, TEXT, candidates, {2: EARLY}) == JoinStory(original=2, score=1.0)
    assert story_for(9, datetime(2024, 5, 1, tzinfo=UTC), TEXT, candidates, {2: EARLY}) == LeadStory(2, 1.0)
    assert story_for(9, LATE, "another text altogether", candidates, {2: EARLY}) is None
    assert story_for(9, LATE, TEXT, candidates, {}) is None  # the story's original is gone
    assert story_for(9, LATE, "", candidates, {2: EARLY}) is None


def test_a_revision_needs_a_changed_text_or_title_extracted_the_same_way() -> None:
    stored = StoredVersion(title="Talks", text=TEXT, content_hash=content_hash(TEXT), extraction="page")
    assert not is_revision(stored, article())
    assert is_revision(stored, article(title="Talks resume"))
    assert is_revision(stored, article(text=TEXT + " An update."))
    assert not is_revision(stored, replace(article(text=TEXT + " x"), extraction="feed"))
    assert is_revision(replace(stored, extraction="feed"), article(text=TEXT + " x"))
    assert not is_revision(stored, replace(article(), text=""))
    assert not is_revision(None, article())


def test_a_landed_url_merges_only_with_the_same_headline() -> None:
    new = article()
    assert is_same_article(new.content_hash, "Other", new, headline=False)
    assert not is_same_article(new.content_hash, "Other", new, headline=True)
    assert is_same_article(new.content_hash, "talks", new, headline=True)
    assert not is_same_article("other-hash", "Talks", new, headline=False)
