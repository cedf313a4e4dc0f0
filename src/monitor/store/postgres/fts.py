"""Full-text search on PostgreSQL: ``articles_fts.document`` and the ``tsquery`` of monitor's query language
(issue 16, D53). The compilers are pure; :func:`index`, :func:`index_many` and :func:`match_ids` run SQL.

The document is the normal form SQLite indexes (:func:`monitor.textnorm.index_text` of the title and the
text, D44), written as a ``tsvector`` *literal* and cast (``%s::tsvector``), never passed through
``to_tsvector``: textnorm has already segmented, folded and stemmed, so each of its terms must be exactly one
lexeme, whereas PostgreSQL's parser (even under ``simple``, which neither stems nor drops stop words)
re-splits by its own rules (URLs, hyphens, numbers) and the database's locale, and lower-cases again.
Queries likewise are ``tsquery`` literals (``%s::tsquery``) of quoted lexemes, built from the same tree and
the same :func:`monitor.textnorm.query_alternatives` as :func:`monitor.query.to_fts5`:

- the title's terms take positions 1..n with weight ``A``, the text's follow after a gap of one position
  with weight ``B``: no phrase spans the two, as none spans FTS5's columns; ``title:`` restricts lexemes to
  ``:A``, ``text:`` to ``:B``; :data:`RANK` weighs a title match ten times a text one, as SQLite's bm25;
- a word is the OR of its forms, a phrase (quoted, or a word with inner punctuation, or CJK/Thai bigrams)
  is its lexemes joined by ``<->``, a prefix marks the last lexeme ``:*``; AND, OR, NOT are ``&``, ``|``,
  ``& !``, every compound parenthesised.

PostgreSQL's limits, where the two backends can differ: a position above 16,383 is stored as 16,383 and a
lexeme keeps its first 256 positions, so a phrase that only occurs beyond those is not found (a word still
is); a term longer than 2,046 bytes is not indexed (FTS5 indexes it) and a query word that long is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import Connection

from monitor import textnorm
from monitor.errors import QueryError
from monitor.query import And, Node, Not, Phrase, Word, describe, parse, searched_as_prefix

TITLE_WEIGHT = "A"
TEXT_WEIGHT = "B"
WEIGHTS: dict[str | None, str] = {None: "", "title": TITLE_WEIGHT, "text": TEXT_WEIGHT}
MAX_POSITION = 16_383  # PostgreSQL stores a larger position as this one
MAX_POSITIONS = 256  # positions kept per lexeme
MAX_LEXEME_BYTES = 2_046  # a longer lexeme is refused by tsvector and tsquery input

MATCH = "articles_fts.document @@ %s::tsquery"
"""The WHERE condition that matches a :func:`tsquery_string` (the GIN index answers it)."""
RANK = "ts_rank('{0.1, 0.2, 0.1, 1.0}', articles_fts.document, %s::tsquery)"
"""The rank of a match, higher is better: weights D, C, B, A, so the title (A) counts ten times the text (B),
as SQLite's ``bm25(articles_fts, 10.0, 1.0)``; only the order compares with bm25, never the numbers."""


def _lexeme(term: str) -> str:
    """A quoted lexeme for tsvector and tsquery input: single quotes, ``'`` doubled, ``\\`` escaped."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def document(title: str | None, text: str | None, language: str | None) -> str:
    """The ``tsvector`` literal of an article: the normal form of its title (weight A) and text (weight B),
    in order, with positions; cast it with ``::tsvector``."""
    positions: dict[str, list[str]] = {}
    position = 0
    for part, weight in ((title, TITLE_WEIGHT), (text, TEXT_WEIGHT)):
        if not part:
            continue
        if position:
            position += 1  # a gap after the title: no phrase runs from it into the text
        for term in textnorm.index_text(part, language).split():
            position += 1
            if len(term.encode()) > MAX_LEXEME_BYTES:
                continue
            kept = positions.setdefault(term, [])
            if len(kept) < MAX_POSITIONS:
                kept.append(f"{min(position, MAX_POSITION)}{weight}")
    return " ".join(f"{_lexeme(term)}:{','.join(kept)}" for term, kept in positions.items())


def tsquery_string(query: str | None) -> str:
    """A query in monitor's language as a ``tsquery`` literal (as :func:`monitor.store.fts.match_string` is
    FTS5's MATCH string); raises :class:`~monitor.errors.QueryError` as ``monitor search`` does."""
    return to_tsquery(parse(query or ""))


