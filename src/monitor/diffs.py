"""What changed between an article's revisions, as unified diffs of title and text (pure: returns text)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any


def unified_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """The title as a ``# `` line, a blank line, then the text; labelled with each one's ``fetched_at``."""
    before = [f"# {old['title'] or ''}", "", *old["text"].split("\n")]
    after = [f"# {new['title'] or ''}", "", *new["text"].split("\n")]
    return "".join(
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(before, after, old["fetched_at"], new["fetched_at"], lineterm="")
    )


def revision_diffs(
    revisions: Sequence[Mapping[str, Any]], current: Mapping[str, Any]
) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Each revision, oldest first, with the diff to what replaced it (the next revision, or ``current``,
    the article as archived now)."""
    newer = [*revisions[1:], current]
    for old, new in zip(revisions, newer, strict=True):
        yield old, unified_diff(old, new)
