"""Holding a poll mid-way: :class:`Gate` answers the first article pages of a :class:`NewsServer` and holds
the rest, so a test can look at (or kill) a poll halfway; :func:`archived_paths` reads what was archived."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.archive import EVERY_ARTICLE, reader
from tests.support.newssite import NewsServer, Response


class Gate:
    """Answer the first ``opened`` article pages at once and hold the rest until :meth:`release`."""

    def __init__(self, server: NewsServer, opened: int) -> None:
        self.opened = opened
        self.requested = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        for path, route in list(server.routes.items()):
            if "/news/" in path and isinstance(route, Response):
                server.routes[path] = self._held(route)

    def _held(self, response: Response):  # type: ignore[no-untyped-def]
        def handle(request):  # type: ignore[no-untyped-def]
            with self._lock:
                self.requested += 1
                held = self.requested > self.opened
            if held:
                self._released.wait(60)
            request._send(response)

        return handle

    def release(self) -> None:
        self.opened = 10**9
        self._released.set()


def archived_paths(archive: Path) -> set[str]:
    """The paths of the archived articles' URLs."""
    with reader(archive) as archived:
        return {urlsplit(found.url).path for found in archived.iter_articles(EVERY_ARTICLE)}
