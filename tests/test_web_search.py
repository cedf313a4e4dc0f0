"""Under `monitor serve`, Datasette's search box finds the same articles as `monitor search` for the same
query, in every script (issue 13): a real server on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor import Archive
from test_search_scripts import ARTICLES, ONE_WORD, PUNCTUATION, article, commit, open_archive
from test_web import Served, browser_dom, start_serve
from tests.support.newssite import stop_process, write_config

QUERIES = [
    *(query for query, _ in ONE_WORD),
    *PUNCTUATION,
    "مقاوم*",
    "title:地震",
    "马杜罗 OR 집회 OR flood",
    '"heavy floods"',
    "Bogota NOT metro",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    folder = tmp_path_factory.mktemp("web-search")
    path = folder / "scripts.db"
    archive = open_archive(path)
    commit(archive, *(article(key, n) for n, key in enumerate(ARTICLES)))
    archive.close()
    config = folder / "c.yaml"
    write_config(config, [{"id": "outlet", "feed": "https://outlet.example/feed"}], archive=path)
    running = start_serve(config)
    try:
        yield running, path
    finally:
        stop_process(running.process)


def datasette_ids(served: Served, query: str) -> list[int]:
    response = httpx.get(
        f"{served.base}/scripts/articles.json",
        params={"_search": query, "_shape": "array", "_col": "id", "_size": "max"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return sorted(row["id"] for row in response.json())


@pytest.mark.parametrize("query", QUERIES)
def test_the_search_box_finds_what_monitor_search_finds(served: tuple[Served, Path], query: str) -> None:
    running, path = served
    with Archive(path) as archive:
        expected = sorted(hit.id for hit in archive.search(query, limit=100))
    assert expected  # every query here finds something
    assert datasette_ids(running, query) == expected


def test_canned_queries_and_sql_use_the_same_language(served: tuple[Served, Path]) -> None:
    running, path = served
    per_day = httpx.get(
        f"{running.base}/scripts/articles_per_outlet_per_day.json",
        params={"q": "马杜罗 OR مقاومة", "since": "2000-01-01", "_shape": "array"},
        timeout=30,
    ).json()
    assert sum(row["articles"] for row in per_day) == 2
    sql = "select rowid from articles_fts where articles_fts match monitor_match(:q) order by rowid"
    rows = httpx.get(
        f"{running.base}/scripts.json", params={"sql": sql, "q": "집회", "_shape": "array"}, timeout=30
    ).json()
    with Archive(path) as archive:
        assert [row["rowid"] for row in rows] == [hit.id for hit in archive.search("집회")]


def test_a_query_that_does_not_parse_is_an_error_not_a_page_of_everything(
    served: tuple[Served, Path],
) -> None:
    running, _ = served
    response = httpx.get(
        f"{running.base}/scripts/articles.json",
        params={"_search": "maduro AND (", "_shape": "array"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "the parenthesis at position 11 is never closed" in response.text


def test_a_real_browser_finds_a_chinese_word_through_the_search_page(
    served: tuple[Served, Path], tmp_path: Path
) -> None:
    running, _ = served
    search = "%E9%A9%AC%E6%9D%9C%E7%BD%97"  # 马杜罗
    dom = browser_dom(f"{running.base}/scripts/articles?_search={search}", tmp_path / "profile")
    assert 'name="_search"' in dom and "马杜罗" in dom
    assert ARTICLES["zh"][0] in dom and "1 row" in dom
    assert ARTICLES["ja"][0] not in dom
