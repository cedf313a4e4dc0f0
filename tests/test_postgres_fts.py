"""Full-text search on PostgreSQL (issue 16, D53): the tsvector and tsquery literals, and parity with SQLite:
one corpus in many scripts archived through the real SQLite store and indexed in PostgreSQL, and every
query finds the same set of articles on both."""

from __future__ import annotations

import sqlite3
import string
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from monitor.errors import QueryError
from monitor.models import SearchQuery
from monitor.query import parse
from monitor.store import SQLiteArchive
from monitor.store.postgres import fts
from monitor.store.postgres.schema import migrate
from test_fts_index import commit, open_archive
from test_query import HOSTILE
from test_search_scripts import ARTICLES, LANGUAGE
from tests.support.builders import T0
from tests.support.builders import article as built_article

# (title, text, language): test_search_scripts' article per script, test_query's four, and a few more
CORPUS: list[tuple[str, str, str | None]] = [
    *((title, text, LANGUAGE[key]) for key, (title, text) in ARTICLES.items()),
    ("Maduro meets Iran's envoy", "Talks in Caracas with Tehran on oil.", "en"),
    ("Maduro in Havana", "The president flew to Cuba.", "en"),
    ("Floods in Tehran", "Heavy rain flooded the capital of Iran.", "en"),
    ("Al-Assad receives U.S. envoy", "The COVID-19 talks were held by e-mail.", "en"),
    ("Hochwasser im Tal", "Die floods kamen nach drei Tagen Regen.", "de"),  # not English: no stems
    ("The valley braces for heavy", "floods are expected by the weekend.", "en"),  # no phrase across
    ("马杜罗访问莫斯科", "总统在克里姆林宫举行会谈。", "zh"),  # the name in the title only
    ("美", "美国与委内瑞拉恢复对话。", "zh"),  # a one-character title
    ("Nouvelles de Bogotá", "Le maire de Bogota a présenté un plan.", "fr"),
    ("المقاومة في الجنوب", "وقالت مصادر إن الوفد وصل إلى بيروت.", "ar"),
    ("Untitled", "it's O'Brien's back\\slash day: 10:30 at http://example.com/a", None),
]

QUERIES = [
    # one word per script (test_search_scripts)
    "马杜罗",
    "地震",
    "집회",
    "น้ำท่วม",
    "مقاومة",
    "كويتي",
    "переговоры",
    "बारिश",
    "flood",
    "Bogota",
    "BOGOTÁ",
    "al-Assad",
    "covid-19",
    "U.S.",
    "Assad's",
    # normalisation on both sides
    "المقاومة",
    "والمقاومة",
    "كويتى",
    "كُويتي",
    "کویتی",
    "floods",
    "flooding",
    "flooded",
    "ПЕРЕГОВОРЫ",
    "馬杜罗",
    "杜罗周",
    "罗加",
    "집회가",
    "title:地震",
    "text:地震",
    "title:马杜罗",
    "text:马杜罗",
    "马杜罗 AND 伊朗",
    "马杜罗 NOT 伊朗",
    "马杜罗 OR 地震",
    '"heavy floods"',
    '"floods heavy"',
    '"heavy flood"',
    "flo*",
    "مقاوم*",
    "美",
    "title:美",
    "委*",
    # test_query's examples
    "Maduro AND (Iran OR Tehran)",
    "maduro iran",
    "Maduro",
    '"the president flew"',
    '"president the flew"',
    "title:maduro",
    "title:iran",
    "text:iran",
    "body:iran",
    "title:(havana OR floods)",
    "title:(iran OR tehran NOT nuclear)",
    "maduro NOT havana",
    "iran OR tehran NOT maduro",
    "(iran OR tehran) NOT maduro",
    "presid*",
    "Tehr*",
    "title:Tehr*",
    "text:Tehr*",
    "al-Ass*",
    "e-mail",
    "Iran's",
    "title:U.S. envoy",
    'title:"u.s. envoy"',
    'text:"heavy floods"',
    "maduro and iran",
    "maduro NOT ---",
    "a - b",
    # punctuation, quoting, fields
    "it's",
    "O'Brien's",
    "back\\slash",
    "10:30",
    "http://example.com/a",
    "\"O'Brien's back\"",
    "title:bogota OR text:bogota",
    "bogota NOT title:noticias",
    "floods NOT (flood AND valley)",
    "(floods OR регион) AND NOT",  # "NOT" alone at the end: a syntax error on both
]


