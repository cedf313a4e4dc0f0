"""``monitor sources discover``: the feeds a site advertises, plus the common paths that answer with one.

Composes the fetcher with the pure helpers of :mod:`monitor.parse.discover`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.config import HttpSettings
from monitor.dedup import canonical_url
from monitor.errors import FetchError
from monitor.fetch import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from monitor.parse.discover import candidate_urls, feed_links, looks_like_feed


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    url: str
    kind: str
    title: str | None
    suggested_id: str


def _base_id(url: str) -> str:
    host = (urlsplit(url).hostname or "source").lower()
    host = re.sub(r"^(www|rss|feeds?|m)\.", "", host)
    name = host.rsplit(".", 1)[0] if host.count(".") >= 1 else host
    return re.sub(r"[^a-z0-9_-]+", "-", name).strip("-") or "source"


async def discover_feeds(settings: HttpSettings, url: str, *, probe: bool = True) -> list[DiscoveredFeed]:
    """Advertised feeds first (in page order), then probed common paths; each URL once."""
    found: dict[str, tuple[str, str | None]] = {}
    async with Fetcher(settings) as fetcher:
        homepage = await fetcher.get(url, accept=PAGE_ACCEPT)
        for candidate in feed_links(homepage.content, url=homepage.final_url):
            found.setdefault(canonical_url(candidate.url), (candidate.kind, candidate.title))
        if probe:

            async def try_path(candidate: str) -> tuple[str, str | None]:
                try:
                    result = await fetcher.get(candidate, accept=FEED_ACCEPT)
                except FetchError:
                    return candidate, None
                return result.final_url, looks_like_feed(result.content, result.content_type)

            for final_url, kind in await asyncio.gather(*map(try_path, candidate_urls(homepage.final_url))):
                if kind is not None:
                    found.setdefault(canonical_url(final_url), (kind, None))
    base = _base_id(url)
    discovered = []
    for index, (feed_url, (kind, title)) in enumerate(found.items()):
        suggested = base if index == 0 else f"{base}-{index + 1}"
        discovered.append(DiscoveredFeed(url=feed_url, kind=kind, title=title, suggested_id=suggested))
    return discovered