def to_tsquery(node: Node) -> str:
    """The ``tsquery`` literal of ``node`` over :func:`document`; cast it with ``::tsquery``.
    :class:`QueryError` when nothing searchable is left, as :func:`monitor.query.to_fts5`."""
    compiled = _compile(node)
    if compiled is None:
        raise QueryError(f"query {describe(node)!r} has no words to search for")
    return compiled


def _phrase(terms: tuple[str, ...], weight: str, prefix: bool = False, *, loose: bool = False) -> str:
    for term in terms:
        if len(term.encode()) > MAX_LEXEME_BYTES:
            raise QueryError(f"a word of {len(term.encode())} bytes is too long to search for")
    weight = "" if loose else weight
    lexemes = [f"{_lexeme(term)}:{weight}" if weight else _lexeme(term) for term in terms]
    if prefix:
        lexemes[-1] = f"{_lexeme(terms[-1])}:*{weight}"
    return lexemes[0] if len(lexemes) == 1 else "(" + (" & " if loose else " <-> ").join(lexemes) + ")"


def loose_tsquery(query: str) -> str | None:
    """A ``tsquery`` that the GIN index answers without reading any document, matching every article
    :func:`tsquery_string` matches and maybe more: phrases as their words in any order, ``title:``/``text:``
    dropped, what NOT excludes not excluded; None when :func:`tsquery_string` is such a query already. (The
    index keeps neither positions nor weights, so it must read, "recheck", each candidate's document to
    test a phrase or a weight: ~25 us each.)"""
    strict = tsquery_string(query)
    loose = _compile(parse(query), loose=True)
    return loose if loose is not None and loose != strict else None


def _compile(node: Node, *, loose: bool = False) -> str | None:
    if isinstance(node, Word | Phrase):
        alternatives = textnorm.query_alternatives(node.text)
        if not alternatives:
            return None
        weight = WEIGHTS[node.field]
        if isinstance(node, Word) and searched_as_prefix(node, alternatives):
            return _phrase(alternatives[0], weight, prefix=True, loose=loose)
        phrases = [_phrase(terms, weight, loose=loose) for terms in alternatives]
        return phrases[0] if len(phrases) == 1 else "(" + " | ".join(phrases) + ")"
    if isinstance(node, Not):
        positive = _compile(node.positive, loose=loose)
        negative = _compile(node.negative)
        if positive is None or negative is None:
            return positive
        if loose and _compile(node.negative, loose=True) != negative:
            return positive  # excluding a loosened phrase would exclude too much
        return f"({positive} & !{negative})"
    parts = [part for part in (_compile(item, loose=loose) for item in node.items) if part is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    joiner = " & " if isinstance(node, And) else " | "
    return "(" + joiner.join(parts) + ")"


# --- SQL ------------------------------------------------------------------------------------------------

_UPSERT = (
    "INSERT INTO articles_fts (article_id, document) VALUES (%s, %s::tsvector) "
    "ON CONFLICT (article_id) DO UPDATE SET document = excluded.document"
)


def index(
    conn: Connection[Any], article_id: int, title: str | None, text: str | None, language: str | None
) -> None:
    """Index one article, or index it again after an edit of its title, text or language."""
    conn.execute(_UPSERT, [article_id, document(title, text, language)])


def index_many(
    conn: Connection[Any], articles: Iterable[tuple[int, str | None, str | None, str | None]]
) -> None:
    """Index (id, title, text, language) rows in one pipelined batch (a poll's new articles)."""
    with conn.cursor() as cursor:
        cursor.executemany(_UPSERT, [(id_, document(t, x, lang)) for id_, t, x, lang in articles])


def match_ids(conn: Connection[Any], query: str) -> set[int]:
    """The ids of the articles ``query`` (monitor's language) matches."""
    rows = conn.execute(
        "SELECT article_id FROM articles_fts WHERE articles_fts.document @@ %s::tsquery",
        [tsquery_string(query)],
    )
    return {int(row[0]) for row in rows}
