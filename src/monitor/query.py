"""monitor's query language: parsed once into a small tree, compiled per index (pure: no I/O).

The language is FTS5's, made forgiving (issue #13)::

    maduro iran                 both words (implicit AND)
    maduro AND (iran OR tehran) AND, OR, NOT in upper case; and/or/not are ordinary words
    "exact phrase"              the words in this order
    floo*                       a prefix
    title:maduro                a field: title, text (body is an alias of text); title:"a b", title:(a OR b)
    al-Assad covid-19 U.S.      a word with inner punctuation is the phrase of its parts

NOT binds tightest, then AND (written or implicit), then OR, as in FTS5; NOT is binary (``a NOT b``). Any
character FTS5 would read as syntax inside a word (``^ + - : * .``) is part of the word and normalised away,
so only the constructs above are syntax. ``name:`` with an unknown ``name`` is an error naming the fields
(quote it to search the text: ``"author:smith"``), except where the colon is followed by ``/`` or ``:``
(``http://x``), or the name does not start with a letter (``10:30``). FTS5's ``NEAR(...)`` and
``{col1 col2}:`` are errors that say so.

``to_fts5`` compiles a tree for an FTS5 table whose ``title`` and ``text`` columns hold
:func:`monitor.textnorm.index_text` output: every term quoted, each word the OR of its normalised forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from monitor import textnorm
from monitor.errors import QueryError, QuerySyntaxError

FIELDS: tuple[str, ...] = ("title", "text")
FIELD_ALIASES: dict[str, str] = {"body": "text"}


@dataclass(frozen=True)
class Word:
    """One word as typed (``al-Assad``, ``U.S.``), its field, and whether it ends in ``*``."""

    text: str
    field: str | None = None
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """The text between double quotes."""

    text: str
    field: str | None = None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """``positive NOT negative``: FTS5's NOT is binary."""

    positive: Node
    negative: Node


Node = Word | Phrase | And | Or | Not


# --- lexing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # word, phrase, field, and, or, not, open, close
    text: str
    position: int


_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_]*):")
_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not"}
_WORD_END = frozenset(' \t\r\n\f\v()"')


def _field_name(query: str, name: str, position: int) -> str:
    lowered = name.lower()
    field = FIELD_ALIASES.get(lowered, lowered)
    if field not in FIELDS:
        known = ", ".join([*FIELDS, *(f"{alias} (= {to})" for alias, to in FIELD_ALIASES.items())])
        raise _error(
            query,
            position,
            f"unknown field {name!r} at position {position}; the fields are {known} "
            f'(quote it to search for the text: "{name}:...")',
        )
    return field


def _lex(query: str) -> Iterator[_Lexeme]:
    i, length = 0, len(query)
    while i < length:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            yield _Lexeme("open" if char == "(" else "close", char, i)
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise _error(query, i, f"the quote at position {i} is never closed")
            yield _Lexeme("phrase", query[i + 1 : end], i)
            i = end + 1
        else:
            end = i
            while end < length and query[end] not in _WORD_END and not query[end].isspace():
                end += 1
            text = query[i:end]
            if text in _OPERATORS:
                yield _Lexeme(_OPERATORS[text], text, i)
            elif text == "NEAR" and end < length and query[end] == "(":
                raise _error(query, i, f'NEAR(...) at position {i} is not supported; use a "phrase" or AND')
            elif text.startswith("{"):
                raise _error(
                    query, i, f"column sets {{...}}: at position {i} are not supported; use title: or text:"
                )
            elif (field := _FIELD.match(text)) and not text[field.end() :].startswith(("/", ":")):
                name = field.group(1)
                yield _Lexeme("field", _field_name(query, name, i), i)
                if rest := text[field.end() :]:
                    yield _Lexeme("word", rest, i + field.end())
            else:
                yield _Lexeme("word", text, i)
            i = end


def _error(query: str, position: int, detail: str) -> QuerySyntaxError:
    return QuerySyntaxError(f"query {query!r}: {detail}", query=query, position=position)


# --- parsing ----------------------------------------------------------------------------------------------


