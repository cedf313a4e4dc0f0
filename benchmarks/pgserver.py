"""The PostgreSQL server of the benchmarks (issue 16), and synthetic archives filled by ``COPY``.

The server is the one named by ``MONITOR_BENCH_POSTGRES`` (a ``postgresql://`` URL; the role needs
CREATEDB), else the test suite's (``MONITOR_TEST_POSTGRES``, else a throwaway cluster started with the
server's own ``initdb``/``pg_ctl``: :func:`tests.support.postgres.session_server`, reused as is). Each
measurement gets a database of its own, cloned from an empty template and dropped afterwards.

:func:`fill` writes the rows ``PostgresArchive.commit_batch`` would write for new synthetic articles (the
article, its URL claim, its GUID, its 24 band keys, its search document from
:func:`monitor.store.postgres.fts.document`, whose newest-first moment the schema's trigger fills in as
for the writer; each article its own story, as none shares a band key with another), by ``COPY`` into the
indexed tables: every index grows row by row as under the real writer, but
without the writer's per-article round trips, advisory locks and story lookups, which cost the same at any
size and are what the measured ``commit_batch`` calls time.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests' server support, reused as the test suite runs it

from tests.support.postgres import (  # noqa: E402
    ENV,
    PostgresServer,
    Unavailable,
    external_server,
    find_bindir,
    postgres_url,
    session_server,
)

BENCH_ENV = "MONITOR_BENCH_POSTGRES"
HOW_TO_ENABLE = (
    "install Debian's `postgresql` package (initdb under /usr/lib/postgresql/<version>/bin), or set "
    f"{BENCH_ENV} or {ENV} to a postgresql:// URL of a role with CREATEDB"
)
FILL_CHUNK = 2_000

__all__ = ["BENCH_ENV", "HOW_TO_ENABLE", "Unavailable", "bench_server", "fill", "find_bindir", "postgres_url"]


@contextmanager
def bench_server() -> Iterator[PostgresServer]:
    """The server to measure on; :class:`Unavailable` (saying how to get one) when there is none."""
    url = os.environ.get(BENCH_ENV)
    if url:
        with external_server(url) as server:
            yield server
        return
    if not os.environ.get(ENV) and find_bindir() is None:
        raise Unavailable(HOW_TO_ENABLE)
    with session_server() as server:
        yield server


def describe_server(conninfo: str) -> str:
    """Version and the settings that weigh on write cost, for the report."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s)",
                [["fsync", "synchronous_commit", "full_page_writes", "shared_buffers"]],
            ).fetchall()
        )
    buffers = settings.get("shared_buffers", "?")
    if buffers.endswith("8kB") and buffers[:-3].isdigit():
        buffers = f"{int(buffers[:-3]) * 8 // 1024}MB"
    return (
        f"PostgreSQL {version[0] if version else '?'} (fsync={settings.get('fsync')}, "
        f"synchronous_commit={settings.get('synchronous_commit')}, shared_buffers={buffers})"
    )


_ARTICLE_COLUMNS = (
    "id, story_id, url, source, guid, title, authors, published_at, fetched_at, text, summary, language, "
    "image, extraction, content_hash, feed_title, checks, next_check_at, keywords, extractor"
)


