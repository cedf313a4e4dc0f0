"""Moments as people type them: ``2024-06-01``, ``2024-06-01T12:00Z``, or a duration ago such as ``7d``
(pure: ``now`` is an argument). One reading for ``--since``/``--until`` and the Python API's ``since=``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from monitor.config import parse_duration

_AGO = re.compile(r"\d+(\.\d+)?\s*[smhd]")


def parse_moment(text: str, *, now: datetime) -> datetime:
    """An aware datetime (a date or time without a zone is UTC); ``ValueError`` for anything else."""
    value = text.strip()
    try:
        if _AGO.fullmatch(value):
            return now - timedelta(seconds=parse_duration(value))
        moment = datetime.fromisoformat(value)
    except OverflowError:
        raise ValueError(f"{text!r} is too far away") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
