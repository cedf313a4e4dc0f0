"""Search on PostgreSQL reads its matches in the order it shows them (issue 16, D65): ``articles_fts.newest``
(migration 0005) kept in step with the articles by triggers, and every way of reading the next matches (the
walk newest first, the GIN index whole or over windows, pages for collapsed stories) giving what one sort of
every match gives, as search did before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from monitor.models import (
    Article,
    ArticleBatch,
    ArticleFields,
    PollOutcome,
    Recheck,
    Reextraction,
    SearchQuery,
)
from monitor.store.postgres import PostgresArchive, fts, searching
from monitor.store.postgres.queries import _by_the_index
from monitor.store.postgres.schema import MIGRATIONS, migrate
from tests.support.builders import T0, article

pytestmark = pytest.mark.postgres

WORDS = {"every": 1, "half": 2, "third": 3, "seventh": 7, "rare": 23}
"""A word in every n-th article."""
COUNT = 60


def _text(n: int) -> str:
    words = " ".join(word for word, every in WORDS.items() if n % every == 0)
    return f"Story {n} of the harbour town. {words}. The council met again on Tuesday."


def _article(n: int) -> Article:
    base = article(n, _text(n))
    if n % 5 == 0:  # no date of its own: sorted by when it was fetched
        base = replace(base, published_at=None)
    if n % 11 == 0:  # the same moment as another: the id breaks the tie
        base = replace(base, published_at=T0 + timedelta(minutes=n - 1, seconds=60))
    return base


@pytest.fixture
def archive(postgres_db: str) -> Iterator[PostgresArchive]:
    opened = PostgresArchive(postgres_db)
    try:
        articles = [_article(n) for n in range(1, COUNT + 1)]
        articles.append(replace(_article(COUNT + 1), published_at=T0 - timedelta(days=1000)))  # a gap before
        opened.commit_batch(ArticleBatch("outlet", T0, tuple(articles)))
        with psycopg.connect(postgres_db, autocommit=True) as conn:
            conn.execute("UPDATE articles SET story_id = 3 WHERE id IN (6, 9, 12, 15, 18, 21)")  # copies
            conn.execute("ANALYZE")
        yield opened
    finally:
        opened.close()


def _conn(archive: PostgresArchive) -> Any:
    return archive._transaction()  # the tests read the rows beside the archive


def _one_sort(archive: PostgresArchive, query: str, order: str, limit: int) -> list[tuple[int, int]]:
    """(id, story) of the matches as search read them before 0005: every match sorted at once."""
    with _conn(archive) as conn:
        rows = conn.execute(
            "SELECT a.id, coalesce(a.story_id, a.id) FROM articles_fts JOIN articles AS a "
            f"ON a.id = articles_fts.article_id WHERE {fts.MATCH} ORDER BY {order}, a.id DESC LIMIT %s",
            [fts.tsquery_string(query), *([fts.tsquery_string(query)] if "%s" in order else []), limit],
        ).fetchall()
    return [(int(r[0]), int(r[1])) for r in rows]


NEWEST = "coalesce(a.published_at, a.fetched_at) DESC"
RANKED = f"{fts.RANK} DESC, {NEWEST}"
WAYS = {
    "as shipped": {},
    "walk only a little, then the GIN index whole": {"WALK": 2, "MANY": 10**9},
    "walk a little, then the GIN index in windows": {"WALK": 3, "MANY": 0},
    "the GIN index from the first row": {"WALK": 1, "MANY": 0},
    "windows far too narrow, widened": {"WALK": 4, "MANY": 0, "MARGIN": 0.01, "WIDER": 2},
}


QUERIES = [*WORDS, "half third", "half OR rare", "harbour -half", '"harbour town"', '"town harbour"']
QUERIES += ["title:headline", 'harbour NOT "half third"', '"council met" NOT seventh', "text:half third*"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("query", QUERIES)
def test_newest_first_as_one_sort_of_every_match(
    archive: PostgresArchive, monkeypatch: pytest.MonkeyPatch, way: str, query: str
) -> None:
    for name, value in WAYS[way].items():
        monkeypatch.setattr(searching, name, value)
    for limit in (1, 5, 20, 100):
        expected = [article_id for article_id, _ in _one_sort(archive, query, NEWEST, limit)]
        found = archive.search(SearchQuery(query=query, limit=limit))
        assert [hit.id for hit in found] == expected, (query, limit)
    assert archive.count(SearchQuery(query=query)) == len(_one_sort(archive, query, NEWEST, 1000))


def test_a_loose_query_finds_a_superset_read_by_the_index_alone() -> None:
    assert fts.loose_tsquery("half third") is None  # no phrase, no field: the index answers it exactly
    assert fts.loose_tsquery("harbour NOT half") is None
    assert fts.loose_tsquery('"harbour town"') == "('harbour' & 'town')"
    assert fts.loose_tsquery("title:harbour") == "'harbour'"
    assert fts.loose_tsquery('harbour NOT "town hall"') == "'harbour'"  # no phrase excluded by its words


@pytest.mark.parametrize("way", WAYS)
def test_collapsed_stories_as_before(
    archive: PostgresArchive, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    for name, value in WAYS[way].items():
        monkeypatch.setattr(searching, name, value)
    for limit in (1, 2, 4, 30):
        stories: list[int] = []  # each story once, where it first matches among the first 20 x limit rows
        for _, story in _one_sort(archive, "third", NEWEST, limit * 20):
            if story not in stories:
                stories.append(story)
        found = archive.search(SearchQuery(query="third", limit=limit, collapse=True))
        assert [hit.id for hit in found] == stories[:limit]  # the story's original stands for it


@pytest.mark.parametrize("query", ["every", "half", "rare", "half third"])
def test_rank_as_one_sort_when_the_matches_fit_the_window(archive: PostgresArchive, query: str) -> None:
    assert searching.RANK_WINDOW >= COUNT
    expected = [article_id for article_id, _ in _one_sort(archive, query, RANKED, 20)]
    assert [hit.id for hit in archive.search(SearchQuery(query=query, sort="rank"))] == expected


def test_rank_orders_the_newest_matches_of_a_broad_query(
    archive: PostgresArchive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(searching, "RANK_WINDOW", 7)
    newest = [article_id for article_id, _ in _one_sort(archive, "half", NEWEST, 7)]
    ranked = [article_id for article_id, _ in _one_sort(archive, "half", RANKED, 1000)]
    expected = [article_id for article_id in ranked if article_id in newest][:5]
    assert [hit.id for hit in archive.search(SearchQuery(query="half", sort="rank", limit=5))] == expected


def _out_of_step(archive: PostgresArchive) -> list[tuple[int, Any, Any]]:
    with _conn(archive) as conn:
        return conn.execute(
            "SELECT a.id, f.newest, coalesce(a.published_at, a.fetched_at) FROM articles AS a "
            "JOIN articles_fts AS f ON f.article_id = a.id "
            "WHERE f.newest IS DISTINCT FROM coalesce(a.published_at, a.fetched_at)"
        ).fetchall()


def test_an_archive_from_before_0005_gains_the_order_filled(postgres_db: str) -> None:
    with psycopg.connect(postgres_db) as conn:
        with conn.transaction():
            conn.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz)")
            for name, statements in MIGRATIONS[:4]:
                conn.execute(statements)
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", [name])
        conn.execute(
            "INSERT INTO articles (id, url, source, published_at, fetched_at, text, extraction, content_hash) "
            "VALUES (1, 'u1', 's', %s, %s, 'one', 'page', 'h1'), (2, 'u2', 's', NULL, %s, 'two', 'page', 'h2')",
            [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)],
        )
        conn.execute(
            "INSERT INTO articles_fts (article_id, document) VALUES (1, %s::tsvector), (2, %s::tsvector)",
            [fts.document(None, "one", "en"), fts.document(None, "two", "en")],
        )
        conn.commit()
        assert migrate(conn) == ["0005_search_order", "0006_search_pending"]
        rows = conn.execute("SELECT article_id, newest FROM articles_fts ORDER BY article_id").fetchall()
    assert rows == [(1, T0), (2, T0 + timedelta(hours=2))]


def test_the_search_index_keeps_a_short_pending_list(archive: PostgresArchive) -> None:
    """Every search reads the GIN index's whole list of pending entries: held to 1 MB, not 4 (0006, D71)."""
    with archive._transaction() as conn:
        row = conn.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'articles_fts_document'"
        ).fetchone()
    assert row is not None and "gin_pending_list_limit=1024" in row[0]


