"""Raw pages kept in the archive, `monitor reextract`, `monitor stats` and `monitor extract`."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import zstandard

from monitor.store import open_archive
from tests.support.archive import articles, reader
from tests.support.newssite import FIXTURES, NewsServer, add_fixture_outlet, add_outlets, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI


def test_reextract_restores_text_and_metadata_in_place_and_twice_changes_nothing(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(
        config, [add_fixture_outlet(server), *add_outlets(server, outlets=1, articles=3)], archive=archive
    )
    assert monitor_cli(config, "run", "--once")[0] == 0
    with reader(archive) as archived:
        assert archived.sizes().raw_pages == 6
        kept = archived.raw_pages(archived.reextract_ids())
        before = articles(archived)
    assert len(kept) == 6 and {page.compression for page in kept} == {"zstd"}
    good = {article.id: article.text for article in before}
    titles = {article.id: article.title for article in before}
    with sqlite3.connect(archive) as db:  # rows spoilt by hand: no writer method does that
        # pages kept before zstd (D37) are gzip: two such rows must read as well
        for stored in kept[:2]:
            page = zstandard.ZstdDecompressor().decompress(stored.body)
            db.execute(
                "UPDATE raw_pages SET compression = 'gzip', body = ? WHERE article_id = ?",
                [gzip.compress(page), stored.article_id],
            )
        # an older, worse extractor made these; an edit by hand is indexed when the search index is rebuilt
        db.execute("UPDATE articles SET text = 'garbled', title = NULL, extractor = 'old'")
        db.execute("DELETE FROM search_index")
    open_archive(archive).close()
    assert monitor_cli(config, "search", "garbled", "--format", "json")[1].count('"id"') == 6
    code, _, err = monitor_cli(config, "reextract")
    assert code == 0 and "re-extracted 6 articles: 6 changed" in err
    with reader(archive) as archived:
        after = articles(archived)
    assert {article.id: article.text for article in after} == good
    assert {article.id: article.title for article in after} == titles
    versions = {article.extractor for article in after}
    assert versions != {"old"} and len(versions) == 1
    assert json.loads(monitor_cli(config, "search", "garbled", "--format", "json")[1]) == []  # FTS followed
    assert json.loads(monitor_cli(config, "search", "almayadeen", "--format", "json")[1])
    code, _, err = monitor_cli(config, "reextract")
    assert "re-extracted 0 articles: 0 changed" in err  # resumable: nothing left to do
    code, _, err = monitor_cli(config, "reextract", "--force", "--source", "digest")
    assert "re-extracted 3 articles: 0 changed" in err  # same extractor, same result


def test_stats_sizes_and_facets(server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, add_outlets(server, outlets=3, articles=4), archive=archive)
    monitor_cli(config, "run", "--once")
    rows = {r["key"]: r["count"] for r in json.loads(monitor_cli(config, "stats", "--format", "json")[1])}
    assert rows["articles"] == 12 and rows["raw pages kept"] == 12 and rows["sources"] == 3
    assert rows["bytes per article"] > rows["bytes per article without raw pages"] > 0
    by_source = json.loads(monitor_cli(config, "stats", "--by", "source", "--format", "json")[1])
    assert by_source == [
        {"key": "outlet1", "count": 4},
        {"key": "outlet2", "count": 4},
        {"key": "outlet3", "count": 4},
    ]
    by_day = json.loads(
        monitor_cli(config, "stats", "--by", "day", "OUT2ART1 OR OUT2ART2", "--format", "json")[1]
    )
    assert sum(row["count"] for row in by_day) == 2 and all(len(row["key"]) == 10 for row in by_day)
    assert json.loads(monitor_cli(config, "stats", "--by", "lang", "--format", "json")[1]) == [
        {"key": "en", "count": 12}
    ]
    code, out, _ = monitor_cli(config, "stats", "--by", "source")
    assert code == 0 and "outlet1" in out and "█" in out
    assert monitor_cli(config, "stats", "--by", "day", '"unclosed')[0] == 2


def test_extract_command_on_a_file_and_a_url(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "archive: a.db\nhttp: {allow_private_networks: true}\nsources:\n"
        "  - id: custom\n    feed: https://x.example/rss\n    selectors: {title: 'h1', drop: ['.share']}\n"
    )
    seed = FIXTURES / "pages" / "seed_article.html"
    code, out, _ = monitor_cli(config, "extract", str(seed), "--format", "json")
    found = json.loads(out)
    assert code == 0 and found["title"].startswith("Khamenei to Maduro") and found["language"] == "en"
    assert found["attribution"]["name"] == "almayadeen" and found["text"].endswith("Source » almayadeen")
    server.add("/page", seed.read_bytes())
    code, out, _ = monitor_cli(config, "extract", server.url("/page"), "--source", "custom")
    assert code == 0 and "title:" in out and "attribution:   almayadeen" in out
    assert monitor_cli(config, "extract", "nope.html")[0] == 2
    assert monitor_cli(config, "extract", str(seed), "--source", "missing")[0] == 2


def test_export_streams_every_article_with_filters(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    import csv
    import io

    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, add_outlets(server, outlets=2, articles=5), archive=archive)
    monitor_cli(config, "run", "--once")
    code, out, _ = monitor_cli(config, "export")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(records) == 10 and [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert {"text", "authors", "story_id", "attribution", "keywords"} <= set(records[0])
    assert isinstance(records[0]["authors"], list) and records[0]["text"]
    code, out, _ = monitor_cli(config, "export", "OUT1ART2 OR OUT2ART3", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 2 and json.loads(rows[0]["authors"])
    out_file = tmp_path / "o.jsonl"
    assert monitor_cli(config, "export", "--source", "outlet2", "-o", str(out_file))[0] == 0
    assert len(out_file.read_text().splitlines()) == 5
    assert monitor_cli(config, "export", '"unclosed')[0] == 2
    empty = tmp_path / "none.jsonl"
    assert monitor_cli(config, "export", "--since", "2100-01-01", "-o", str(empty))[0] == 0
    assert empty.exists() and empty.read_text() == ""  # a script can rely on the file