def parse(query: str) -> Node:
    """The tree of ``query``; :class:`QuerySyntaxError` (a :class:`QueryError`) names the position of a
    mistake and what was expected there."""
    if not query.strip():
        raise _error(query, 0, "the query is empty")
    return _Parser(query).parse()


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = list(_lex(query))
        self.index = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.index] if self.index < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def fail(self, lexeme: _Lexeme, detail: str) -> QuerySyntaxError:
        return _error(self.query, lexeme.position, detail)

    def parse(self) -> Node:
        node = self.any_of()
        if (extra := self.peek()) is not None:
            raise self.fail(extra, f"unmatched ')' at position {extra.position}")
        return node

    def any_of(self) -> Node:
        items = [self.all_of()]
        while (lexeme := self.peek()) is not None and lexeme.kind == "or":
            self.take()
            items.append(self.operand_after(lexeme, self.all_of))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def all_of(self) -> Node:
        items = [self.negation()]
        while (lexeme := self.peek()) is not None and lexeme.kind in (
            "and",
            "word",
            "phrase",
            "field",
            "open",
        ):
            if lexeme.kind == "and":
                self.take()
                items.append(self.operand_after(lexeme, self.negation))
            else:
                items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Node:
        node = self.term()
        while (lexeme := self.peek()) is not None and lexeme.kind == "not":
            self.take()
            node = Not(node, self.operand_after(lexeme, self.term))
        return node

    def operand_after(self, operator: _Lexeme, parse: Callable[[], Node]) -> Node:
        following = self.peek()
        if following is None or following.kind not in ("word", "phrase", "field", "open"):
            raise self.fail(
                operator, f"{operator.text} at position {operator.position} needs a term after it"
            )
        return parse()

    def term(self) -> Node:
        lexeme = self.peek()
        if lexeme is None:  # only reached through a caller that checked; kept for a clear message
            raise _error(self.query, len(self.query), f"a term was expected at position {len(self.query)}")
        if lexeme.kind in ("and", "or", "not"):
            binary = " (NOT is binary: a NOT b)" if lexeme.kind == "not" else ""
            raise self.fail(
                lexeme, f"{lexeme.text} at position {lexeme.position} needs a term before it{binary}"
            )
        if lexeme.kind == "close":
            raise self.fail(lexeme, f"unmatched ')' at position {lexeme.position}")
        self.take()
        if lexeme.kind == "word":
            text = lexeme.text.rstrip("*")
            return Word(text, prefix=text != lexeme.text)
        if lexeme.kind == "phrase":
            return Phrase(lexeme.text)
        if lexeme.kind == "field":
            following = self.peek()
            if following is None or following.kind not in ("word", "phrase", "open"):
                raise self.fail(lexeme, f"{lexeme.text}: at position {lexeme.position} needs a term after it")
            return self.in_field(self.term(), lexeme)
        # an opening parenthesis
        if (following := self.peek()) is not None and following.kind == "close":
            raise self.fail(lexeme, f"empty parentheses at position {lexeme.position}")
        if following is None:
            raise self.fail(lexeme, f"the parenthesis at position {lexeme.position} is never closed")
        node = self.any_of()
        closing = self.peek()
        if closing is None or closing.kind != "close":
            raise self.fail(lexeme, f"the parenthesis at position {lexeme.position} is never closed")
        self.take()
        return node

    def in_field(self, node: Node, field: _Lexeme) -> Node:
        if isinstance(node, Word | Phrase):
            if node.field is not None and node.field != field.text:
                raise self.fail(
                    field,
                    f"{node.field}: inside {field.text}: at position {field.position} can match nothing",
                )
            return replace(node, field=field.text)
        if isinstance(node, Not):
            return Not(self.in_field(node.positive, field), self.in_field(node.negative, field))
        return type(node)(tuple(self.in_field(item, field) for item in node.items))


# --- compiling --------------------------------------------------------------------------------------------


def to_fts5(node: Node) -> str:
    """An FTS5 MATCH expression for ``node`` over the normalised index; :class:`QueryError` when nothing
    searchable is left (a query of punctuation only)."""
    compiled = _compile(node)
    if compiled is None:
        raise QueryError(f"query {describe(node)!r} has no words to search for")
    return compiled


def _quote(terms: tuple[str, ...]) -> str:
    return '"' + " ".join(terms).replace('"', '""') + '"'


def _in_column(field: str | None, expression: str) -> str:
    return expression if field is None else f"{field} : {expression}"


def searched_as_prefix(word: Word, alternatives: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``word`` (whose :func:`monitor.textnorm.query_alternatives` are ``alternatives``) is searched
    as the prefix of its first form: written with ``*``, or one character of a script indexed as bigrams."""
    first = alternatives[0]
    return word.prefix or (len(alternatives) == 1 and len(first) == 1 and textnorm.is_unigram(first[0]))


def _compile(node: Node) -> str | None:
    if isinstance(node, Word | Phrase):
        alternatives = textnorm.query_alternatives(node.text)
        if not alternatives:
            return None
        if isinstance(node, Word) and searched_as_prefix(node, alternatives):
            # the beginning of a word as written: a stem is rarely the beginning of what the user typed
            return _in_column(node.field, _quote(alternatives[0]) + " *")
        phrases = [_quote(terms) for terms in alternatives]
        return _in_column(node.field, phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")")
    if isinstance(node, Not):
        positive = _compile(node.positive)
        negative = _compile(node.negative)
        if positive is None or negative is None:
            return positive
        return f"({positive} NOT {negative})"
    parts = [part for part in (_compile(item) for item in node.items) if part is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(parts) + ")"


# --- describing -------------------------------------------------------------------------------------------


def describe(node: Node) -> str:
    """The canonical text of ``node``: what the parser understood, fully parenthesised."""
    if isinstance(node, Word):
        return (f"{node.field}:" if node.field else "") + node.text + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return (f"{node.field}:" if node.field else "") + '"' + node.text + '"'
    if isinstance(node, Not):
        return f"{_describe_operand(node.positive)} NOT {_describe_operand(node.negative)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(_describe_operand(item) for item in node.items)


def _describe_operand(node: Node) -> str:
    return describe(node) if isinstance(node, Word | Phrase) else f"({describe(node)})"
