"""The normalised full-text index, ``articles_fts`` (migration 0009): the only code that writes it.

SQLite's FTS5 tokenizers cannot segment Chinese or Thai, strip Arabic's article or stem English, and Python's
``sqlite3`` cannot register a tokenizer of its own; the archive must stay readable by any SQLite client too.
So the index holds a *normalised copy* of each article's title and text (:func:`monitor.textnorm.index_text`,
one token per term), keyed by ``rowid = articles.id``, and queries are normalised the same way
(:mod:`monitor.query`). The store writes it from Python: a poll's new articles in one statement, edited
articles again after their update. No trigger can compute the normal form; the table keeps its own copy of
what it indexed (not contentless), so that a row leaves it by rowid alone: through the delete trigger, and
whatever normaliser made it.

The ``search_index`` table records the normaliser version the index was built with; an archive opened for
writing with another version is re-indexed in batches (resumable: ``built_to`` is the last id done).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence

from monitor import textnorm
from monitor.query import parse, to_fts5

INDEX_FUNCTION = "monitor_index_text"
MATCH_FUNCTION = "monitor_match"
BATCH = 2_000
CHUNK = 500  # ids per statement (well under SQLite's variable limit)

Progress = Callable[[int, int], None]
"""Called with (articles indexed, articles in all) after each batch of a rebuild."""


def _index_text(text: str | None, language: str | None) -> str:
    return textnorm.index_text(text, language) if text else ""


def match_string(query: str | None) -> str:
    """``monitor_match(q)``: a query in monitor's language as the MATCH string for this index; raises
    :class:`~monitor.errors.QueryError` as ``monitor search`` does (SQLite reports that the function
    failed)."""
    return to_fts5(parse(query or ""))


def register(conn: sqlite3.Connection) -> None:
    """Make the index's SQL functions available on this connection: ``monitor_index_text(text, language)``,
    the normal form the writer's statements index (and any SQL may call), and ``monitor_match(q)``, what
    Datasette's search box and canned queries match with."""
    conn.create_function(INDEX_FUNCTION, 2, _index_text, deterministic=True)
    conn.create_function(MATCH_FUNCTION, 1, match_string, deterministic=True)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        f"CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, "
        f"tokenize = {_literal(textnorm.FTS5_TOKENIZE)})"
    )


def create_meta(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS search_index (key TEXT PRIMARY KEY, value TEXT)")


def _set(conn: sqlite3.Connection, key: str, value: str | int | None) -> None:
    if value is None:
        conn.execute("DELETE FROM search_index WHERE key = ?", [key])
    else:
        conn.execute(
            "INSERT INTO search_index (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, str(value)],
        )


def _get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM search_index WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def index_version(conn: sqlite3.Connection) -> str | None:
    """The normaliser version of a complete index, None while it is (re)built."""
    return _get(conn, "normaliser")


def is_current(conn: sqlite3.Connection) -> bool:
    """Whether the index is complete and made by this normaliser (else the next writer rebuilds it)."""
    return index_version(conn) == textnorm.NORMALISER_VERSION


def index(conn: sqlite3.Connection, article_ids: Sequence[int], *, replace: bool = False) -> None:
    """Add these articles to the index, one statement per 500: one FTS5 segment per poll rather than one per
    article (D36). ``replace`` for rows that may be indexed already."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    for start in range(0, len(article_ids), CHUNK):
        chunk = list(article_ids[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"{verb} INTO articles_fts (rowid, title, text) "
            f"SELECT id, {INDEX_FUNCTION}(title, language), {INDEX_FUNCTION}(text, language) "
            f"FROM articles WHERE id IN ({marks}) ORDER BY id",
            chunk,
        )


def reindex(conn: sqlite3.Connection, article_ids: Sequence[int]) -> None:
    """Index these articles again after an edit of their title, text or language."""
    ids = list(dict.fromkeys(article_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        conn.execute(f"DELETE FROM articles_fts WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
    index(conn, ids)


def rebuild_if_stale(
    conn: sqlite3.Connection,
    transaction: Callable[[], contextlib.AbstractContextManager[None]],
    progress: Progress,
) -> bool:
    """Bring the index to the current normaliser: nothing to do when it is current; else (re)build it in
    batches of 2,000 articles, each its own transaction, so that readers keep working, a running writer
    waits at most one batch and an interrupted rebuild resumes. True when it rebuilt."""
    if is_current(conn):
        return False
    with transaction():
        if _get(conn, "building") != textnorm.NORMALISER_VERSION:
            # another normaliser made this index (or none did): start again from an empty table
            conn.execute("DROP TABLE IF EXISTS articles_fts")
            create_table(conn)
            _set(conn, "normaliser", None)
            _set(conn, "building", textnorm.NORMALISER_VERSION)
            _set(conn, "built_to", 0)
        done_to = int(_get(conn, "built_to") or 0)
        total = int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        done = int(conn.execute("SELECT count(*) FROM articles WHERE id <= ?", [done_to]).fetchone()[0])
    while True:
        with transaction():
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?", [done_to, BATCH]
                )
            ]
            if not ids:
                _set(conn, "normaliser", textnorm.NORMALISER_VERSION)
                _set(conn, "building", None)
                _set(conn, "built_to", None)
                break
            # a poll committed by another writer meanwhile may have indexed some of these already
            index(conn, ids, replace=True)
            done_to = ids[-1]
            _set(conn, "built_to", done_to)
        done += len(ids)
        progress(min(done, total), max(total, done))
    return True
