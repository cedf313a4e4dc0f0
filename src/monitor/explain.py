"""``monitor extract --explain``: each metadata field's decision as plain data, with where its value came
from and the candidates it beat (pure: the evidence in, JSON-ready dicts out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.extract.decide import decide
from monitor.extract.evidence import FeedEvidence, Moment, PageEvidence, SourceEvidence


def _shown(value: object) -> object:
    if isinstance(value, Moment):
        return value.at.isoformat()
    if isinstance(value, tuple):
        return [_shown(v) for v in value]
    return value


def explain_fields(
    page: PageEvidence, feed: FeedEvidence, known: SourceEvidence | None, *, fetched_at: datetime
) -> dict[str, dict[str, Any]]:
    """Field name -> ``{"value", "from", "reason", "candidates": [{"value", "from"}]}``, decided as a poll
    decides."""
    chosen = decide(page, feed, known, fetched_at=fetched_at)
    return {
        name: {
            "value": _shown(choice.value),
            "from": choice.source,
            "reason": choice.reason,
            "candidates": [{"value": _shown(c.value), "from": c.source} for c in choice.candidates],
        }
        for name, choice in chosen.fields().items()
    }