def _sqlite_ids(archive: SQLiteArchive, query: str) -> set[int] | str:
    try:
        return {hit.id for hit in archive.search(SearchQuery(query=query, limit=1000))}
    except QueryError as exc:
        return f"QueryError: {exc}"


def _postgres_ids(conn: psycopg.Connection[tuple[object, ...]], query: str) -> set[int] | str:
    try:
        return fts.match_ids(conn, query)
    except QueryError as exc:
        return f"QueryError: {exc}"


@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SQLiteArchive, Path]]:
    """The corpus archived through the real store (its poll writes the FTS5 index)."""
    path = tmp_path_factory.mktemp("parity") / "a.db"
    archive = open_archive(path)
    articles = [
        replace(built_article(n, text), title=title, language=language)
        for n, (title, text, language) in enumerate(CORPUS)
    ]
    assert len(commit(archive, *articles)) == len(CORPUS)
    yield archive, path
    archive.close()


@pytest.fixture
def postgres(
    postgres_db: str, sqlite_archive: tuple[SQLiteArchive, Path]
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """The same articles (ids, title, text, language as SQLite stored them) indexed in PostgreSQL."""
    _, path = sqlite_archive
    db = sqlite3.connect(path)
    stored = db.execute("SELECT id, url, title, text, language FROM articles ORDER BY id").fetchall()
    db.close()
    assert [row[0] for row in stored] == list(range(1, len(CORPUS) + 1))  # id n + 1 is CORPUS[n]
    with psycopg.connect(postgres_db, autocommit=True) as conn:
        migrate(conn)
        with conn.transaction():
            for article_id, url, *_ in stored:
                conn.execute(
                    "INSERT INTO articles (id, url, source, fetched_at, extraction, content_hash) "
                    "VALUES (%s, %s, 'outlet', %s, 'page', 'x')",
                    [article_id, url, T0],
                )
            fts.index_many(
                conn, [(article_id, title, text, lang) for article_id, _, title, text, lang in stored]
            )
        yield conn


def test_every_query_finds_the_same_articles_on_both_backends(
    sqlite_archive: tuple[SQLiteArchive, Path], postgres: psycopg.Connection[tuple[object, ...]]
) -> None:
    archive, _ = sqlite_archive
    both = {query: (_sqlite_ids(archive, query), _postgres_ids(postgres, query)) for query in QUERIES}
    assert {query: pair for query, pair in both.items() if pair[0] != pair[1]} == {}
    # the corpus exercises the queries: most find something, some find nothing, one is an error
    found = [query for query, (ids, _) in both.items() if isinstance(ids, set) and ids]
    assert len(found) >= len(QUERIES) * 2 // 3
    assert isinstance(both["(floods OR регион) AND NOT"][1], str)


def test_what_the_script_queries_find(postgres: psycopg.Connection[tuple[object, ...]]) -> None:
    """Spot checks against the titles, so that parity cannot pass on two equally broken indexes."""

    def titles(query: str) -> list[str]:
        return [CORPUS[article_id - 1][0] for article_id in sorted(fts.match_ids(postgres, query))]

    assert titles("马杜罗") == ["委内瑞拉总统会见伊朗外长", "马杜罗访问莫斯科"]
    assert titles("title:马杜罗") == ["马杜罗访问莫斯科"]
    assert titles("flood") == ["Valley news", "Floods in Tehran", "The valley braces for heavy"]
    assert titles("floods") == [
        "Valley news",
        "Floods in Tehran",
        "Hochwasser im Tal",
        "The valley braces for heavy",
    ]
    assert titles('"heavy floods"') == ["Valley news"]  # not across the title and the text
    assert titles("مقاومة") == ["بيان في غزة", "المقاومة في الجنوب"]
    assert titles("Bogota") == ["Noticias de Colombia", "Nouvelles de Bogotá"]
    assert titles("al-Assad") == ["Syria statement", "Al-Assad receives U.S. envoy"]


@pytest.mark.parametrize(
    ("query", "tsquery"),
    [
        ("maduro", "'maduro'"),
        ("floods", "('floods' | 'flood')"),
        ("Maduro AND (Iran OR Tehran)", "('maduro' & ('iran' | 'tehran'))"),
        ('"the floods came"', "(('the' <-> 'floods' <-> 'came') | ('the' <-> 'flood' <-> 'came'))"),
        ("title:maduro", "'maduro':A"),
        ("body:floods", "('floods':B | 'flood':B)"),
        ("floo*", "'floo':*"),
        ("title:floo*", "'floo':*A"),
        ("al-Ass*", "('al' <-> 'ass':*)"),
        ("U.S.", "('u' <-> 's')"),
        ("马杜罗", "('马杜' <-> '杜罗')"),
        ("美", "'美':*"),
        ("مقاومة", "'مقاومه'"),
        ("maduro NOT iran", "('maduro' & !'iran')"),
        ("maduro NOT ---", "'maduro'"),
        ("title:(iran OR tehran NOT nuclear)", "('iran':A | ('tehran':A & !'nuclear':A))"),
    ],
)
def test_compiled(query: str, tsquery: str) -> None:
    assert fts.to_tsquery(parse(query)) == tsquery


@pytest.mark.parametrize("query", ["*", "- ^", '""', "--- NOT maduro"])
def test_a_query_without_words_is_an_error(query: str) -> None:
    with pytest.raises(QueryError, match="has no words to search for"):
        fts.tsquery_string(query)


def test_the_document_weights_title_and_text_apart() -> None:
    assert fts.document("Floods in Tehran", "Heavy rain flooded Tehran.", "en") == (
        "'flood':1A,7B 'in':2A 'tehran':3A,8B 'heavi':5B 'rain':6B"
    )
    assert fts.document(None, "it's", None) == "'it':1B 's':2B"
    assert fts.document("", "", "en") == ""


def test_hostile_queries_compile_to_a_valid_tsquery_or_raise_query_error(
    postgres: psycopg.Connection[tuple[object, ...]],
) -> None:
    compiled = 0
    for query in HOSTILE:
        try:
            tsquery = fts.tsquery_string(query)
        except QueryError:
            continue
        postgres.execute("SELECT count(*) FROM articles_fts WHERE document @@ %s::tsquery", [tsquery])
        compiled += 1
    assert compiled > len(HOSTILE) // 2


def test_the_gin_index_answers_a_match(postgres: psycopg.Connection[tuple[object, ...]]) -> None:
    postgres.execute("SET enable_seqscan = off")  # a table this small would be scanned otherwise
    plan = postgres.execute(
        "EXPLAIN SELECT article_id FROM articles_fts WHERE articles_fts.document @@ %s::tsquery",
        [fts.tsquery_string("马杜罗 OR title:flo*")],
    ).fetchall()
    assert "articles_fts_document" in " ".join(str(row[0]) for row in plan)


def test_lexemes_are_quoted() -> None:
    assert fts._lexeme("o'brien") == "'o''brien'"
    assert fts._lexeme("a\\b") == "'a\\\\b'"
    # what textnorm emits never needs it, but a term is data, never syntax
    assert fts.to_tsquery(parse("x")).startswith("'")


def test_an_edit_indexes_the_article_again(postgres: psycopg.Connection[tuple[object, ...]]) -> None:
    assert 18 in fts.match_ids(postgres, "马杜罗")  # 马杜罗访问莫斯科
    fts.index(postgres, 18, "新的标题：地震", "委内瑞拉副总统罗德里格斯在莫斯科。", "zh")
    assert 18 in fts.match_ids(postgres, "title:地震")
    assert 18 not in fts.match_ids(postgres, "马杜罗")


def test_postgres_limits_on_long_texts(postgres: psycopg.Connection[tuple[object, ...]]) -> None:
    """Known difference: PostgreSQL keeps positions up to 16,383, so a phrase beyond is not found on it
    (its words are); a term over 2,046 bytes is not indexed, and a query for one is refused."""
    filler = " ".join(string.ascii_lowercase[n % 26] * 3 for n in range(17_000))
    postgres.execute(
        "INSERT INTO articles (id, url, source, fetched_at, extraction, content_hash) "
        "VALUES (100, 'https://outlet.example/long', 'outlet', %s, 'page', 'x')",
        [T0],
    )
    fts.index(postgres, 100, "Long", f"{filler} zephyr quarry {'x' * 3000}", "en")
    assert 100 in fts.match_ids(postgres, "zephyr quarry")
    assert 100 not in fts.match_ids(postgres, '"zephyr quarry"')
    with pytest.raises(QueryError, match="too long"):
        fts.match_ids(postgres, "x" * 3000)
