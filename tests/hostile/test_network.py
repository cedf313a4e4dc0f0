"""Servers that misbehave at the HTTP level: silence, resets, errors, throttling, redirect games, drips."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest

from tests.support.newssite import NewsServer, Response

from .conftest import Poll, assert_failed, poll_once, roomy

Handler = Callable[[BaseHTTPRequestHandler], None]


def _hang(release: threading.Event) -> Handler:
    """Accept the connection, read the request, and never answer."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        release.wait(30)
        request.close_connection = True

    return handle


def _reset(*, after_headers: bool) -> Handler:
    """Abort the connection with a TCP RST: before any response, or in the middle of the body."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        if after_headers:
            request.send_response(200)
            request.send_header("Content-Type", "application/rss+xml")
            request.send_header("Content-Length", "100000")
            request.end_headers()
            request.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut')
            request.wfile.flush()
            time.sleep(0.1)
        request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.connection.close()
        request.close_connection = True

    return handle


def _drip(release: threading.Event) -> Handler:
    """Headers at once, then one byte every 0.2 s: each read succeeds, the response never completes."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", "1000000")
        request.end_headers()
        request.close_connection = True
        try:
            for _ in range(300):
                request.wfile.write(b" ")
                request.wfile.flush()
                if release.wait(0.2):
                    return
        except OSError:
            return

    return handle


REDIRECT_TARGETS = {
    "file": "file:///etc/passwd",
    "ftp": "ftp://127.0.0.1/pub/feed.xml",
    "gopher": "gopher://127.0.0.1:70/1",
    "javascript": "javascript:alert(1)",
}
SERVER_ERRORS = (500, 502, 503, 504)
RETRY_AFTER = timedelta(hours=2)


