"""The one exception hierarchy of monitor (pure).

    MonitorError
    ├── ConfigError          config.yaml is missing, unreadable or invalid (carries every problem)
    ├── SourceError          one source failed; recorded on the source, never fatal to the daemon
    │   ├── FetchError       the request failed: network, timeout, HTTP status, size, address guard
    │   │   ├── BlockedAddressError   the URL resolves to an address the config does not allow
    │   │   └── TooLargeError         the decoded body passed http.max_bytes
    │   └── ParseError       the response is not a feed monitor can read
    ├── StoreError           the archive cannot be opened or written
    │   ├── ArchiveUnavailableError   its server is away now (said once per outage; wait for it)
    │   └── QueryError       a search query that cannot be run
    │       └── QuerySyntaxError   the query does not parse (carries ``query`` and the 0-based ``position``)
    ├── ArchiveLockedError   another daemon is writing to this archive
    ├── NotFoundError        a looked-up article does not exist
    ├── UnknownSourceError   a source id that the config does not have
    └── MissingExtraError    a feature's optional extra is not installed (``monitor[web]``)

Third-party exceptions are translated where they enter (the fetcher, the store), with ``raise ... from``.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Root of every error monitor raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (the parsing and extraction pool); their keyword-only attributes
        # would not survive the default pickling, which calls ``cls(*args)``.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[MonitorError], args: tuple[object, ...], state: dict[str, object]) -> MonitorError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigError(MonitorError):
    """The configuration is unusable; ``problems`` holds one message per problem, each naming its field."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + "; ".join(self.problems))


class SourceError(MonitorError):
    """A failure that belongs to one source and one URL."""

    kind = "error"

    def __init__(self, message: str, *, url: str, source: str | None = None) -> None:
        self.url = url
        self.source = source
        super().__init__(message)


class FetchError(SourceError):
    """An HTTP request did not produce a usable response."""

    kind = "fetch"

    def __init__(
        self,
        message: str,
        *,
        url: str,
        source: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url, source=source)
        self.status = status
        self.retry_after = retry_after


class BlockedAddressError(FetchError):
    kind = "blocked"


class TooLargeError(FetchError):
    kind = "too_large"


class ParseError(SourceError):
    kind = "parse"


class StoreError(MonitorError):
    """The archive failed."""


class ArchiveUnavailableError(StoreError):
    """The archive's server cannot be reached now (a database restart): the store says so once per outage,
    and callers wait for it to come back rather than report each failed call."""


class QueryError(StoreError):
    """A search query was rejected; the message says why."""


class QuerySyntaxError(QueryError):
    """monitor's query language cannot read the query; ``position`` is where (0-based)."""

    def __init__(self, message: str, *, query: str, position: int | None = None) -> None:
        self.query = query
        self.position = position
        super().__init__(message)


class NotFoundError(MonitorError):
    """No article matches the given id or URL."""


class UnknownSourceError(MonitorError):
    def __init__(self, names: list[str], known: list[str]) -> None:
        self.names = names
        self.known = known
        listed = ", ".join(known) or "(none)"
        super().__init__(f"unknown source {', '.join(names)}; configured: {listed}")


class ArchiveLockedError(MonitorError):
    """Another daemon holds the archive's lock."""


class MissingExtraError(MonitorError):
    """An optional dependency is not installed; the message tells how to install it."""
