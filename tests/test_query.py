"""monitor's query language: the tree of each construct, its errors, and what it compiles to for FTS5."""

from __future__ import annotations

import sqlite3
import string
from collections.abc import Iterator

import pytest

from monitor.errors import QueryError, QuerySyntaxError
from monitor.query import FIELDS, And, Node, Not, Or, Phrase, Word, describe, parse, to_fts5
from monitor.textnorm import FTS5_TOKENIZE, index_text


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("maduro", Word("maduro")),
        ("maduro iran", And((Word("maduro"), Word("iran")))),
        ("maduro AND iran", And((Word("maduro"), Word("iran")))),
        ("Maduro AND (Iran OR Tehran)", And((Word("Maduro"), Or((Word("Iran"), Word("Tehran")))))),
        ('"exact phrase"', Phrase("exact phrase")),
        ("title:maduro", Word("maduro", field="title")),
        ("Title:maduro", Word("maduro", field="title")),
        ('title:"nicolás maduro"', Phrase("nicolás maduro", field="title")),
        ("title: maduro", Word("maduro", field="title")),
        ("body:iran", Word("iran", field="text")),
        ("text:iran", Word("iran", field="text")),
        (
            "title:(iran OR tehran NOT nuclear)",
            Or((Word("iran", "title"), Not(Word("tehran", "title"), Word("nuclear", "title")))),
        ),
        ("floo*", Word("floo", prefix=True)),
        ("title:floo*", Word("floo", field="title", prefix=True)),
        ("maduro NOT iran", Not(Word("maduro"), Word("iran"))),
        ("maduro and iran", And((Word("maduro"), Word("and"), Word("iran")))),  # lower case is a word
        ("not or", And((Word("not"), Word("or")))),
        ("NEAR", Word("NEAR")),
        ("al-Assad", Word("al-Assad")),
        ("covid-19", Word("covid-19")),
        ("U.S.", Word("U.S.")),
        ("Assad's", Word("Assad's")),
        ("e-mail", Word("e-mail")),
        ("http://example.com/a", Word("http://example.com/a")),
        ("10:30", Word("10:30")),
        ("std::vector", Word("std::vector")),
        ("title:http://x", Word("http://x", field="title")),
        ("title:AND", Word("AND", field="title")),
        ("a^b c+d -e", And((Word("a^b"), Word("c+d"), Word("-e")))),
        ("马杜罗 地震", And((Word("马杜罗"), Word("地震")))),
        ("((maduro))", Word("maduro")),
    ],
)
def test_tree(query: str, tree: Node) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        # NOT binds tightest, then AND (written or implicit), then OR, as in FTS5
        ("a b OR c", "(a AND b) OR c"),
        ("a OR b c", "a OR (b AND c)"),
        ("a OR b AND c", "a OR (b AND c)"),
        ("a NOT b c", "(a NOT b) AND c"),
        ("a b NOT c", "a AND (b NOT c)"),
        ("a NOT b NOT c", "(a NOT b) NOT c"),
        ("a NOT b OR c", "(a NOT b) OR c"),
        ("(a OR b) NOT c", "(a OR b) NOT c"),
        ("a NOT (b OR c)", "a NOT (b OR c)"),
        ('title:"a b" body:c*', 'title:"a b" AND text:c*'),
    ],
)
def test_precedence(query: str, canonical: str) -> None:
    assert describe(parse(query)) == canonical
    assert parse(describe(parse(query))) == parse(query)  # the canonical form reads back the same


