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
from monitor.query import And, Node, Not, Or, Phrase, Word, searched_as_prefix

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
            if searched_as_prefix(node, alternatives):
                first = alternatives[0]
                exact.update(first[:-1])
                prefixes.append(first[-1])
                alternatives = alternatives[1:]
            for terms in alternatives:
                exact.update(terms)
        elif isinstance(node, Phrase):
            for terms in textnorm.query_alternatives(node.text):
                exact.update(terms)
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


def _best_window(terms: Sequence[str], hits: Sequence[int], size: int) -> int:
    """The first term of the window showing the most distinct terms, then the most hits, earliest first;
    the hits it holds centred in it, as FTS5 does."""
    if not hits:
        return 0
    best: tuple[int, int, int] | None = None
    start_of_best = 0
    for first in hits:
        inside = [i for i in hits if first <= i < first + size]
        last = inside[-1]
        start = first - (size - (last - first + 1)) // 2
        start = max(0, min(start, len(terms) - size))
        shown = [i for i in hits if start <= i < start + size]
        score = (len({terms[i] for i in shown}), len(shown), -start)
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


def _cut(text: str, tokens: Sequence[textnorm.Token], hits: Sequence[int], marks: tuple[str, str]) -> str:
    if not tokens:
        return text.strip()
    start = _best_window([token.term for token in tokens], hits, WINDOW)
    end = min(start + WINDOW, len(tokens))
    return _render(text, tokens, start, end, hits, marks, at_start=start == 0, at_end=end == len(tokens))


def _render(
    text: str,
    tokens: Sequence[textnorm.Token],
    start: int,
    end: int,
    hits: Sequence[int],
    marks: tuple[str, str],
    *,
    at_start: bool,
    at_end: bool,
) -> str:
    """Tokens ``start`` to ``end`` of ``text`` with the hits among them marked, ``…`` where text is cut."""
    begin = 0 if at_start else tokens[start].start
    finish = len(text) if at_end else tokens[end - 1].end
    spans = [(a - begin, b - begin) for a, b in (_span(text, tokens, i) for i in hits if start <= i < end)]
    cut = _marked(text[begin:finish], spans, marks)
    return ("" if at_start else ELLIPSIS) + cut + ("" if at_end else ELLIPSIS)


def _whitespace_before(text: str, position: int) -> int:
    if position <= 0:
        return 0
    return max(text.rfind(" ", 0, position), text.rfind("\n", 0, position)) + 1


def _whitespace_after(text: str, position: int) -> int:
    found = [at for at in (text.find(" ", position), text.find("\n", position)) if at >= 0]
    return min(found) if found and position < len(text) else len(text)


def _located(
    text: str, language: str | None, window: Sequence[str], first: int, words: int
) -> tuple[list[textnorm.Token], int] | None:
    """The tokens of the part of ``text`` around index terms ``first`` .. ``first + len(window)``, and where
    the window starts among them: only that part is tokenised, found where its position in the index
    text suggests and checked term by term (cut at whitespace, which no token spans); None if not found."""
    estimate = len(text) * first // max(words, 1)
    width = len(text) * len(window) // max(words, 1)
    margin = 200
    while True:
        begin = _whitespace_before(text, estimate - margin)
        finish = _whitespace_after(text, estimate + width + margin)
        region = textnorm.tokens(text[begin:finish], language)
        terms = [token.term for token in region]
        for at in range(len(terms) - len(window) + 1):
            if terms[at : at + len(window)] == list(window):
                # only the window and a token either side (what _render and _span read) are moved
                first = max(at - 1, 0)
                kept = region[first : at + len(window) + 1]
                return [textnorm.Token(t.start + begin, t.end + begin, t.term) for t in kept], at - first
        if begin == 0 and finish == len(text):
            return None
        margin *= 4


def best_snippet(
    title: str | None,
    text: str,
    language: str | None,
    terms: Terms,
    marks: tuple[str, str] = ("", ""),
    *,
    indexed: str | None = None,
) -> str:
    """The snippet of the text, or of the title when only the title matches (FTS5's ``snippet`` over every
    column picked the column that matched).

    ``indexed`` is the text's normal form as the index holds it (:func:`monitor.textnorm.index_text`):
    the window is then chosen on it, and only its part of the original text is tokenised (a page of 50
    hits otherwise spends most of a search's time re-tokenising whole articles)."""
    if indexed is not None:
        words = indexed.split()
        if terms.prefixes:
            hits = [i for i, word in enumerate(words) if terms.matches(word)]
        else:  # the common case, in one comprehension over a set
            exact = terms.exact
            hits = [i for i, word in enumerate(words) if word in exact]
        if hits or not (terms and title):
            if not words:
                return text.strip()
            start = _best_window(words, hits, WINDOW)
            end = min(start + WINDOW, len(words))
            located = _located(text, language, words[start:end], start, len(words))
            if located is not None:
                tokens, at = located
                shown = [at + i - start for i in hits if start <= i < end]
                return _render(
                    text,
                    tokens,
                    at,
                    at + end - start,
                    shown,
                    marks,
                    at_start=start == 0,
                    at_end=end == len(words),
                )
    tokens = textnorm.tokens(text, language)
    hits = _hits(tokens, terms)
    if not hits and terms and title:
        title_tokens = textnorm.tokens(title, language)
        if title_hits := _hits(title_tokens, terms):
            return _cut(title, title_tokens, title_hits, marks)
    return _cut(text, tokens, hits, marks)