@dataclass
class World:
    server: NewsServer
    throttling: NewsServer
    poll: Poll
    started: datetime


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every case of this module behind one server, polled in one run beside a healthy outlet."""
    release = threading.Event()
    with NewsServer() as server, NewsServer(host="127.0.0.2") as throttling:
        roomy(throttling)
        sources: list[dict[str, object]] = []

        def serve(source_id: str, path: str, route: Response | Handler) -> None:
            server.routes[path] = route
            sources.append({"id": source_id, "feed": server.url(path)})

        serve("silent", "/silent.xml", _hang(release))
        serve("drip", "/drip.xml", _drip(release))
        serve("reset-early", "/reset-early.xml", _reset(after_headers=False))
        serve("reset-mid-body", "/reset-mid-body.xml", _reset(after_headers=True))
        for status in SERVER_ERRORS:
            serve(f"http{status}", f"/{status}.xml", Response(b"<h1>Internal trouble</h1>", status=status))
        # A 429 slows its whole host down (politeness): the throttling host is a host of its own.
        retry_date = format_datetime(datetime.now(UTC) + RETRY_AFTER, usegmt=True)
        for form, value in (("seconds", str(int(RETRY_AFTER.total_seconds()))), ("date", retry_date)):
            throttling.routes[f"/busy-{form}.xml"] = Response(
                b"slow down", status=429, content_type="text/plain", headers={"Retry-After": value}
            )
            sources.append({"id": f"busy-{form}", "feed": throttling.url(f"/busy-{form}.xml")})
        serve("maint", "/maint.xml", Response(b"maintenance", status=503, headers={"Retry-After": "7200"}))
        server.routes["/loop/b"] = Response(status=301, headers={"Location": "/loop/a"})
        serve("loop", "/loop/a", Response(status=302, headers={"Location": "/loop/b"}))
        server.routes.update({f"/chain/{i}": _onwards for i in range(1, 100)})
        serve("chain", "/chain/0", _onwards)
        for scheme, location in REDIRECT_TARGETS.items():
            serve(f"to-{scheme}", f"/to-{scheme}.xml", Response(status=302, headers={"Location": location}))
        server.add("/story", "", status=301, headers={"Location": "file:///etc/passwd"})
        links = (
            "<rss version='2.0'><channel><title>T</title><item><title>Sneaky</title>"
            f"<link>{server.url('/story')}</link><guid>s1</guid><description>The teaser.</description>"
            "</item></channel></rss>"
        )
        serve("links", "/links.xml", Response(links.encode(), content_type="application/rss+xml"))
        started = datetime.now(UTC)
        clock = time.monotonic()
        done = poll_once(server, tmp_path_factory.mktemp("network"), sources)
        print(f"network run: {len(sources) + 1} sources in {time.monotonic() - clock:.1f}s (http.timeout 1s)")
        yield World(server, throttling, done, started)
        release.set()


def _onwards(request: BaseHTTPRequestHandler) -> None:
    """A redirect to the next fresh URL, forever."""
    step = int(request.path.rsplit("/", 1)[1])
    request.send_response(307)
    request.send_header("Location", f"/chain/{step + 1}")
    request.send_header("Content-Length", "0")
    request.end_headers()


def test_a_server_that_never_answers_times_out(world: World) -> None:
    assert_failed(world.poll, "silent", "fetcher: timed out")
    assert world.server.hits["/silent.xml"] == 1


def test_a_server_that_drips_bytes_forever_hits_the_whole_request_deadline(world: World) -> None:
    assert_failed(world.poll, "drip", "fetcher: no complete response within 3s")


@pytest.mark.parametrize("source_id", ["reset-early", "reset-mid-body"])
def test_a_connection_reset_is_recorded_as_such(world: World, source_id: str) -> None:
    row = assert_failed(world.poll, source_id, "fetcher: ")
    assert "reset" in row.last_error.lower(), row.last_error
    assert world.poll.articles(source_id) == []


@pytest.mark.parametrize("source_id", ["reset-early", "reset-mid-body"])
def test_a_connection_reset_is_recorded(world: World, source_id: str) -> None:
    assert_failed(world.poll, source_id, "fetcher: ")
    assert world.poll.articles(source_id) == []


@pytest.mark.parametrize("status", SERVER_ERRORS)
def test_server_errors_are_recorded_and_backed_off(world: World, status: int) -> None:
    row = assert_failed(world.poll, f"http{status}", f"HTTP {status}")
    assert row.last_status == status and row.error_count == 1
    assert datetime.fromisoformat(row.next_poll_at) > world.started
    assert [f["status"] for f in world.poll.fetches(f"http{status}")] == [status]


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_429_with_retry_after_is_honoured(world: World, form: str) -> None:
    row = assert_failed(world.poll, f"busy-{form}", "HTTP 429")
    assert datetime.fromisoformat(row.next_poll_at) >= world.started + RETRY_AFTER - timedelta(seconds=5)
    assert world.throttling.hits[f"/busy-{form}.xml"] == 1  # not retried within the run


def test_503_with_retry_after_is_honoured(world: World) -> None:
    row = assert_failed(world.poll, "maint", "HTTP 503")
    assert datetime.fromisoformat(row.next_poll_at) >= world.started + timedelta(hours=2, seconds=-5)


def test_a_redirect_loop_stops_and_is_recorded(world: World) -> None:
    assert_failed(world.poll, "loop", "redirects")
    assert world.server.hits["/loop/a"] + world.server.hits["/loop/b"] <= 6  # a bounded number of hops
    assert world.poll.source("loop").url == world.server.url("/loop/a")  # nothing "moved"


def test_an_endless_chain_of_fresh_redirects_stops(world: World) -> None:
    assert_failed(world.poll, "chain", "redirects")
    assert sum(n for path, n in world.server.hits.items() if path.startswith("/chain/")) <= 6


@pytest.mark.parametrize(
    "scheme",
    [
        "file",
        "ftp",
        "gopher",
        "javascript",
    ],
)
def test_a_redirect_to_a_non_http_scheme_is_refused(world: World, scheme: str) -> None:
    row = assert_failed(world.poll, f"to-{scheme}", "scheme")
    assert scheme in row.last_error, row.last_error
    assert world.poll.source(f"to-{scheme}").url == world.server.url(f"/to-{scheme}.xml")


def test_no_redirect_read_a_local_file(world: World) -> None:
    for scheme in REDIRECT_TARGETS:
        assert world.poll.source(f"to-{scheme}").last_error
    assert "root:" not in world.poll.everything()


def test_an_article_link_redirecting_to_a_file_url_keeps_the_feed_text(world: World) -> None:
    assert world.poll.source("links").last_error is None
    (article,) = world.poll.articles("links")
    assert (article.extraction, article.text) == ("feed", "The teaser.")
    (page,) = [f for f in world.poll.fetches("links") if f["kind"] == "page"]
    assert "scheme" in page["error"] and "file" in page["error"], page["error"]
