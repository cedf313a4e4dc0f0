"""The Python API and the deeper search filters, on a real archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitor import Archive
from monitor.cli import cli
from monitor.errors import NotFoundError, QueryError
from monitor.models import SearchHit
from newssite import NewsServer, add_fixture_outlet, add_outlets, write_config


def monitor(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def archived(server: NewsServer, tmp_path: Path) -> tuple[Path, Path]:
    sources = [add_fixture_outlet(server), *add_outlets(server, outlets=2, articles=3)]
    sources[1]["tags"] = ["wire"]
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, sources, archive=archive)
    data = yaml.safe_load(config.read_text())
    data["sources"][1]["tags"] = ["wire"]
    config.write_text(yaml.safe_dump(data))
    assert monitor(config, "run", "--once")[0] == 0
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


def test_search_language_tag_count_and_rank_filters(archived: tuple[Path, Path]) -> None:
    config, _ = archived
    french = json.loads(
        monitor(config, "search", "transports OR tram*", "--lang", "fr", "--format", "json")[1]
    )
    assert [hit["language"] for hit in french] == ["fr"]
    wire = json.loads(monitor(config, "search", "talks", "--tag", "wire", "--format", "json")[1])
    assert {hit["source"] for hit in wire} == {"outlet1"} and len(wire) == 3
    assert monitor(config, "search", '"talks continue"', "--count")[1].strip() == "6"
    assert monitor(config, "search", '"talks continue"', "--count", "--tag", "wire")[1].strip() == "3"
    ranked = json.loads(
        monitor(config, "search", "khamenei OR story", "--sort", "rank", "--format", "json")[1]
    )
    assert ranked[0]["title"].startswith("Khamenei")  # the headline match outweighs body matches


def test_search_watch_filter_and_highlights(archived: tuple[Path, Path]) -> None:
    config, _ = archived
    data = yaml.safe_load(config.read_text())
    data["watches"] = [{"id": "venezuela", "query": "venezuela"}]
    config.write_text(yaml.safe_dump(data))
    hits = json.loads(monitor(config, "search", "tehran", "--watch", "venezuela", "--format", "json")[1])
    assert len(hits) == 1 and hits[0]["source"] == "digest"
    assert (
        json.loads(
            monitor(config, "search", '"talks continue"', "--watch", "venezuela", "--format", "json")[1]
        )
        == []
    )
    assert monitor(config, "search", "x", "--watch", "nope")[0] == 2
    marked = json.loads(monitor(config, "search", "tehran", "--highlight", "--format", "json")[1])
    assert "[Tehran]" in marked[0]["snippet"]
    plain = json.loads(monitor(config, "search", "tehran", "--format", "json")[1])
    assert "[" not in plain[0]["snippet"]


def test_sources_opml(archived: tuple[Path, Path]) -> None:
    from xml.etree import ElementTree

    config, _ = archived
    code, out, _ = monitor(config, "sources", "opml")
    outlines = ElementTree.fromstring(out).findall("./body/outline")
    assert code == 0 and [o.get("text") for o in outlines][:2] == ["Regional Digest", "Outlet 1 News"]
    assert (
        outlines[1].get("xmlUrl", "").endswith("/outlet1/atom.xml") and outlines[1].get("category") == "wire"
    )


def test_tail_prints_the_newest_then_follows(archived: tuple[Path, Path], server: NewsServer) -> None:
    import subprocess
    import sys
    import time

    config, _ = archived
    code, out, _ = monitor(config, "tail", "-n", "2", "--format", "jsonl")
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
        assert monitor(config, "run", "--once", "--source", "outlet3")[0] == 0
        lines = [json.loads(follower.stdout.readline()) for _ in range(2)]  # type: ignore[union-attr]
        assert {line["source"] for line in lines} == {"outlet3"}
    finally:
        follower.terminate()
        follower.communicate(timeout=10)  # reaps it and closes its pipe
