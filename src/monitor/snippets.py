"""Snippets and highlights cut from an article's original text (pure).

The search index holds a normalised copy of the text (:mod:`monitor.store.fts`), so FTS5's ``snippet()``
would show folded, stemmed, bigrammed words. Instead the store picks the page of hits with FTS5, and this
module marks, in the original title or text, every token whose normal form is one of the query's terms
(:func:`monitor.textnorm.tokens` gives each term's span in the original), in the shape FTS5's
``snippet(..., '…', 30)`` had: the best window of about 30 tokens, ``…`` where it cuts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from monitor import textnorm
from monitor.query import And, Node, Not, Or, Phrase, Word

WINDOW = 30
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Terms:
    """The normal forms a query looks for: whole terms, and prefixes (``sanction*``)."""

    exact: frozenset[str] = field(default_factory=frozenset)
    prefixes: tuple[str, ...] = ()

    def matches(self, term: str) -> bool:
        return term in self.exact or any(term.startswith(prefix) for prefix in self.prefixes)

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)


def terms_of(node: Node) -> Terms:
    """The terms a query's words and phrases stand for in the index (in every form the compiled query
    accepts), those under NOT left out: what a snippet marks."""
    exact: set[str] = set()
    prefixes: list[str] = []

    def visit(node: Node) -> None:
        if isinstance(node, Word):
            alternatives = textnorm.query_alternatives(node.text)
            if not alternatives:
                return
            first = alternatives[0]
            if node.prefix or (len(first) == 1 and textnorm.is_unigram(first[0])):
                exact.update(first[:-1])
                prefixes.append(first[-1])
                alternatives = alternatives[1:]
            for terms in alternatives:
                exact.update(terms)
        elif isinstance(node, Phrase):
            for language in (None, "en"):
                exact.update(token.term for token in textnorm.tokens(node.text, language))
        elif isinstance(node, Not):
            visit(node.positive)
        elif isinstance(node, And | Or):
            for item in node.items:
                visit(item)

    visit(node)
    return Terms(frozenset(exact), tuple(prefixes))


def _hits(tokens: Sequence[textnorm.Token], terms: Terms) -> list[int]:
    return [i for i, token in enumerate(tokens) if terms.matches(token.term)]


def _is_letter(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _span(text: str, tokens: Sequence[textnorm.Token], i: int) -> tuple[int, int]:
    """Token ``i``'s span widened over letters no token covers: the article ``ال`` the index strips is
    marked with its word (``[المقاومة]``, not ``ال[مقاومة]``)."""
    start, end = tokens[i].start, tokens[i].end
    floor = tokens[i - 1].end if i > 0 else 0
    ceiling = tokens[i + 1].start if i + 1 < len(tokens) else len(text)
    while start > floor and _is_letter(text[start - 1]):
        start -= 1
    while end < ceiling and _is_letter(text[end]):
        end += 1
    return start, end


def _best_window(tokens: Sequence[textnorm.Token], hits: Sequence[int], size: int) -> int:
    """The first token of the window showing the most distinct terms, then the most hits, earliest first;
    the hits it holds centred in it, as FTS5 does."""
    if not hits:
        return 0
    best: tuple[int, int, int] | None = None
    start_of_best = 0
    for first in hits:
        inside = [i for i in hits if first <= i < first + size]
        last = inside[-1]
        start = first - (size - (last - first + 1)) // 2
        start = max(0, min(start, len(tokens) - size))
        shown = [i for i in hits if start <= i < start + size]
        score = (len({tokens[i].term for i in shown}), len(shown), -start)
        if best is None or score > best:
            best, start_of_best = score, start
    return start_of_best


def _marked(text: str, spans: Iterable[tuple[int, int]], marks: tuple[str, str]) -> str:
    """``text`` with each span wrapped in the marks; overlapping or touching spans (a CJK word's bigrams)
    make one mark."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not any(marks):
        return text
    out: list[str] = []
    at = 0
    for start, end in merged:
        out += [text[at:start], marks[0], text[start:end], marks[1]]
        at = end
    out.append(text[at:])
    return "".join(out)


def snippet(
    text: str,
    language: str | None,
    terms: Terms,
    marks: tuple[str, str] = ("", ""),
    *,
    size: int = WINDOW,
) -> str:
    """About ``size`` tokens of ``text`` around its best run of matches, the matches marked; the start of
    the text when nothing matches."""
    tokens = textnorm.tokens(text, language)
    return _cut(text, tokens, _hits(tokens, terms), marks, size)


def _cut(
    text: str, tokens: Sequence[textnorm.Token], hits: Sequence[int], marks: tuple[str, str], size: int
) -> str:
    if not tokens:
        return text.strip()
    start = _best_window(tokens, hits, size)
    end = min(start + size, len(tokens))
    begin, finish = tokens[start].start, tokens[end - 1].end
    if start == 0:
        begin = 0
    if end == len(tokens):
        finish = len(text)
    spans = [(a - begin, b - begin) for a, b in (_span(text, tokens, i) for i in hits if start <= i < end)]
    cut = _marked(text[begin:finish], spans, marks)
    return (ELLIPSIS if start > 0 else "") + cut + (ELLIPSIS if end < len(tokens) else "")


def best_snippet(
    title: str | None, text: str, language: str | None, terms: Terms, marks: tuple[str, str] = ("", "")
) -> str:
    """The snippet of the text, or of the title when only the title matches (FTS5's ``snippet`` over every
    column picked the column that matched). Each field is tokenised once."""
    tokens = textnorm.tokens(text, language)
    hits = _hits(tokens, terms)
    if not hits and terms and title:
        title_tokens = textnorm.tokens(title, language)
        if title_hits := _hits(title_tokens, terms):
            return _cut(title, title_tokens, title_hits, marks, WINDOW)
    return _cut(text, tokens, hits, marks, WINDOW)
