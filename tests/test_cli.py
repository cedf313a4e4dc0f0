from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from monitor.cli import cli

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_teaches_with_an_example(name: str) -> None:
    command = cli.commands[name]
    assert command.help and len(command.help) > 40
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    examples = result.output.split("Example", 1)[1]
    assert any(line.strip().startswith("monitor ") and name in line for line in examples.splitlines())
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"monitor {name} --{param.name} has no help text"


def test_top_level_help_and_version() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "monitor run --once" in result.output
    assert "0.1.0" in CliRunner().invoke(cli, ["--version"]).output


def test_the_version_has_a_module_of_its_own_that_the_cli_and_the_package_read() -> None:
    """Issue 15: `__version__` was imported back from `monitor/__init__.py` (the one arrow running up)."""
    from monitor import __version__
    from monitor._version import __version__ as version

    assert __version__ == version
    cli_sources = Path(__file__).resolve().parents[1] / "src" / "monitor"
    for path in [*cli_sources.glob("cli.py"), *cli_sources.glob("cli/*.py")]:
        assert "from monitor import __version__" not in path.read_text(), path


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "search" in done.stdout


def test_missing_config_is_clear(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(tmp_path / "nope.yaml"), "sources"])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_readers_need_an_archive(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("archive: a.db\nsources: []\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "search", "x"])
    assert result.exit_code == 1 and "no archive" in result.stderr and "monitor run" in result.stderr


def test_validate_prints_resolved_sources(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sources:\n  - {id: a, feed: 'https://a.example/rss', interval: 2h}\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 0 and "a: feed every 7200s https://a.example/rss" in result.output


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "env.yaml"
    config.write_text("sources:\n  - {id: from-env, feed: 'https://a.example/rss'}\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0 and "from-env" in result.output


def test_archive_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("archive: a.db\nsources: []\n")
    monkeypatch.setenv("MONITOR_ARCHIVE", str(tmp_path / "elsewhere.db"))
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 0 and f"archive: {tmp_path / 'elsewhere.db'}" in result.output


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    """A config whose archive exists (empty), for the readers."""
    from monitor.store import SQLiteArchive

    config = tmp_path / "c.yaml"
    config.write_text("archive: a.db\nsources:\n  - {id: a, feed: 'https://a.example/rss'}\n")
    SQLiteArchive(tmp_path / "a.db").close()
    return config


@pytest.mark.parametrize("query", ['"hello', "*", "NEAR(a b, x)", "talks AND (", "title:", "a:b"])
def test_queries_the_language_rejects_exit_2_without_traceback(archived: Path, query: str) -> None:
    result = CliRunner().invoke(cli, ["-c", str(archived), "search", query])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert "at position" in result.stderr or "has no words to search for" in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["0d", "999999999999d", "yesterday", "2024-13-45"])
def test_bad_dates_are_usage_errors(archived: Path, value: str) -> None:
    result = CliRunner().invoke(cli, ["-c", str(archived), "search", "x", "--since", value])
    assert result.exit_code == 2 and "is not a date" in result.stderr


@pytest.mark.parametrize("ident", ["99999999999999999999", "http://[x", "42", "https://nowhere.example/a"])
def test_show_unknown_is_exit_1(archived: Path, ident: str) -> None:
    result = CliRunner().invoke(cli, ["-c", str(archived), "show", ident])
    assert result.exit_code == 1 and "no article" in result.stderr


def test_sources_lists_the_config_even_without_an_archive(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "archive: a.db\nsources:\n  - {id: a, feed: 'https://a.example/rss'}\n"
        "  - {id: b, feed: 'https://b.example/rss', enabled: false}\n"
    )
    result = CliRunner().invoke(cli, ["-c", str(config), "sources", "--format", "json"])
    assert result.exit_code == 0
    states = {row["id"]: row["state"] for row in json.loads(result.output)}
    assert states == {"a": "never polled", "b": "disabled"}
    assert not (tmp_path / "a.db").exists()  # a reader never creates the archive


@pytest.mark.parametrize(
    ("key", "value"),
    [("interval", ".nan"), ("interval", ".inf"), ("interval", "400d"), ("max_bytes", ".inf")],
)
def test_non_finite_and_absurd_config_values_exit_2(tmp_path: Path, key: str, value: str) -> None:
    config = tmp_path / "c.yaml"
    section = "http" if key == "max_bytes" else "defaults"
    config.write_text(f"{section}:\n  {key}: {value}\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 2 and f"{section}.{key}:" in result.stderr


def test_extract_reads_a_saved_page_without_a_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """Issue 15: `monitor extract page.html` refused to run without a config file; it uses the defaults."""
    monkeypatch.chdir(tmp_path)  # no config.yaml here
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    page = data_dir / "pages" / "plain_article.html"
    result = CliRunner().invoke(cli, ["extract", str(page), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    expected = json.loads((data_dir / "pages" / "plain_article.expected.json").read_text())
    assert json.loads(result.stdout)["title"] == expected["title"]
    assert not (tmp_path / "data").exists()  # no archive is created either
    # a config file that exists is read (its sources' selectors apply); one named explicitly must exist
    (tmp_path / "config.yaml").write_text("sources:\n  - {id: a, feed: 'https://a.example/rss'}\n")
    assert CliRunner().invoke(cli, ["extract", str(page), "--source", "a"]).exit_code == 0
    assert CliRunner().invoke(cli, ["extract", str(page), "--source", "b"]).exit_code == 2
    missing = CliRunner().invoke(cli, ["-c", str(tmp_path / "nope.yaml"), "extract", str(page)])
    assert missing.exit_code == 2 and "file not found" in missing.stderr


PG_URL = "postgresql://bob:hunter2@db.example:5432/news"


def test_validate_shows_a_postgresql_archive_redacted_and_makes_no_folder(tmp_path: Path) -> None:
    """Issue 16: the URL was taken as a relative path and printed whole, password included."""
    config = tmp_path / "c.yaml"
    config.write_text(f"archive: {PG_URL}\nsources: []\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "validate"])
    assert result.exit_code == 0 and "archive: postgresql://bob:***@db.example:5432/news\n" in result.output
    assert "hunter2" not in result.output + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize("how", ["--archive", "MONITOR_ARCHIVE"])
def test_the_archive_override_takes_a_postgresql_url(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("archive: a.db\nsources: []\n")
    args = ["--archive", PG_URL] if how == "--archive" else []
    if how == "MONITOR_ARCHIVE":
        monkeypatch.setenv("MONITOR_ARCHIVE", PG_URL)
    result = CliRunner().invoke(cli, [*args, "-c", str(config), "validate"])
    assert result.exit_code == 0 and "archive: postgresql://bob:***@db.example:5432/news\n" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize("how", ["--archive", "MONITOR_ARCHIVE"])
def test_an_override_with_another_scheme_exits_2_naming_where_it_came_from(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("archive: a.db\nsources: []\n")
    url = "mysql://bob:hunter2@db.example/news"
    args = ["--archive", url] if how == "--archive" else []
    if how == "MONITOR_ARCHIVE":
        monkeypatch.setenv("MONITOR_ARCHIVE", url)
    result = CliRunner().invoke(cli, [*args, "-c", str(config), "validate"])
    assert result.exit_code == 2 and f"archive (from {how}): 'mysql://***@db.example/news'" in result.stderr
    assert "hunter2" not in result.output + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize(
    "args",
    [("search", "x"), ("sources",), ("check",), ("tail",), ("stats",), ("reextract",), ("run", "--once")],
)
def test_commands_on_a_postgresql_server_that_is_not_there_say_they_cannot_connect(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    """A unix socket in a folder that does not exist: refused at once, without any network."""
    url = f"postgresql://bob:hunter2@/news?host={tmp_path / 'no-server'}"
    config = tmp_path / "c.yaml"
    config.write_text(f"archive: '{url}'\nsources:\n  - {{id: a, feed: 'https://a.example/rss'}}\n")
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == 1, result.output
    assert "postgresql://bob:***@/news?host=" in result.stderr and "cannot connect" in result.stderr
    assert "hunter2" not in result.output + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.parametrize("args", [(), ("--print-metadata",)])
def test_serve_on_a_postgresql_archive_exits_2_saying_it_reads_sqlite_only(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"archive: {PG_URL}\nsources: []\n")
    result = CliRunner().invoke(cli, ["-c", str(config), "serve", *args])
    assert result.exit_code == 2 and "reads SQLite archives only" in result.stderr
    assert "postgresql://bob:***@db.example:5432/news" in result.stderr and "hunter2" not in result.stderr
