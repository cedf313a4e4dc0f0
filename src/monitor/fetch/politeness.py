"""Per-host politeness: a concurrency cap and a minimum delay between request starts on each host, shared
by every source's feed and article requests. A 429 doubles the host's delay (up to a minute); successes
bring it back down. :class:`HostGate` holds them in this process; workers sharing an archive pass the
fetcher a gate that also holds them across workers (:class:`Gate`; :mod:`monitor.pipeline.hosts`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

MAX_HOST_DELAY_S = 60.0


class Gate(Protocol):
    """What the fetcher asks before and after each request to a host."""

    def slot(self, host: str) -> AbstractAsyncContextManager[None]:
        """Held for the request: one of the host's slots, entered no sooner than its delay allows."""
        ...

    def slow_down(self, host: str) -> None:
        """The host answered 429."""

    def recover(self, host: str) -> None:
        """The host answered."""


@dataclass
class _Host:
    slots: asyncio.Semaphore
    delay_s: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class HostGate:
    def __init__(
        self,
        *,
        per_host: int,
        delay_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_host = per_host
        self.base_delay_s = delay_s
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self.per_host), self.base_delay_s)
        return state

    def delay_of(self, host: str) -> float:
        return self._host(host).delay_s

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of the host's request slots, starting no sooner than its delay after the last start."""
        state = self._host(host)
        async with state.slots:
            async with state.lock:
                wait = state.next_start - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                state.next_start = self._clock() + state.delay_s
            yield

    def slow_down(self, host: str) -> None:
        state = self._host(host)
        state.delay_s = min(max(state.delay_s * 2, 1.0), MAX_HOST_DELAY_S)

    def recover(self, host: str) -> None:
        state = self._host(host)
        if state.delay_s > self.base_delay_s:
            state.delay_s = max(self.base_delay_s, state.delay_s / 2)
