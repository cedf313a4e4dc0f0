"""Where the archive lives (issue 16, item 1): a SQLite file path or a PostgreSQL URL, its password never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import monitor.config
from monitor.config import PostgresURL, load_config, parse_archive, validate_config
from monitor.errors import ConfigError, StoreError
from monitor.logs import Redactor
from monitor.store import open_archive

URL = "postgresql://bob:hunter2@db.example:5432/news"


def problems(data: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_config(data, base_dir=Path("/conf"))
    return caught.value.problems


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        (URL, "postgresql://bob:***@db.example:5432/news"),
        ("postgres://bob:p%40ss%2Fword@db.example/news", "postgres://bob:***@db.example/news"),
        ("postgresql://bob@db.example/news", "postgresql://bob@db.example/news"),  # PGPASSWORD or ~/.pgpass
        ("postgresql:///news?host=/run/postgresql", "postgresql:///news?host=/run/postgresql"),
        ("postgresql://db.example/news?sslmode=require&password=hunter2", "postgresql://db.example/news?sslmode=require&password=***"),
        ("postgresql://h1:5432,h2:5433/news", "postgresql://h1:5432,h2:5433/news"),
    ],
)  # fmt: skip
def test_a_postgresql_url_is_kept_whole_and_shown_without_its_password(written: str, shown: str) -> None:
    settings = validate_config({"archive": written}, base_dir=Path("/conf"))
    assert settings.archive == PostgresURL(written) and settings.archive.url == written
    assert settings.archive_display == shown == str(settings.archive)
    assert "hunter2" not in repr(settings) and "p%40ss" not in repr(settings)


def test_a_path_stays_a_path_taken_from_the_config_folder() -> None:
    assert validate_config({"archive": "data/a.db"}, base_dir=Path("/conf")).archive == Path(
        "/conf/data/a.db"
    )
    assert validate_config({"archive": "/abs/a.db"}, base_dir=Path("/conf")).archive_display == "/abs/a.db"
    assert validate_config({}).archive == Path("data/monitor.db")


@pytest.mark.parametrize(
    "url", ["mysql://bob:hunter2@db.example/news", "sqlite:///a.db", "https://x.example/a"]
)
def test_any_other_scheme_is_refused_naming_the_setting_without_the_password(url: str) -> None:
    [problem] = problems({"archive": url})
    assert problem.startswith("archive: ") and "postgresql://" in problem and "hunter2" not in problem
    assert f"is a {url.split(':')[0]}:// URL" in problem


@pytest.mark.parametrize("value", [None, "", 5, ["a.db"]])
def test_an_archive_that_is_no_path_is_refused(value: object) -> None:
    [problem] = problems({"archive": value})
    assert problem.startswith("archive: ") and "file path or a postgresql:// URL" in problem


def test_without_psycopg_a_postgresql_url_is_refused_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(monitor.config, "postgres_driver_available", lambda: False)
    [problem] = problems({"archive": URL})
    assert problem.startswith('archive: "postgresql://bob:***@db.example:5432/news"'), problem
    assert "pip install 'monitor[postgres]'" in problem and "hunter2" not in problem
    assert validate_config({"archive": "a.db"}).archive == Path("a.db")  # SQLite needs no driver
    with pytest.raises(ValueError, match="monitor\\[postgres\\]"):
        parse_archive(URL)


def test_the_driver_check_is_psycopg_being_importable() -> None:
    assert monitor.config.postgres_driver_available()  # the `postgres` extra is part of dev


def test_loading_a_postgresql_url_creates_no_folder(tmp_path: Path) -> None:
    """Issue 16: the URL was a relative path, and `monitor run` made folders named after it, password
    included."""
    config = tmp_path / "c.yaml"
    config.write_text(f"archive: {URL}\n")
    assert isinstance(load_config(config).archive, PostgresURL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_the_password_is_a_secret_for_the_log_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = validate_config({"archive": "postgresql://bob:p%40ss-w0rd@db.example/news"})
    assert settings.secrets() == ["p%40ss-w0rd", "p@ss-w0rd"]
    assert validate_config({"archive": "postgresql://bob@db.example/news"}).secrets() == []
    assert validate_config({"archive": "postgresql://db.example/news?password=s3cret"}).secrets() == [
        "s3cret"
    ]
    # as a driver's message might quote it: decoded, outside any URL
    record = logging.LogRecord(
        "monitor", logging.ERROR, __file__, 1, "store: %s", ("password p@ss-w0rd",), None
    )
    assert Redactor(settings.secrets()).filter(record) and record.getMessage() == "store: password ***"
    record = logging.LogRecord("monitor", logging.ERROR, __file__, 1, "%s", (settings.archive.url,), None)
    assert Redactor().filter(record) and record.getMessage() == "postgresql://bob:***@db.example/news"
    # a database account's name is no secret (PostgresURL.display shows it); another URL's user may be a token
    record = logging.LogRecord(
        "monitor", logging.ERROR, __file__, 1, "postgresql://bob@h/db https://tok3n@h/x", (), None
    )
    assert Redactor().filter(record) and record.getMessage() == "postgresql://bob@h/db https://***@h/x"
    record = logging.LogRecord(
        "monitor", logging.ERROR, __file__, 1, "x postgres://h/db?password=s3cret", (), None
    )
    assert Redactor().filter(record) and record.getMessage() == "x postgres://h/db?password=***"


@pytest.mark.parametrize("as_url", [True, False])
@pytest.mark.parametrize("readonly", [True, False])
def test_open_archive_on_a_postgresql_server_that_is_not_there_cannot_connect(
    as_url: bool, readonly: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unix socket in a folder that does not exist (never a host name: no network is touched)."""
    url = f"postgresql://bob:hunter2@/news?host={tmp_path / 'no-server'}"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as caught:
        open_archive(PostgresURL(url) if as_url else url, readonly=readonly)  # type: ignore[call-overload]
    message = str(caught.value)
    assert (
        f"postgresql://bob:***@/news?host={tmp_path / 'no-server'}" in message and "cannot connect" in message
    )
    assert "hunter2" not in message
    assert list(tmp_path.iterdir()) == []