def test_the_order_follows_a_reextracted_date_and_a_revised_fetch(archive: PostgresArchive) -> None:
    assert _out_of_step(archive) == []
    before = [hit.id for hit in archive.search(SearchQuery(query="rare"))]
    assert before == [46, 23]
    stored = archive.get_article("23")
    fields = {name: getattr(stored, name) for name in ArticleFields.__dataclass_fields__}
    moved = ArticleFields(**(fields | {"published_at": "2026-12-01T00:00:00Z"}))
    archive.apply_reextraction(
        [Reextraction(article_id=23, fields=moved, changed=frozenset({"published_at"}))], version="test"
    )
    assert _out_of_step(archive) == []
    assert [hit.id for hit in archive.search(SearchQuery(query="rare"))] == [23, 46]
    # article 10 has no date of its own: an edit fetched later moves it by its fetch
    edited_text = _text(10) + " rare"
    edited = replace(_article(10), text=edited_text, title="Edited", fetched_at=T0 + timedelta(days=40))
    edited = replace(edited, content_hash=f"edited-{edited.content_hash}")
    result = archive.commit_poll(
        PollOutcome(
            "outlet", T0 + timedelta(days=40), rechecks=(Recheck(10, edited, checks=1, next_check_at=None),)
        )
    )
    assert result.revised == [10]
    assert _out_of_step(archive) == []
    assert [hit.id for hit in archive.search(SearchQuery(query="rare"))] == [10, 23, 46]


def test_a_search_run_again_and_again_is_planned_for_its_own_words(archive: PostgresArchive) -> None:
    """psycopg prepares a statement its connection runs a fifth time, and PostgreSQL may then keep one plan for
    any word: planned for no word in particular, a rare one read every document (2 -> 90 ms a search at 30,000
    articles, D71). A text match's statements are planned for their words every time."""
    matching = ([fts.MATCH], [fts.tsquery_string("rare")])
    with archive._transaction() as conn:
        _by_the_index(conn, "rare")
        for _ in range(12):
            assert [row[0] for row in searching.newest(conn, *matching, 5)] == [46, 23]
        plans = conn.execute(
            "SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%articles_fts.document @@%"],
        ).fetchone()
    assert plans is not None and plans[0] == 0 and plans[1] >= 7  # prepared from the sixth run on
