"""Which articles a search shows on PostgreSQL, read in the order it shows them (issue 16, D65).

``articles_fts.newest`` (migration 0005) is each article's newest-first moment, B-tree indexed with the id, so
matches can be read newest first without joining every match to ``articles`` to sort it. Two ways to read
the next matches, and neither is always cheap:

- the **walk**: the index newest first, each document tested with ``@@`` until enough match. Its cost is the
  rows tested (a document read and tested is ~25 us here), so it suits a common word (a word in one article
  in ten finds 20 matches in ~200 rows) and never a rare one;
- the **GIN index**: every match's row read, then the newest kept. Its cost is the matches (~1 us each), so
  it suits a rare word and never a common one (a word in 120,000 of a million articles).

PostgreSQL's planner picks between them by its estimate of the match count, which for most words is a fixed
guess (0.5% of the rows), so the choice is made here: walk at most :data:`WALK` rows; if they hold too few
matches, ask the GIN index for the rest (older than the walk): whole when the walk's share of matches predicts
few, else over a window of time that should hold twice the matches wanted (the walk's rows per second and
share of matches give its width), each next window eight times wider and starting at the next article (a gap
in time wider than the window is stepped over, and the width starts again), until the page is full.
Every path returns exactly the next matches in the order (newest, id) descending; only the cost differs.

Ranking reads the :data:`RANK_WINDOW` newest matches this way and orders those by ``ts_rank``: every match
when a query has at most that many, the newest ones when it has more (``ts_rank`` reads each document, ~25 us
a match: over a common word's 120,000 matches that is seconds, over 500 ~12 ms). Counting and exporting
are not bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from monitor.store.postgres import fts

WALK = 250
"""Rows of ``articles_fts`` tested newest first before the GIN index is asked (~6 ms at most): 20 matches
among them for a word in one article in twelve or more."""
RANK_WINDOW = 500
"""Matches ranked by ``--sort rank``: the newest this many (all of them when there are no more)."""
MANY = 2_000
"""Matches (as the walk's share predicts them) from which the GIN index is read over windows of time rather
than whole."""

MARGIN = 2.0
"""A first window of time holds this many times the rows the walk's share of matches needs."""
WIDER = 8
"""Each next window is this many times wider."""

WINDOW_MATCH = "articles_fts.document @@ (SELECT %s::tsquery)"
"""The match over a window of time. The query is a sub-select (an InitPlan), so the planner does not estimate
it from the statistics (which judged a phrase of bigrams, 地铁 in 16,000 of a million articles, rare) but
takes its default 0.5% of the rows, and so ANDs the GIN index's bitmap with the window's range of the
``newest`` B-tree (BitmapAnd): only the matches inside the window are read from the heap, not every match
(it was 43 ms for 161 rows of 地铁 at 1M; issue 16). The results are the same, only the plan differs."""

ORDER = "articles_fts.newest DESC, articles_fts.article_id DESC"
_KEY = "(articles_fts.newest, articles_fts.article_id)"

Row = tuple[int, int, datetime]
"""A match: article id, story id (the article's own when it has none), newest-first moment."""
Key = tuple[datetime, int]
"""A place in the order: (newest, article id)."""


def _select(where: Sequence[str], source: str) -> str:
    return (
        f"SELECT articles_fts.article_id, coalesce(a.story_id, a.id), articles_fts.newest FROM {source} "
        f"JOIN articles AS a ON a.id = articles_fts.article_id WHERE {' AND '.join(where) or 'true'} "
    )


def _rows(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[Row]:
    return [(int(r[0]), int(r[1]), r[2]) for r in conn.execute(sql, list(params))]


def _key_after(conn: psycopg.Connection[Any], after: Key | None, offset: int) -> Key | None:
    """The key ``offset`` rows after ``after`` (from the newest when None) in the order; None past the end."""
    where, params = ([f"{_KEY} < (%s, %s)"], [*after]) if after else ([], [])
    row = conn.execute(
        f"SELECT newest, article_id FROM articles_fts WHERE {' AND '.join(where) or 'true'} "
        f"ORDER BY {ORDER} OFFSET %s LIMIT 1",
        [*params, offset],
    ).fetchone()
    return (row[0], int(row[1])) if row else None


def newest(
    conn: psycopg.Connection[Any],
    where: Sequence[str],
    params: Sequence[Any],
    size: int,
    after: Key | None = None,
    loose: str | None = None,
) -> list[Row]:
    """The next ``size`` matches of ``where`` (conditions over ``articles_fts`` and ``a``, the match among
    them) newest first, after ``after``; fewer only when there are no more. ``loose`` is the match's
    :func:`.fts.loose_tsquery`, if it has one."""
    cursor, cursor_params = ([f"{_KEY} < (%s, %s)"], [*after]) if after else ([], [])
    walked = (
        "(SELECT article_id, newest, document FROM articles_fts "
        f"WHERE {' AND '.join(cursor) or 'true'} ORDER BY {ORDER} LIMIT %s) AS articles_fts"
    )
    found = _rows(
        conn,
        _select(where, walked) + f"ORDER BY {ORDER} LIMIT %s",
        [*cursor_params, WALK, *params, size],
    )
    if len(found) == size:
        return found
    boundary = _key_after(conn, after, WALK - 1)
    if boundary is None:  # the walk tested every row left
        return found
    top = after or _key_after(conn, None, 0)
    assert top is not None  # there is a row past the walk's first
    span = max((top[0] - boundary[0]).total_seconds(), 1.0)
    share = len(found) / WALK
    return found + _older(conn, (where, params, loose), size - len(found), boundary, share, span)


def _older(
    conn: psycopg.Connection[Any],
    matching: tuple[Sequence[str], Sequence[Any], str | None],
    size: int,
    boundary: Key,
    share: float,
    span: float,
) -> list[Row]:
    """The next ``size`` matches older than ``boundary`` through the GIN index: whole, or over windows of
    time when ``share`` (matches per row in the walk, which spanned ``span`` seconds) predicts many: the
    first window holds twice the rows the walk's share needs, each next one is eight times wider.

    With a ``loose`` query (``matching``: where, params, loose) the index gives the candidates of the loose
    one, without reading their documents, and only those, newest first, are tested until enough match:
    else the index would read every candidate's document in the window, whatever the limit."""
    where, params, loose = matching
    rows = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'articles_fts'::regclass").fetchone()
    seconds = span * MARGIN * size / share / WALK if share and rows and share * float(rows[0]) > MANY else 0.0
    oldest = conn.execute("SELECT min(newest) FROM articles_fts").fetchone() if seconds else None
    first = seconds
    found: list[Row] = []
    bounds, bounds_params = [f"{_KEY} < (%s, %s)"], [*boundary]
    upper = boundary[0]
    while len(found) < size:
        lower = upper - timedelta(seconds=seconds) if seconds else None
        if lower is not None and oldest is not None and oldest[0] is not None and lower <= oldest[0]:
            lower = None  # the window reaches the first article
        window = ["articles_fts.newest >= %s"] if lower is not None else []
        limits = [*bounds_params, *([lower] if lower is not None else [])]
        match = fts.MATCH if lower is None else WINDOW_MATCH
        conn.execute("SET LOCAL enable_indexscan = off")  # the GIN index's bitmap, not another walk
        if loose is None and list(where) == [fts.MATCH]:  # no filter: the newest found, then joined
            newest_first = (
                "(SELECT article_id, newest FROM articles_fts "
                f"WHERE {' AND '.join([match, *bounds, *window])} "
                f"ORDER BY {ORDER} LIMIT %s) AS articles_fts"
            )
            sql, values = _select([], newest_first), [*params, *limits, size - len(found)]
        elif loose is None:
            sql = _select(
                [*(match if term == fts.MATCH else term for term in where), *bounds, *window], "articles_fts"
            )
            values = [*params, *limits]
        else:  # OFFSET 0: a subquery the planner keeps, its candidates tested after it, in its order
            candidates = (
                "(SELECT article_id, newest, document FROM articles_fts "
                f"WHERE {' AND '.join([match, *bounds, *window])} "
                f"ORDER BY {ORDER} OFFSET 0) AS articles_fts"
            )
            sql, values = _select(where, candidates), [loose, *limits, *params]
        found += _rows(conn, sql + f"ORDER BY {ORDER} LIMIT %s", [*values, size - len(found)])
        conn.execute("SET LOCAL enable_indexscan = on")
        if lower is None:
            break
        # the next window starts at the next article, however long before: a gap (an archive stopped for a
        # month, a back-fill of old articles) is stepped over, not crossed by ever wider empty windows
        below = conn.execute("SELECT max(newest) FROM articles_fts WHERE newest < %s", [lower]).fetchone()
        if below is None or below[0] is None:
            break
        bounds, bounds_params = ["articles_fts.newest < %s"], [lower]
        gap = (lower - below[0]).total_seconds() > seconds  # after a gap, the first width again
        upper, seconds = below[0], first if gap else seconds * WIDER
    return found


def ranked(
    conn: psycopg.Connection[Any],
    where: Sequence[str],
    params: Sequence[Any],
    tsquery: str,
    size: int,
    loose: str | None = None,
) -> list[Row]:
    """The first ``size`` of the :data:`RANK_WINDOW` newest matches by rank, then newest."""
    candidates = newest(conn, where, params, RANK_WINDOW, loose=loose)
    if not candidates:
        return []
    stories = {article_id: (story_id, moment) for article_id, story_id, moment in candidates}
    ids = conn.execute(
        f"SELECT article_id FROM articles_fts WHERE article_id = ANY(%s) ORDER BY {fts.RANK} DESC, {ORDER} "
        "LIMIT %s",
        [list(stories), tsquery, size],
    )
    return [(int(r[0]), *stories[int(r[0])]) for r in ids]
