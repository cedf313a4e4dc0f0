"""The one way monitor writes a moment: UTC, ISO 8601, to the second, with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime | None) -> str | None:
    """``2026-11-29T17:43:22Z`` for an aware moment (converted to UTC); ``None`` for ``None``.

    This is the time format stored in the archive and printed by the CLI.
    """
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
