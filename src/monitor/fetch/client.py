"""HTTP client: one shared ``httpx.AsyncClient`` with monitor's policy on top.

Policy: configured User-Agent, timeouts, at most 5 redirects, a global connection cap, per-host politeness
(concurrency cap and delay, slowed by 429s), the address guard on every hop, conditional requests, and a
body cap on *decoded* bytes enforced while streaming. Every httpx error is translated here into
:class:`monitor.errors.FetchError` (or a subclass) carrying the URL and status.
"""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import time
from datetime import UTC, datetime

import httpx

from monitor.config import HttpSettings
from monitor.errors import FetchError, TooLargeError
from monitor.fetch.decoding import ACCEPT_ENCODING, BoundedDecoder, DecodingError
from monitor.fetch.guard import AddressGuard, guarded_transport
from monitor.fetch.politeness import Gate, HostGate
from monitor.fetch.robots import RobotsCache
from monitor.models import FetchResult

MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 500_000
PERMANENT_REDIRECTS = (301, 308)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def root_cause(exc: BaseException) -> str:
    """The most telling message in an exception chain: httpx's and anyio's wrappers are often empty, the
    ``ConnectionResetError`` at the bottom says what happened."""
    messages = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(current):
            messages.append(f"{type(current).__name__}: {current}" if current is not exc else str(current))
        current = current.__cause__ or current.__context__
    return messages[-1] if messages else type(exc).__name__


def permanent_target(response: httpx.Response) -> str | None:
    """Where the leading run of permanent redirects (301/308) of this response's chain points."""
    hops = [*response.history, response]
    target = None
    for hop, following in itertools.pairwise(hops):
        if hop.status_code not in PERMANENT_REDIRECTS:
            break
        target = str(following.request.url)
    return target


