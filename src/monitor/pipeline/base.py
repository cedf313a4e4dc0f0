"""What the stages share: the HTTP client they need (a Protocol; :class:`monitor.fetch.Fetcher` is one) and a
poll's fetch log. Pure: no I/O here."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from monitor.errors import FetchError
from monitor.models import FetchRecord, FetchResult


class HttpClient(Protocol):
    """The requests the stages make; a test passes a fake of its own."""

    async def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult: ...

    async def allowed_by_robots(self, url: str) -> bool: ...


class FetchLog:
    """One poll's requests since its last commit, and what they add up to (bytes, the longest Retry-After)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.records: list[FetchRecord] = []
        self.bytes_fetched = 0
        self.retry_after_s: float | None = None

    def take(self) -> tuple[FetchRecord, ...]:
        """The records since the last commit, for the next one."""
        records, self.records = tuple(self.records), []
        return records

    def append(self, record: FetchRecord) -> None:
        self.bytes_fetched += record.bytes or 0
        self.records.append(record)

    def log(
        self,
        url: str,
        kind: str,
        at: datetime,
        result: FetchResult | None = None,
        error: Exception | None = None,
        note: str | None = None,
    ) -> None:
        if result is not None:
            record = FetchRecord(
                self.source,
                url,
                kind,
                at,
                status=result.status,
                bytes=len(result.content),
                duration_ms=result.duration_ms,
                error=note,
            )
        else:
            status = error.status if isinstance(error, FetchError) else None
            record = FetchRecord(self.source, url, kind, at, status=status, error=note or str(error))
        self.append(record)

    def retry_after(self, seconds: float) -> None:
        """A server asked us to wait (429 with Retry-After): the source's next poll waits at least that."""
        self.retry_after_s = max(self.retry_after_s or 0.0, seconds)
