"""The one module that talks HTTP (httpx)."""

from monitor.fetch.client import FEED_ACCEPT, PAGE_ACCEPT, Fetcher
from monitor.fetch.guard import AddressGuard

__all__ = ["FEED_ACCEPT", "PAGE_ACCEPT", "AddressGuard", "Fetcher"]
