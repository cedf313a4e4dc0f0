"""One daemon per SQLite archive: an exclusive lock on ``<archive>.lock``, held for the daemon's life.

``flock`` locks die with their process, so a daemon killed with ``kill -9`` never leaves a stale lock
behind. Readers (`monitor search`, Datasette) never take it. A PostgreSQL archive has no such lock: a URL is
not a file to put one beside, and its workers are meant to share it (issue 16).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from monitor.errors import ArchiveLockedError


@contextlib.contextmanager
def archive_lock(archive: Path) -> Iterator[None]:
    path = archive.with_name(archive.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ArchiveLockedError(
                f"another monitor daemon (pid {holder}) is already writing to {archive}; "
                "stop it first, or point this one at another archive"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
