"""monitor's Datasette plugin: the articles table's search box speaks monitor's query language.

Datasette 0.65 searches a table with ``rowid in (select rowid from articles_fts where articles_fts match
escape_fts(:search))`` (``datasette/filters.py``; ``escape_fts`` is a SQL function its own
``prepare_connection`` registers). The index holds normalised text (:mod:`monitor.store.fts`), so this plugin
registers, after Datasette's, an ``escape_fts`` that parses the query and compiles it for that index, the
same as ``monitor search`` does; ``monitor_match(q)`` is the same function under its own name (for canned
queries and users' SQL), ``monitor_index_text(text, language)`` the normal form of a string. ``monitor
serve`` runs Datasette with this plugin registered (``python -m monitor.web``).
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl  # type: ignore[import-untyped]

from monitor.store import fts


@hookimpl(trylast=True)  # type: ignore[untyped-decorator]
def prepare_connection(conn: sqlite3.Connection) -> None:
    """After Datasette's own ``prepare_connection`` (trylast), so that this ``escape_fts`` replaces its."""
    fts.register(conn)
    conn.create_function("escape_fts", 1, fts.match_string, deterministic=True)
