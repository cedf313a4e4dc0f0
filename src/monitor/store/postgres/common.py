"""What every part of the PostgreSQL archive shares (issue 16): errors translated at the boundary, and
moments as the archive keeps them. The archive's mixins (:mod:`.writing`, :mod:`.queries`, :mod:`.watching`,
:mod:`.leases`, :mod:`.reextraction`) cannot import :mod:`.archive`, which imports them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import psycopg

from monitor.errors import StoreError


class Named(Protocol):
    @property
    def display(self) -> str:
        """The archive as messages name it, its password never shown."""
        ...


P = ParamSpec("P")
R = TypeVar("R")
N = TypeVar("N", bound=Named)


def translated(method: Callable[Concatenate[N, P], R]) -> Callable[Concatenate[N, P], R]:
    """psycopg's errors as :class:`StoreError` naming the call and the archive. (An archive away is
    :class:`monitor.errors.ArchiveUnavailableError`, raised by the archive's transactions: it passes.)"""

    @functools.wraps(method)
    def wrapper(self: N, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise StoreError(f"store: {method.__name__} failed on {self.display}: {exc}") from exc

    return wrapper


def moment(value: datetime) -> datetime:
    """A moment as the archive keeps it and compares it: UTC, to the second (as SQLite's ISO text)."""
    return value.astimezone(UTC).replace(microsecond=0)


def utc(value: datetime | None) -> datetime | None:
    """A moment read back, in UTC."""
    return value.astimezone(UTC) if value is not None else None


def reason(exc: psycopg.Error) -> str:
    """libpq's reason, on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def brief(exc: psycopg.Error) -> str:
    """The first line of libpq's reason (its second is a hint, "Is the server running ...?")."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