class Fetcher:
    """Fetch URLs under monitor's policy. Use as an async context manager, or call :meth:`aclose`."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        guard: AddressGuard | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        hosts: Gate | None = None,
    ) -> None:
        self.settings = settings
        self.guard = guard or AddressGuard(
            allow_private=settings.allow_private_networks, allow_hosts=settings.allow_hosts
        )
        self.hosts: Gate = hosts or HostGate(per_host=settings.per_host, delay_s=settings.per_host_delay)
        self.robots = RobotsCache(self._load_robots, user_agent=settings.user_agent)
        self._limit = asyncio.Semaphore(settings.max_connections)
        limits = httpx.Limits(
            max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
        )
        self._client = httpx.AsyncClient(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            limits=limits,
            event_hooks={"request": [self._check_request], "response": [self._check_redirect]},
            transport=transport or guarded_transport(self.guard, limits),
            trust_env=False,
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _check_request(self, request: httpx.Request) -> None:
        """Every hop, redirects included: only http(s). (Addresses are checked where connections are made.)"""
        if request.url.scheme not in ("http", "https"):
            raise FetchError(
                f"fetcher: refusing non-HTTP URL scheme {request.url.scheme!r}", url=str(request.url)
            )

    async def _check_redirect(self, response: httpx.Response) -> None:
        """Name a redirect to a non-HTTP target (``javascript:``, ``file:``) before httpx fails on it."""
        if response.is_redirect:
            location = response.headers.get("location", "").strip()
            scheme = location.split(":", 1)[0].lower() if ":" in location.split("/", 1)[0] else ""
            if scheme and scheme not in ("http", "https"):
                raise FetchError(
                    f"fetcher: refusing redirect to non-HTTP URL scheme {scheme!r} ({location[:100]})",
                    url=str(response.request.url),
                    status=response.status_code,
                )

    async def allowed_by_robots(self, url: str) -> bool:
        """Whether robots.txt lets monitor's User-Agent fetch ``url`` (always true if not respected)."""
        if not self.settings.respect_robots:
            return True
        return await self.robots.allowed(url)

    async def _load_robots(self, url: str) -> tuple[int, bytes]:
        try:
            result = await self.get(url, accept="text/plain", max_bytes=ROBOTS_MAX_BYTES)
        except FetchError as exc:
            return exc.status or 0, b""
        return result.status, result.content

    async def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET ``url``. A 304 (when ``etag``/``last_modified`` were given) is returned with an empty body;
        any other non-2xx status, a network failure or an oversized body raises ``FetchError``."""
        headers = {"Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            host = httpx.URL(url).host
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise FetchError(f"fetcher: invalid URL ({exc})", url=url) from None
        # httpx timeouts are per operation; a server that drips bytes forever needs a whole-request deadline.
        deadline = self.settings.timeout * 3
        try:
            async with self.hosts.slot(host), self._limit:
                started = time.monotonic()
                async with asyncio.timeout(deadline):
                    result = await self._get(url, headers, started, max_bytes or self.settings.max_bytes)
        except TimeoutError:
            raise FetchError(f"fetcher: no complete response within {deadline:g}s", url=url) from None
        except httpx.TimeoutException as exc:
            raise FetchError(f"fetcher: timed out ({type(exc).__name__})", url=url) from None
        except httpx.TooManyRedirects:
            raise FetchError(f"fetcher: more than {MAX_REDIRECTS} redirects", url=url) from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"fetcher: unsupported URL scheme ({exc})", url=url) from None
        except httpx.InvalidURL as exc:
            raise FetchError(
                f"fetcher: invalid URL, or a redirect to a URL that is not http(s) ({exc})", url=url
            ) from None
        except httpx.DecodingError as exc:
            raise FetchError(f"fetcher: cannot decode the response body ({exc})", url=url) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"fetcher: {type(exc).__name__}: {root_cause(exc)}", url=url) from None
        except (UnicodeError, ValueError) as exc:  # e.g. a host name label over 63 characters
            raise FetchError(f"fetcher: invalid URL ({type(exc).__name__}: {exc})", url=url) from None
        except FetchError as exc:
            if exc.status == 429:
                self.hosts.slow_down(host)
            if exc.url != url and not exc.url.startswith(("http://", "https://")):  # raised while connecting
                exc.url = url
            raise
        self.hosts.recover(host)
        return result

    async def post(self, url: str, body: bytes, *, headers: dict[str, str]) -> int:
        """POST ``body`` (a webhook): same guard, politeness and timeouts as fetching; non-2xx raises."""
        try:
            host = httpx.URL(url).host
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise FetchError(f"fetcher: invalid URL ({exc})", url=url) from None
        try:
            async with self.hosts.slot(host), self._limit, asyncio.timeout(self.settings.timeout * 3):
                response = await self._client.post(url, content=body, headers=headers, follow_redirects=False)
        except TimeoutError:
            raise FetchError("fetcher: webhook did not answer in time", url=url) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"fetcher: {type(exc).__name__}: {exc or type(exc).__name__}", url=url) from None
        if not 200 <= response.status_code < 300:
            raise FetchError(
                f"fetcher: webhook answered HTTP {response.status_code}", url=url, status=response.status_code
            )
        return response.status_code

    async def _get(self, url: str, headers: dict[str, str], started: float, cap: int) -> FetchResult:
        async with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            moved_to = permanent_target(response)
            if response.status_code == 304:
                return FetchResult(
                    url=url,
                    final_url=final_url,
                    status=304,
                    headers={key.lower(): value for key, value in response.headers.items()},
                    content=b"",
                    duration_ms=int((time.monotonic() - started) * 1000),
                    moved_to=moved_to,
                )
            if not 200 <= response.status_code < 300:
                retry_after = None
                if response.status_code in (429, 503):
                    retry_after = parse_retry_after(
                        response.headers.get("retry-after"), now=datetime.now(UTC)
                    )
                via = f" (redirected to {final_url})" if final_url != url else ""
                raise FetchError(
                    f"fetcher: HTTP {response.status_code} {response.reason_phrase}".rstrip() + via,
                    url=url,
                    status=response.status_code,
                    retry_after=retry_after,
                )
            declared = response.headers.get("content-length", "")
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if declared.isdigit() and int(declared) > cap and encoding == "identity":
                raise TooLargeError(
                    f"fetcher: body of {int(declared)} bytes is over http.max_bytes ({cap})",
                    url=url,
                    status=response.status_code,
                )
            try:
                decoder = BoundedDecoder(encoding)
            except DecodingError as exc:
                raise FetchError(f"fetcher: {exc}", url=url, status=response.status_code) from None
            chunks: list[bytes] = []
            size = 0
            async for raw in response.aiter_raw():
                try:
                    for piece in decoder.pieces(raw):
                        size += len(piece)
                        if size > cap:
                            raise TooLargeError(
                                f"fetcher: body passed http.max_bytes ({cap} decoded bytes); stopped reading",
                                url=url,
                                status=response.status_code,
                            )
                        chunks.append(piece)
                except DecodingError as exc:
                    raise FetchError(
                        f"fetcher: cannot decode the {encoding} body ({exc})",
                        url=url,
                        status=response.status_code,
                    ) from None
            return FetchResult(
                url=url,
                final_url=final_url,
                status=response.status_code,
                headers={key.lower(): value for key, value in response.headers.items()},
                content=b"".join(chunks),
                duration_ms=int((time.monotonic() - started) * 1000),
                moved_to=moved_to,
            )
