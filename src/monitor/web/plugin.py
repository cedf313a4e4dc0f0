"""monitor's Datasette plugin: the articles table's search box speaks monitor's query language.

Datasette 0.65 searches a table with ``rowid in (select rowid from articles_fts where articles_fts match
escape_fts(:search))`` (``datasette/filters.py``; ``escape_fts`` is a SQL function its own
``prepare_connection`` registers). The index holds normalised text (:mod:`monitor.store.fts`), so this plugin
registers, after Datasette's, an ``escape_fts`` that parses the query and compiles it for that index, the
same as ``monitor search`` does; ``monitor_match(q)`` is the same function under its own name (for canned
queries and users' SQL), ``monitor_index_text(text, language)`` the normal form of a string. ``monitor
serve`` runs Datasette with this plugin registered (``python -m monitor.web``). A query that does not
parse is answered with a 400 naming the position, as ``monitor search`` exits 2 (SQLite would only say that
a function failed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from datasette import hookimpl  # type: ignore[import-untyped]
from datasette.utils.asgi import BadRequest  # type: ignore[import-untyped]

from monitor.errors import QueryError
from monitor.store import fts

if TYPE_CHECKING:  # the driver stays in monitor.store; Datasette hands us its connection
    import sqlite3


@hookimpl(trylast=True)  # type: ignore[untyped-decorator]
def prepare_connection(conn: sqlite3.Connection) -> None:
    """After Datasette's own ``prepare_connection`` (trylast), so that this ``escape_fts`` replaces its."""
    fts.register(conn)
    conn.create_function("escape_fts", 1, fts.match_string, deterministic=True)


@hookimpl  # type: ignore[untyped-decorator]
def filters_from_request(request: Any) -> Callable[[], Awaitable[None]]:
    """Check the table's search terms (``_search``, ``_search_COLUMN``) before Datasette runs them."""

    async def check() -> None:
        for key in request.args:
            if key.startswith("_search") and key != "_searchmode" and request.args[key]:
                try:
                    fts.match_string(request.args[key])
                except QueryError as exc:
                    raise BadRequest(str(exc)) from None

    return check