def _rows(article_of: Callable[[int], Any], ids: range, first_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of articles ``ids`` (numbered from ``first_id``), table by table, as the writer makes them
    (lists and objects as JSON text, which ``COPY`` reads into ``jsonb``)."""
    from monitor.extract import EXTRACTOR_VERSION
    from monitor.store.postgres import fts

    rows: dict[str, list[tuple[Any, ...]]] = {"articles": [], "urls": [], "guids": [], "bands": [], "fts": []}
    for article_id, n in enumerate(ids, start=first_id):
        article = article_of(n)
        at = article.fetched_at.replace(microsecond=0)
        rows["articles"].append(
            (
                article_id, article_id, article.url, article.source, article.guid, article.title,
                json.dumps(list(article.authors)), article.published_at, at, article.text, article.summary,
                article.language, None, article.extraction, article.content_hash, None, 0, None, "[]",
                EXTRACTOR_VERSION,
            )
        )  # fmt: skip
        rows["urls"].append((article.url, article_id, article.source, at))
        rows["guids"].append((article.source, article.guid, article_id))
        rows["bands"].extend((key, article_id) for key in article.bands)
        rows["fts"].append((article_id, fts.document(article.title, article.text, article.language)))
    return rows


_ARTICLE_OF: Callable[[int], Any] | None = None
"""The article maker of the running :func:`fill`, inherited by its forked row makers (a closure does not
pickle)."""


def _chunk(span: tuple[int, int, int]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of one chunk, in a row-making process: (first n, last n + 1, first id)."""
    assert _ARTICLE_OF is not None
    return _rows(_ARTICLE_OF, range(span[0], span[1]), span[2])


def _copy(conn: Any, copies: dict[str, str], chunk: dict[str, list[tuple[Any, ...]]]) -> None:
    """One chunk's rows into their tables, in one transaction."""
    with conn.transaction(), conn.cursor() as cursor:
        for table, sql in copies.items():
            with cursor.copy(sql) as copy:
                for row in chunk[table]:
                    copy.write_row(row)


def fill(conninfo: str, article_of: Callable[[int], Any], ids: range, log: Callable[[str], None]) -> None:
    """COPY the rows of articles ``ids`` into an archive the real writer has migrated (``FILL_CHUNK``
    articles a transaction), then move the id sequence past them and VACUUM (ANALYZE), as autovacuum does
    on an archive that grew to that size (PostgreSQL 13+ vacuums a table after inserts too): with ANALYZE
    alone, the search index's GIN metapage still described the near-empty index of the schema's creation,
    and the planner tested every document for some rare words (search p95 ~110 ms at 30k against ~20; the
    state right after a bulk load, which ``monitor copy`` now ends by vacuuming; D71).

    Making the rows (search documents above all: ~0.5 ms an article) is the slow part, so forked processes
    make the chunks, one per core, while this one copies them in order."""
    import multiprocessing
    import time

    import psycopg

    global _ARTICLE_OF
    copies = {
        "articles": f"COPY articles ({_ARTICLE_COLUMNS}) FROM STDIN",
        "urls": "COPY article_urls (url, article_id, source, first_seen_at) FROM STDIN",
        "guids": "COPY entry_guids (source, guid, article_id) FROM STDIN",
        "bands": "COPY article_bands (key, article_id) FROM STDIN",
        "fts": "COPY articles_fts (article_id, document) FROM STDIN",
    }
    started = time.perf_counter()
    reported = started
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()
        first_id = (row[0] if row else 0) + 1 - ids.start  # after the writer's articles, if any
        spans = [
            (start, min(start + FILL_CHUNK, ids.stop), first_id + start)
            for start in range(ids.start, ids.stop, FILL_CHUNK)
        ]
        _ARTICLE_OF = article_of
        try:
            processes = os.cpu_count() or 1
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                pending: deque[tuple[int, Any]] = deque()
                for n, span in enumerate(spans, start=1):  # a few chunks made ahead, never all of them
                    pending.append((span[1], pool.apply_async(_chunk, (span,))))
                    while pending and (len(pending) > 2 * processes or n == len(spans)):
                        stop, made = pending.popleft()
                        _copy(conn, copies, made.get())
                        if time.perf_counter() - reported > 60:
                            reported = time.perf_counter()
                            log(
                                f"postgres: filled {stop - ids.start:,} of {len(ids):,} articles in "
                                f"{reported - started:.0f}s"
                            )
        finally:
            _ARTICLE_OF = None
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('articles', 'id'), (SELECT max(id) FROM articles))"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE)")
