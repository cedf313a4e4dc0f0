"""robots.txt for article pages (protego): fetched once per host per day and cached.

A robots.txt that cannot be loaded allows everything, except a 401/403, which forbids everything (the
site refuses robots outright), as Google and Common Crawl treat them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from protego import Protego

ROBOTS_TTL_S = 86400.0

# (status, body) of GET scheme://host/robots.txt; status 0 when the request failed outright.
RobotsLoader = Callable[[str], Awaitable[tuple[int, bytes]]]


class _Verdict:
    def __init__(self, parser: Protego | None, allow_all: bool, loaded_at: float) -> None:
        self.parser = parser
        self.allow_all = allow_all
        self.loaded_at = loaded_at


class RobotsCache:
    def __init__(
        self, load: RobotsLoader, *, user_agent: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self.user_agent = user_agent
        self._clock = clock
        self._cache: dict[str, _Verdict] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            verdict = self._cache.get(origin)
            if verdict is None or self._clock() - verdict.loaded_at > ROBOTS_TTL_S:
                verdict = self._cache[origin] = await self._fetch(origin)
        if verdict.parser is None:
            return verdict.allow_all
        return bool(verdict.parser.can_fetch(url, self.user_agent))

    async def _fetch(self, origin: str) -> _Verdict:
        status, body = await self._load(origin + "/robots.txt")
        now = self._clock()
        if status in (401, 403):
            return _Verdict(None, False, now)
        if not 200 <= status < 300:
            return _Verdict(None, True, now)
        try:
            return _Verdict(Protego.parse(body.decode("utf-8", errors="replace")), True, now)
        except Exception:  # a robots.txt protego cannot read is as good as none
            return _Verdict(None, True, now)
