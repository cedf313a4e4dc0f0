"""One count of matching articles (issue 15: ``count`` and ``count_articles`` did the same job two ways)."""

from __future__ import annotations

from pathlib import Path

from monitor.models import SearchQuery
from test_fts_index import article, commit, open_archive


def test_count_is_every_matching_article_indexed_yet_or_not(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.db")
    ids = commit(archive, *(article(n) for n in range(3)))
    assert archive.count(SearchQuery(query="")) == 3
    assert archive.count(SearchQuery(query="story", sources=("outlet",))) == 3
    assert archive.count(SearchQuery(query="", sources=("elsewhere",))) == 0
    # an article not yet in the search index (as while the index is rebuilt) still counts without a query
    archive.db.execute("DELETE FROM articles_fts WHERE rowid = ?", [ids[0]])
    archive.db.conn.commit()
    assert archive.count(SearchQuery(query="")) == 3
    assert archive.count(SearchQuery(query="story")) == 2
    assert not hasattr(archive, "count_articles")  # the alias went once the CLI's export said count
    archive.close()
