"""Helpers shared by the SQLite archive's modules: the time format, error translation, JSON columns."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

from monitor.errors import StoreError
from monitor.models import Attribution
from monitor.timefmt import utc_iso

P = ParamSpec("P")
R = TypeVar("R")


iso = utc_iso
"""UTC ISO 8601 with a ``Z``: the one time format stored in the archive (:func:`monitor.timefmt.utc_iso`)."""


def _attribution_json(attribution: Attribution | None) -> str | None:
    if attribution is None:
        return None
    return json.dumps(
        {"name": attribution.name, "url": attribution.url, "line": attribution.line}, ensure_ascii=False
    )


def _credit(value: str | None) -> Attribution | None:
    """The credit stored as JSON (``{"name", "url", "line"}``), decoded."""
    if not value:
        return None
    data = json.loads(value)
    return Attribution(name=data.get("name"), line=data.get("line"), url=data.get("url"))


def _strings(value: str | None) -> tuple[str, ...]:
    """A list of strings stored as a JSON array (``authors``, ``keywords``), decoded."""
    return tuple(json.loads(value)) if value else ()


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _translated(method: Callable[P, R]) -> Callable[P, R]:
    """Turn sqlite3 errors into :class:`StoreError` at the boundary."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"store: {method.__name__} failed: {exc}") from exc

    return wrapper
