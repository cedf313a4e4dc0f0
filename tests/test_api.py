"""The Python API and the deeper search filters, on a real archive."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from monitor import Archive
from monitor.errors import NotFoundError, QueryError, StoreError
from monitor.models import Attribution, ExportedArticle, SearchHit, field_names
from monitor.store import open_archive
from tests.support.newssite import NewsServer, add_fixture_outlet, add_outlets, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI


@pytest.fixture
def archived(server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI) -> tuple[Path, Path]:
    sources = [add_fixture_outlet(server), *add_outlets(server, outlets=2, articles=3)]
    sources[1]["tags"] = ["wire"]
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    data = yaml.safe_load(config.read_text())
    data["sources"][1]["tags"] = ["wire"]
    config.write_text(yaml.safe_dump(data))
    assert monitor_cli(config, "run", "--once")[0] == 0
    return config, archive


def test_python_api_reads_the_archive(archived: tuple[Path, Path]) -> None:
    _, path = archived
    with Archive(path) as archive:
        hits = archive.search("Maduro AND Iran", since="2020-01-01")
        assert len(hits) == 1 and isinstance(hits[0], SearchHit) and hits[0].source == "digest"
        assert archive.count('"talks continue"') == 6
        assert archive.search("talks", since="1d") == []  # the synthetic stories are from 2024
        article = archive.article(hits[0].id)
        assert article["text"].endswith("Source » almayadeen")
        assert archive.article(hits[0].url)["id"] == hits[0].id
        assert [m["id"] for m in archive.story(hits[0].id)] == [hits[0].id]
        assert archive.revisions(hits[0].id) == []
        assert sum(1 for _ in archive.articles(sources=["outlet1"])) == 3
        assert {row["key"] for row in archive.stats("lang")} == {"en", "fr", "ar"}
        with pytest.raises(NotFoundError):
            archive.article(999999)
        with pytest.raises(QueryError):
            archive.search('"open')


def test_an_article_has_its_lists_and_credit_decoded_as_its_story_has(archived: tuple[Path, Path]) -> None:
    """Issue 15: get_article gave attribution and keywords as JSON text while story() decoded them."""
    _, path = archived
    with Archive(path) as archive:
        (hit,) = archive.search("Maduro AND Iran", since="2020-01-01")
        article = archive.article(hit.id)
        (member,) = (m for m in archive.story(hit.id) if m["id"] == hit.id)
        assert article["attribution"] == member["attribution"]
        assert article["attribution"]["name"] == "almayadeen"
        assert isinstance(article["keywords"], list) and isinstance(article["authors"], list)
    reader = open_archive(path, readonly=True)
    stored = reader.get_article(str(hit.id))
    assert isinstance(stored.attribution, Attribution) and stored.attribution.name == "almayadeen"
    assert isinstance(stored.keywords, tuple) and hit.url in stored.urls
    reader.close()


def test_search_language_tag_count_and_rank_filters(
    archived: tuple[Path, Path], monitor_cli: MonitorCLI
) -> None:
    config, _ = archived
    french = json.loads(
        monitor_cli(config, "search", "transports OR tram*", "--lang", "fr", "--format", "json")[1]
    )
    assert [hit["language"] for hit in french] == ["fr"]
    wire = json.loads(monitor_cli(config, "search", "talks", "--tag", "wire", "--format", "json")[1])
    assert {hit["source"] for hit in wire} == {"outlet1"} and len(wire) == 3
    assert monitor_cli(config, "search", '"talks continue"', "--count")[1].strip() == "6"
    assert monitor_cli(config, "search", '"talks continue"', "--count", "--tag", "wire")[1].strip() == "3"
    ranked = json.loads(
        monitor_cli(config, "search", "khamenei OR story", "--sort", "rank", "--format", "json")[1]
    )
    assert ranked[0]["title"].startswith("Khamenei")  # the headline match outweighs body matches


def test_search_watch_filter_and_highlights(archived: tuple[Path, Path], monitor_cli: MonitorCLI) -> None:
    config, _ = archived
    data = yaml.safe_load(config.read_text())
    data["watches"] = [{"id": "venezuela", "query": "venezuela"}]
    config.write_text(yaml.safe_dump(data))
    hits = json.loads(monitor_cli(config, "search", "tehran", "--watch", "venezuela", "--format", "json")[1])
    assert len(hits) == 1 and hits[0]["source"] == "digest"
    assert (
        json.loads(
            monitor_cli(config, "search", '"talks continue"', "--watch", "venezuela", "--format", "json")[1]
        )
        == []
    )
    assert monitor_cli(config, "search", "x", "--watch", "nope")[0] == 2
    marked = json.loads(monitor_cli(config, "search", "tehran", "--highlight", "--format", "json")[1])
    assert "[Tehran]" in marked[0]["snippet"]
    plain = json.loads(monitor_cli(config, "search", "tehran", "--format", "json")[1])
    assert "[" not in plain[0]["snippet"]


def test_sources_opml(archived: tuple[Path, Path], monitor_cli: MonitorCLI) -> None:
    from xml.etree import ElementTree

    config, _ = archived
    code, out, _ = monitor_cli(config, "sources", "opml")
    outlines = ElementTree.fromstring(out).findall("./body/outline")
    assert code == 0 and [o.get("text") for o in outlines][:2] == ["Regional Digest", "Outlet 1 News"]
    assert (
        outlines[1].get("xmlUrl", "").endswith("/outlet1/atom.xml") and outlines[1].get("category") == "wire"
    )


def test_tail_prints_the_newest_then_follows(
    archived: tuple[Path, Path], server: NewsServer, monitor_cli: MonitorCLI
) -> None:
    import subprocess
    import sys
    import time

    config, _ = archived
    code, out, _ = monitor_cli(config, "tail", "-n", "2", "--format", "jsonl")
    newest = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(newest) == 2 and newest[0]["id"] < newest[1]["id"]
    follower = subprocess.Popen(
        [sys.executable, "-m", "monitor", "-c", str(config), "tail", "-f", "-n", "0", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        time.sleep(1.5)
        data = yaml.safe_load(config.read_text())
        data["sources"] = data["sources"] + add_outlets(server, outlets=3, articles=2)[2:]
        config.write_text(yaml.safe_dump(data))
        assert monitor_cli(config, "run", "--once", "--source", "outlet3")[0] == 0
        lines = [json.loads(follower.stdout.readline()) for _ in range(2)]  # type: ignore[union-attr]
        assert {line["source"] for line in lines} == {"outlet3"}
    finally:
        follower.terminate()
        follower.communicate(timeout=10)  # reaps it and closes its pipe


def test_export_parquet_has_typed_columns_and_the_same_rows(
    archived: tuple[Path, Path], tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    import pyarrow.parquet as pq

    config, _ = archived
    records = [json.loads(line) for line in monitor_cli(config, "export")[1].splitlines()]
    target = tmp_path / "archive.parquet"
    code, _, _ = monitor_cli(config, "export", "--format", "parquet", "-o", str(target))
    assert code == 0 and not list(tmp_path.glob(".*.part"))
    table = pq.read_table(target)
    assert table.column_names == field_names(ExportedArticle)
    assert str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [r["id"] for r in records] and len(rows) == 9
    seed = next(r for r in rows if r["title"].startswith("Khamenei to Maduro"))
    assert seed["attribution"]["name"] == "almayadeen" and isinstance(seed["authors"], list)
    assert seed["published_at"].isoformat().startswith("2022-06-11T10:02:00+00:00")
    json_seed = next(r for r in records if r["id"] == seed["id"])
    assert seed["text"] == json_seed["text"] and seed["story_id"] == json_seed["story_id"]
    code, _, _ = monitor_cli(config, "export", "maduro", "--format", "parquet", "-o", str(target))
    assert code == 0 and pq.read_table(target).num_rows == 1


def test_parquet_streams_in_row_groups_and_never_leaves_half_a_file(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from monitor.parquet import write_parquet

    def records(count: int, fail_at: int | None = None) -> Iterator[dict[str, object]]:
        for number in range(count):
            if number == fail_at:
                raise RuntimeError("disk went away")
            yield {c: None for c in field_names(ExportedArticle)} | {
                "id": number, "authors": [], "keywords": ["k"], "fetched_at": "2024-06-01T00:00:00Z"}  # fmt: skip

    target = tmp_path / "t.parquet"
    seen: list[int] = []
    assert write_parquet(records(7), target, batch_rows=3, progress=seen.append) == 7
    assert pq.ParquetFile(target).metadata.num_row_groups == 3 and seen == [3, 3, 1]
    with pytest.raises(RuntimeError):
        write_parquet(records(7, fail_at=5), tmp_path / "broken.parquet", batch_rows=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]  # no partial file either
    assert write_parquet(records(0), tmp_path / "empty.parquet") == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_export_parquet_needs_a_file_and_pyarrow(
    archived: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitor_cli: MonitorCLI
) -> None:
    config, _ = archived
    code, _, err = monitor_cli(config, "export", "--format", "parquet")
    assert code == 2 and "-o FILE" in err
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # an install without the extra
    code, _, err = monitor_cli(config, "export", "--format", "parquet", "-o", str(tmp_path / "x.parquet"))
    assert code == 1 and "pip install 'monitor[parquet]'" in err and not (tmp_path / "x.parquet").exists()


def test_search_and_export_write_lists_in_csv_the_same_way_as_json_arrays(
    archived: tuple[Path, Path], monitor_cli: MonitorCLI
) -> None:
    """Issue 15: `search --format csv` joined lists with ", " while `export --format csv` wrote JSON arrays."""
    import csv
    import io

    config, _ = archived
    code, out, _ = monitor_cli(config, "search", "talks OR maduro", "--format", "csv", "--limit", "50")
    searched = {row["id"]: row for row in csv.DictReader(io.StringIO(out))}
    code_export, out, _ = monitor_cli(config, "export", "talks OR maduro", "--format", "csv")
    exported = {row["id"]: row for row in csv.DictReader(io.StringIO(out))}
    assert code == code_export == 0 and searched and searched.keys() == exported.keys()
    assert any(json.loads(row["authors"]) for row in exported.values())
    for key, row in searched.items():
        assert isinstance(json.loads(row["authors"]), list)
        assert row["authors"] == exported[key]["authors"]


def test_the_api_and_the_cli_read_a_moment_with_one_function(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    """Issue 15: `cli._when` and `api._moment` parsed the same moments with two copies of one regex (and the
    API refused the spaces the CLI forgave)."""
    from datetime import UTC, datetime, timedelta

    from monitor.moments import parse_moment

    now = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    assert parse_moment("7d", now=now) == now - timedelta(days=7)
    assert parse_moment(" 1.5h ", now=now) == now - timedelta(hours=1.5)
    assert parse_moment(" 2024-06-01 ", now=now) == datetime(2024, 6, 1, tzinfo=UTC)
    assert parse_moment("2024-06-01T12:00+02:00", now=now) == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)
    for bad in ("0d", "999999999999d", "yesterday", "2024-13-45", ""):
        with pytest.raises(ValueError):
            parse_moment(bad, now=now)
    open_archive(tmp_path / "a.db").close()
    with Archive(tmp_path / "a.db") as archive:
        assert archive.search("x", since=" 2024-06-01 ") == []
        with pytest.raises(ValueError):
            archive.search("x", since="yesterday")


def test_export_on_a_terminal_counts_first_for_its_progress_bar(
    archived: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitor_cli: MonitorCLI
) -> None:
    import monitor.cli.reading

    monkeypatch.setattr(monitor.cli.reading, "progress_wanted", lambda output: True)
    config, _ = archived
    target = tmp_path / "all.jsonl"
    code, _, err = monitor_cli(config, "export", "-o", str(target))
    assert code == 0 and "exporting" in err and len(target.read_text().splitlines()) == 9


def test_a_file_that_is_not_an_archive_is_refused_with_a_store_error(tmp_path: Path) -> None:
    """Opened for reading, a file that is not SQLite (or a half-made archive) is a StoreError naming the file,
    never a raw sqlite3 error escaping the store."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the pages you are looking for\n" * 200)
    with pytest.raises(StoreError, match=r"cannot open archive .*notes\.db"):
        open_archive(path, readonly=True)


def test_the_api_takes_a_postgresql_url_as_a_url_and_never_shows_its_password(tmp_path: Path) -> None:
    """A URL given to monitor.Archive reaches the store as a URL (it was made a Path: the refusal then named
    a file 'postgresql:/bob:hunter2@...', password and all)."""
    with pytest.raises(StoreError) as refused:
        Archive(f"postgresql://bob:hunter2@/news?host={tmp_path / 'no-server'}")  # a socket: no network
    assert "cannot connect" in str(refused.value) and "postgresql://bob:***@/news" in str(refused.value)
    assert "hunter2" not in str(refused.value) and list(tmp_path.iterdir()) == []