@pytest.mark.parametrize(
    ("query", "position", "message"),
    [
        ("", 0, "the query is empty"),
        ("   ", 0, "the query is empty"),
        ("maduro AND", 7, "query 'maduro AND': AND at position 7 needs a term after it"),
        ("maduro OR", 7, "OR at position 7 needs a term after it"),
        ("AND maduro", 0, "AND at position 0 needs a term before it"),
        ("NOT", 0, "NOT at position 0 needs a term before it (NOT is binary: a NOT b)"),
        ("NOT iran", 0, "NOT at position 0 needs a term before it"),
        ("maduro NOT", 7, "NOT at position 7 needs a term after it"),
        ("a AND OR b", 2, "AND at position 2 needs a term after it"),
        ('"hello', 0, "the quote at position 0 is never closed"),
        ('a "b" "c', 6, "the quote at position 6 is never closed"),
        ("talks AND (", 10, "the parenthesis at position 10 is never closed"),
        ("(a OR b", 0, "the parenthesis at position 0 is never closed"),
        ("a OR b)", 6, "unmatched ')' at position 6"),
        ("a ()", 2, "empty parentheses at position 2"),
        ("(a OR)", 3, "OR at position 3 needs a term after it"),
        ("title:", 0, "title: at position 0 needs a term after it"),
        ("x title: OR y", 2, "title: at position 2 needs a term after it"),
        ("foo:bar", 0, "unknown field 'foo' at position 0; the fields are title, text, body (= text)"),
        ("a:b", 0, "unknown field 'a'"),
        ("x author:(smith)", 2, "unknown field 'author' at position 2"),
        ('x author:"smith"', 2, "unknown field 'author' at position 2"),
        ("title:(text:x)", 0, "text: inside title: at position 0 can match nothing"),
        ("NEAR(a b, 3)", 0, "NEAR(...) at position 0 is not supported"),
        ("{title text}: x", 0, "column sets {...}: at position 0 are not supported"),
    ],
)
def test_syntax_errors_name_the_position(query: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position
    assert caught.value.query == query
    assert message in str(caught.value)
    assert isinstance(caught.value, QueryError)


@pytest.mark.parametrize("query", ["*", "- ^", "... AND !!", '""', "title:-"])
def test_a_query_without_words_is_an_error(query: str) -> None:
    node = parse(query)
    with pytest.raises(QueryError, match="has no words to search for"):
        to_fts5(node)


@pytest.mark.parametrize(
    ("query", "fts5"),
    [
        ("maduro", '"maduro"'),
        ("floods", '("floods" OR "flood")'),
        ("Maduro AND (Iran OR Tehran)", '("maduro" AND ("iran" OR "tehran"))'),
        ('"exact phrase"', '"exact phrase"'),
        ('"the floods came"', '("the floods came" OR "the flood came")'),
        ("title:maduro", 'title : "maduro"'),
        ("body:floods", 'text : ("floods" OR "flood")'),
        ("floo*", '"floo" *'),
        ("al-Ass*", '"al ass" *'),
        ("al-Assad", '"al assad"'),
        ("covid-19", '"covid 19"'),
        ("U.S.", '"u s"'),
        ("Assad's", '"assad s"'),
        ("马杜罗", '"马杜 杜罗"'),
        ("美", '"美" *'),
        ("مقاومة", '"مقاومه"'),
        ("maduro NOT iran", '("maduro" NOT "iran")'),
        ("maduro NOT ---", '"maduro"'),  # a negation without words is dropped, not the query
        ("--- NOT maduro", None),
        ("a - b", '("a" AND "b")'),
    ],
)
def test_compiled(query: str, fts5: str | None) -> None:
    if fts5 is None:
        with pytest.raises(QueryError):
            to_fts5(parse(query))
    else:
        assert to_fts5(parse(query)) == fts5


def test_fields() -> None:
    assert FIELDS == ("title", "text")


@pytest.fixture
def index() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, text, tokenize = {FTS5_TOKENIZE!r})")
    rows = [
        (1, "Maduro meets Iran's envoy", "Talks in Caracas with Tehran on oil.", "en"),
        (2, "Maduro in Havana", "The president flew to Cuba.", "en"),
        (3, "Floods in Tehran", "Heavy rain flooded the capital of Iran.", "en"),
        (4, "Al-Assad receives U.S. envoy", "The COVID-19 talks were held by e-mail.", "en"),
    ]
    for rowid, title, text, language in rows:
        db.execute(
            "INSERT INTO docs (rowid, title, text) VALUES (?, ?, ?)",
            [rowid, index_text(title, language), index_text(text, language)],
        )
    yield db
    db.close()


def matches(db: sqlite3.Connection, query: str) -> list[int]:
    return [
        row[0]
        for row in db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rowid", [to_fts5(parse(query))]
        )
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the examples of README, config and the tests keep their meaning
        ("Maduro AND (Iran OR Tehran)", [1]),
        ("maduro AND iran", [1]),
        ("Maduro AND Iran", [1]),
        ("maduro iran", [1]),
        ("Maduro", [1, 2]),
        ('"the president flew"', [2]),
        ('"president the flew"', []),
        ("title:maduro", [1, 2]),
        ("title:iran", [1]),
        ("text:iran", [3]),
        ("title:(havana OR floods)", [2, 3]),
        ("maduro NOT havana", [1]),
        ("iran OR tehran NOT maduro", [1, 3]),
        ("(iran OR tehran) NOT maduro", [3]),
        ("flood", [3]),
        ("presid*", [2]),
        ("Tehr*", [1, 3]),
        ("al-Assad", [4]),
        ("U.S.", [4]),
        ("covid-19", [4]),
        ("e-mail", [4]),
        ("Iran's", [1]),
        ("title:U.S. envoy", [4]),
        ("maduro and iran", []),  # lower-case "and" is a word, which no article has
    ],
)
def test_queries_on_a_real_fts5_index(index: sqlite3.Connection, query: str, expected: list[int]) -> None:
    assert matches(index, query) == expected


HOSTILE = [
    *string.punctuation,
    *(f"a{char}b" for char in string.punctuation),
    *(f"{char}word" for char in string.punctuation),
    *(f"word{char}" for char in string.punctuation),
    "NEAR",
    "near(a b)",
    "a + b",
    "^maduro",
    "-iran",
    "col:x",
    "x:",
    "a OR OR b",
    'title:"',
    "((a)",
    "a))",
    "* AND *",
    "AND",
    "OR NOT",
    "\x00 \x1a",
    "𝕏 ｘ ①",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_compile_to_valid_fts5_or_raise_query_error(
    index: sqlite3.Connection, query: str
) -> None:
    try:
        compiled = to_fts5(parse(query))
    except QueryError:
        return
    index.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [compiled]).fetchall()  # FTS5 accepts it
