"""Bodies without end: 2 GB with no Content-Length, and 2 GB of zeros in a 2 MB gzip bomb.

The read must stop at ``http.max_bytes`` of *decoded* bytes, the server must see the client hang up early,
and the daemon's memory must stay bounded (measured on a real ``python -m monitor`` process).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from tests.support.newssite import NewsServer, add_outlets, write_config

from .conftest import Poll, assert_failed, poll_once, roomy

TWO_GB = 2 * 1024**3
CHUNK = 64 * 1024
MAX_BYTES = 4_000_000
RSS_GROWTH_BOUND_KB = 50 * 1024
Handler = Callable[[BaseHTTPRequestHandler], None]


def _feed_head() -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Endless</title>'


def _endless(sent: Counter[str], *, framing: str) -> Handler:
    """2 GB of feed, produced lazily, framed by chunked encoding or by closing the connection."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        if framing == "chunked":
            request.send_header("Transfer-Encoding", "chunked")
        else:
            request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        filler = b"<!-- " + b"x" * (CHUNK - 9) + b" -->"
        pieces = (_feed_head() if n == 0 else filler for n in range(TWO_GB // CHUNK))
        try:
            for piece in pieces:
                frame = b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece
                request.wfile.write(frame)
                sent[request.path] += len(piece)
        except OSError:  # the client hung up: what the test wants
            return

    return handle


def _bomb(sent: Counter[str], body: bytes, *, content_type: str, encoded: bool) -> Handler:
    """The gzip bomb, as Content-Encoding (``encoded``) or as the body itself (a ``.xml.gz`` sitemap)."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        if encoded:
            request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.close_connection = True
        try:
            for start in range(0, len(body), CHUNK):
                request.wfile.write(body[start : start + CHUNK])
                sent[request.path] += CHUNK
        except OSError:
            return

    return handle


def _serve_cases(server: NewsServer, bomb: bytes, sent: Counter[str]) -> dict[str, dict[str, object]]:
    """Every hostile source of this module, by id."""
    server.routes["/endless-chunked.xml"] = _endless(sent, framing="chunked")
    server.routes["/endless-close.xml"] = _endless(sent, framing="close")
    server.routes["/bomb.xml"] = _bomb(sent, bomb, content_type="application/rss+xml", encoded=True)
    server.routes["/sitemap.xml.gz"] = _bomb(sent, bomb, content_type="application/x-gzip", encoded=False)
    server.routes["/bomb-page"] = _bomb(sent, bomb, content_type="text/html", encoded=True)
    server.add(
        "/pages.xml",
        "<rss version='2.0'><channel><title>T</title><item><title>Bomb</title>"
        f"<link>{server.url('/bomb-page')}</link><guid>b1</guid><description>The teaser.</description>"
        "</item></channel></rss>",
        content_type="application/rss+xml",
    )
    return {
        "endless-chunked": {"id": "endless-chunked", "feed": server.url("/endless-chunked.xml")},
        "endless-close": {"id": "endless-close", "feed": server.url("/endless-close.xml")},
        "bomb": {"id": "bomb", "feed": server.url("/bomb.xml")},
        "sitemap-bomb": {"id": "sitemap-bomb", "kind": "sitemap", "url": server.url("/sitemap.xml.gz")},
        "bomb-page": {"id": "bomb-page", "feed": server.url("/pages.xml")},
    }


@dataclass
class World:
    server: NewsServer
    sent: Counter[str]
    poll: Poll


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, gzip_bomb: bytes) -> Iterator[World]:
    sent: Counter[str] = Counter()
    with NewsServer() as server:
        sources = list(_serve_cases(server, gzip_bomb, sent).values())
        # A roomy timeout: the server streams from threads of this very process, sharing its GIL.
        http = {"max_bytes": MAX_BYTES, "timeout": "10s"}
        done = poll_once(server, tmp_path_factory.mktemp("size"), sources, http=http)
        yield World(server, sent, done)


@pytest.mark.parametrize("source_id", ["endless-chunked", "endless-close"])
def test_a_body_without_end_is_cut_at_max_bytes(world: World, source_id: str) -> None:
    assert_failed(world.poll, source_id, f"passed http.max_bytes ({MAX_BYTES} decoded bytes)")
    assert world.poll.articles(source_id) == []
    # the client hung up soon after the cap: the server did not get to send much more (socket buffers)
    assert world.sent[f"/{source_id}.xml"] < MAX_BYTES + 32 * 1024**2


def test_a_gzip_bomb_is_cut_at_max_bytes_of_decoded_bytes(world: World) -> None:
    assert_failed(world.poll, "bomb", f"passed http.max_bytes ({MAX_BYTES} decoded bytes)")


def test_a_gzip_bomb_article_page_keeps_the_feed_text(world: World) -> None:
    assert world.poll.source("bomb-page").last_error is None
    (article,) = world.poll.articles("bomb-page")
    assert (article.extraction, article.text) == ("feed", "The teaser.")
    (page,) = [f for f in world.poll.fetches("bomb-page") if f["kind"] == "page"]
    assert "passed http.max_bytes" in page["error"]


def test_a_gzipped_sitemap_bomb_is_refused(world: World) -> None:
    row = assert_failed(world.poll, "sitemap-bomb", parse=True)
    assert "gzip" in row.last_error and "sitemap" in row.last_error, row.last_error


# -- memory, measured on a real daemon process ---------------------------------------------------------


_MEASURED = """
import atexit, re, runpy, sys
import monitor.cli, monitor.daemon  # what any poll imports, loaded before the peak is reset

peak_file = sys.argv[1]

def report():
    with open("/proc/self/status") as status:
        peak = re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)
    with open(peak_file, "w") as out:
        out.write(peak)

atexit.register(report)
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # reset the peak RSS: from here on it measures the poll, not the imports
sys.argv = ["monitor", *sys.argv[2:]]
runpy.run_module("monitor", run_name="__main__")
"""


def _peak_rss_kb(config: Path, where: Path) -> int:
    """Run ``python -m monitor -c config run --once`` and return its peak RSS (KiB) while polling.

    The peak over the whole process would be set by the imports (trafilatura, lxml, ...), which allocate
    and free more than a 10 MB body; so the daemon's own peak (VmHWM) is reset once everything is imported,
    and read back at exit. Only that process counts: the body is read there.
    """
    peak_file = where / "peak_kb"
    command = [sys.executable, "-c", _MEASURED, str(peak_file), "-c", str(config), "run", "--once"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "sources failed" in result.stderr, result.stderr
    return int(peak_file.read_text(encoding="utf-8"))


def _config(where: Path, sources: list[dict[str, object]], healthy: list[dict[str, object]]) -> Path:
    where.mkdir(parents=True)
    config = where / "config.yaml"
    write_config(config, [*sources, *healthy], archive=where / "archive.db")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["http"].update({"timeout": "5s", "max_bytes": MAX_BYTES})  # four bodies at once stay well under
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def daemon_world(tmp_path_factory: pytest.TempPathFactory, gzip_bomb: bytes) -> Iterator[tuple[object, ...]]:
    """A server with every case, a healthy outlet (feed text only: no extraction workers to measure), and
    the peak RSS of a baseline run that polls just the outlet."""
    sent: Counter[str] = Counter()
    with NewsServer() as server:
        roomy(server)
        cases = _serve_cases(server, gzip_bomb, sent)
        healthy = add_outlets(server, outlets=1, articles=2)
        healthy[0]["fetch_articles"] = False
        root = tmp_path_factory.mktemp("rss")
        baseline = _peak_rss_kb(_config(root / "baseline", [], healthy), root / "baseline")
        yield server, cases, healthy, root, baseline


MEMORY_CASES = {
    "streams": ["endless-chunked", "endless-close", "bomb", "bomb-page"],
    "sitemap-bomb": ["sitemap-bomb"],
}


@pytest.mark.parametrize(
    "case",
    [
        "streams",
        "sitemap-bomb",
    ],
)
def test_memory_stays_bounded(daemon_world: tuple[object, ...], case: str) -> None:
    _, cases, healthy, root, baseline = daemon_world
    assert isinstance(cases, dict) and isinstance(healthy, list) and isinstance(root, Path)
    assert isinstance(baseline, int)
    where = root / case
    config = _config(where, [cases[source_id] for source_id in MEMORY_CASES[case]], healthy)
    peak = _peak_rss_kb(config, where)
    growth = peak - baseline
    print(f"{case}: peak RSS while polling {peak // 1024} MB, baseline {baseline // 1024} MB")
    done = Poll(0, "", where / "archive.db", config)
    for source_id in MEMORY_CASES[case]:
        failed = done.fetches(source_id)[-1]["error"] or done.source(source_id).last_error
        assert failed and ("max_bytes" in failed or "gzip" in failed), (source_id, failed)
    assert len(done.articles("outlet1")) == 2 and done.source("outlet1").last_error is None
    assert growth < RSS_GROWTH_BOUND_KB, f"{case}: RSS grew by {growth // 1024} MB over the baseline run"
