"""Whether the archive's PostgreSQL server is there, as the store's calls find it (issue 16, item 6).

When the server goes away (stopped, restarted, cut off), every call of a daemon would fail and each would
wait out the pool's timeout on the event loop. :class:`Outage` remembers that the server is away, so that
calls fail at once instead (the daemon's next tick tries again), lets one attempt through at growing intervals
(1 s, 2 s, 4 s ... up to 30 s), and says so once: one warning when the outage begins, one line when the server
answers again. Pure apart from the clock, which is injected, and the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

FIRST_RETRY_S = 1.0
"""How long after the first failure the next attempt is let through; doubled after each failed one."""
MAX_RETRY_S = 30.0
"""The longest wait between two attempts: a server back is noticed within this."""

log = logging.getLogger("monitor.store")


@dataclass(eq=False)
class Outage:
    """The state of one archive's server, shared by every thread of the process.

    Callers ask :meth:`may_try` before reaching the server; after trying they report :meth:`failed` (the
    server could not be reached) or :meth:`recovered` (it answered). Only the first failure of an outage
    and the recovery are logged. (A dataclass: a record of where the server stands, not an archive.)"""

    display: str
    """The archive as messages name it, its password never shown."""
    clock: Callable[[], float] = time.monotonic
    first_retry_s: float = FIRST_RETRY_S
    max_retry_s: float = MAX_RETRY_S
    reason: str = field(default="", init=False)
    """libpq's reason for the current outage, on one line ("" while the server is up)."""
    _since: float | None = field(default=None, init=False, repr=False)
    _retry_s: float = field(default=0.0, init=False, repr=False)
    _next_try: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def down(self) -> bool:
        """The server is away: the last attempt to reach it failed."""
        return self._since is not None

    def may_try(self) -> bool:
        """True when the server is up, or when the next attempt of an outage is due; that attempt is claimed
        by this caller (the others keep failing at once until the next one is due)."""
        with self._lock:
            if self._since is None:
                return True
            now = self.clock()
            if now < self._next_try:
                return False
            self._next_try = now + self._retry_s
            return True

    def failed(self, reason: str) -> None:
        """An attempt found the server away (``reason``: libpq's, on one line). The first of an outage is
        logged; each one doubles the wait before the next attempt."""
        with self._lock:
            now = self.clock()
            self.reason = reason
            if self._since is None:
                self._since = now
                self._retry_s = self.first_retry_s
                log.warning(
                    "archive: PostgreSQL at %s unreachable (%s); waiting and retrying", self.display, reason
                )
            else:
                self._retry_s = min(self._retry_s * 2, self.max_retry_s)
            self._next_try = now + self._retry_s

    def recovered(self) -> None:
        """The server answered: an outage, if there was one, is over (logged with its length)."""
        with self._lock:
            if self._since is None:
                return
            lasted = self.clock() - self._since
            self._since = None
            self._retry_s = self.first_retry_s
            self.reason = ""
            log.info("archive: PostgreSQL back after %.0fs", lasted)
