"""Watches and alerts through real receivers: a jsonl file, a webhook on a local server, a local SMTP."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from monitor.alerts.notifiers import signature
from test_stories import OTHER_STORY, SEED_PARAGRAPHS, atom, page
from tests.support.archive import reader
from tests.support.newssite import NewsServer, Response, free_port, write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def setup(server: NewsServer, tmp_path: Path, smtp_port: int) -> tuple[Path, Path]:
    server.add("/a/story", page("Maduro in Tehran", SEED_PARAGRAPHS, published="2024-06-11T08:00:00Z"))
    server.add("/a/flights", page("Flights", OTHER_STORY, published="2024-06-11T09:00:00Z"))
    server.add("/b/copy", page("Maduro visits Iran", SEED_PARAGRAPHS[:4], footer="<p>Source: almayadeen</p>",
                               published="2024-06-11T10:00:00Z"))  # fmt: skip
    server.add("/a.xml", atom(server, [("/a/story", "Maduro in Tehran", "2024-06-11T08:00:00Z"),
                                      ("/a/flights", "Flights", "2024-06-11T09:00:00Z")]),
               content_type="application/atom+xml")  # fmt: skip
    server.add("/b.xml", atom(server, [("/b/copy", "Maduro visits Iran", "2024-06-11T10:00:00Z")]),
               content_type="application/atom+xml")  # fmt: skip
    config, archive = tmp_path / "c.yaml", tmp_path / "a.db"
    write_config(config, [{"id": "a", "feed": server.url("/a.xml")}, {"id": "b", "feed": server.url("/b.xml")}],
                 archive=archive)  # fmt: skip
    data = yaml.safe_load(config.read_text())
    data["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "from": "monitor@example.org", "starttls": False}
    data["watches"] = [
        {
            "id": "iran-venezuela",
            "query": "Maduro AND (Iran OR Tehran)",
            "notify": [
                {"jsonl": "alerts.jsonl"},
                {"webhook": server.url("/hook"), "secret_env": "MONITOR_TEST_SECRET"},
                {"email": "analyst@example.org"},
            ],
        },
        {"id": "flights", "query": "flights", "sources": ["b"], "notify": [{"jsonl": "flights.jsonl"}]},
    ]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config, archive


def test_a_watch_fires_once_per_story_on_every_channel(
    server: NewsServer,
    tmp_path: Path,
    smtp: tuple[Controller, Inbox],
    monkeypatch: pytest.MonkeyPatch,
    monitor_cli: MonitorCLI,
) -> None:
    monkeypatch.setenv("MONITOR_TEST_SECRET", "hook-secret-123")
    controller, inbox = smtp
    server.routes["/hook"] = Response(b"ok", status=200)
    config, archive = setup(server, tmp_path, controller.port)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert len(lines) == 1  # the story and its copy: one alert
    alert = lines[0]
    assert set(alert) >= {
        "watch",
        "article_id",
        "url",
        "source",
        "title",
        "published_at",
        "snippet",
        "matched_at",
    }
    assert alert["watch"] == "iran-venezuela" and "Maduro" in alert["title"]
    ((path, headers, body),) = server.posts
    assert path == "/hook" and json.loads(body) == alert
    assert headers["x-monitor-signature"] == signature(body, "hook-secret-123")
    (message,) = inbox.messages
    assert message["To"] == "analyst@example.org" and "iran-venezuela" in message["Subject"]
    assert alert["url"] in message.get_payload()
    assert not (tmp_path / "flights.jsonl").exists()  # that watch only looks at source b
    with reader(archive) as archived:
        matches = [(a.watch, a.notify, int(a.delivered_at is not None)) for a in archived.alerts()]
    assert sorted(matches) == [
        ("iran-venezuela", 0, 0),
        ("iran-venezuela", 1, 1),
    ]  # the copy: recorded, quiet
    monitor_cli(config, "run", "--once")
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1 and len(server.posts) == 1
    code, out, _ = monitor_cli(config, "watches", "--format", "json")
    statuses = {row["id"]: row for row in json.loads(out)}
    assert statuses["iran-venezuela"]["matches_24h"] == 2 and statuses["iran-venezuela"]["pending"] == 0
    assert "copy" in monitor_cli(config, "alerts")[1] and "delivered" in monitor_cli(config, "alerts")[1]
    tested = json.loads(monitor_cli(config, "watches", "test", "Maduro AND Iran", "--format", "json")[1])
    assert len(tested) == 1 and tested[0]["copies"] == 1


def test_a_receiver_that_is_down_gets_the_alert_later_across_a_restart(
    server: NewsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, monitor_cli: MonitorCLI
) -> None:
    monkeypatch.setenv("MONITOR_TEST_SECRET", "hook-secret-123")
    server.routes["/hook"] = Response(b"down", status=503)
    port = free_port()  # nothing listens there yet: the mail server is down too
    config, archive = setup(server, tmp_path, port)
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 0 and "delivery failed" in err
    assert len(server.posts) == 1
    with sqlite3.connect(archive) as db:
        pending = db.execute(
            "SELECT channel, attempts, last_error FROM deliveries WHERE delivered_at IS NULL"
        ).fetchall()
        assert {row[0].split(":")[0] for row in pending} == {"webhook", "email"} and all(
            row[2] for row in pending
        )
        db.execute("UPDATE deliveries SET next_attempt_at = NULL")  # the retry time has come
    server.routes["/hook"] = Response(b"ok", status=200)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        code, _, err = monitor_cli(config, "run", "--once")  # a new process, as after a restart
    finally:
        controller.stop()
    assert code == 0
    assert len(server.posts) == 2 and json.loads(server.posts[-1][2])["watch"] == "iran-venezuela"
    assert len(inbox.messages) == 1
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1  # jsonl got it the first time, once
    with reader(archive) as archived:
        assert [watch.pending for watch in archived.watch_statuses(datetime.now(UTC))] == [0, 0]
        notified = [(a.delivered_at is not None, a.attempts) for a in archived.alerts() if a.notify == 1]
    assert notified == [(True, 5)]  # jsonl once, webhook and email twice each


def test_invalid_watch_query_is_a_config_error(
    server: NewsServer, tmp_path: Path, monitor_cli: MonitorCLI
) -> None:
    config, _ = setup(server, tmp_path, 25)
    data = yaml.safe_load(config.read_text())
    data["watches"][0]["query"] = '"unclosed'
    config.write_text(yaml.safe_dump(data))
    code, _, err = monitor_cli(config, "run", "--once")
    assert code == 1 and "watches[0].query" in err
