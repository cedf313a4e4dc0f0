"""The advisory locks a commit takes on PostgreSQL (issue 16): every key its articles could meet another
writer's under (band keys, content hash, URLs), folded into two-key locks and taken at once in ascending
order, so that copies of one story archived by two workers at the same moment are serialised (the second
joins the first's story) without deadlocks between writers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Connection

from monitor.models import Article, EntryAlias

LOCK_CLASS = 0x6D6F6E69  # "moni": the first half of the two-key advisory locks a commit takes
LOCK_BUCKETS = 1024
"""A commit's lock keys are folded into this many two-key advisory locks. PostgreSQL's lock table is shared
and small (``max_locks_per_transaction`` × connections: 6,400 by default); a batch of 50 articles has ~1,350
keys, so several workers committing at once ran out of it. Folded, a commit holds at most this many, and as
every commit takes them in ascending order a waiting one holds only the few below the one it waits on.
Folding only makes two keys one lock: more commits wait for each other, none misses another."""


def lock_key(value: str) -> int:
    """A signed 64-bit advisory lock key for a string (a URL, a content hash); band keys are keys already."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True)


def lock_buckets(keys: Iterable[int]) -> list[int]:
    """The advisory locks (second keys, ascending) that stand for these lock keys."""
    return sorted({key % LOCK_BUCKETS for key in keys})


def lock_keys(conn: Connection[Any], articles: Sequence[Article], aliases: Sequence[EntryAlias] = ()) -> None:
    """Lock, in ascending order, every key these articles could meet another writer's under."""
    keys: set[int] = set()
    for article in articles:
        keys.update(article.bands)
        keys.add(lock_key(article.content_hash))
        keys.update(
            lock_key(url) for url in (article.url, article.link, article.landed, *article.urls) if url
        )
    keys.update(lock_key(alias.url) for alias in aliases)
    lock_all(conn, keys)


def lock_all(conn: Connection[Any], keys: Iterable[int]) -> None:
    """Take the locks that stand for ``keys`` (a commit's, or re-extraction's new texts'), ascending, until
    the transaction ends."""
    buckets = lock_buckets(keys)
    if buckets:
        conn.execute(
            "SELECT count(pg_advisory_xact_lock(%s, bucket)) FROM unnest(%s::int[]) AS bucket",
            [LOCK_CLASS, buckets],
        )
