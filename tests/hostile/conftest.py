"""The hostile suite's harness: one healthy outlet beside the hostile sources, the real CLI run in-process
(``run --once``), and read-backs of the archive the run wrote."""

from __future__ import annotations

import gzip
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from monitor.cli import cli
from monitor.models import SourceStatus, StoredArticle
from tests.support.archive import articles, reader, source_status
from tests.support.newssite import NewsServer, add_outlets, write_config

TIMEOUT = "1s"
"""http.timeout of every hostile run: a server that never answers costs a second, not twenty."""
HEALTHY = "outlet1"
HEALTHY_ARTICLES = 2


@dataclass
class Poll:
    """What one ``monitor run --once`` left behind."""

    code: int
    log: str
    archive: Path
    config: Path

    def source(self, source_id: str) -> SourceStatus:
        with reader(self.archive) as archived:
            return source_status(archived, source_id)

    def articles(self, source_id: str) -> list[StoredArticle]:
        """The source's articles, oldest first."""
        with reader(self.archive) as archived:
            return articles(archived, source_id)

    def fetches(self, source_id: str) -> list[dict[str, Any]]:
        """The source's requests in the fetch log (which no reader shows)."""
        with sqlite3.connect(self.archive) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM fetches WHERE source = ? ORDER BY id", [source_id]).fetchall()
            return [dict(row) for row in rows]

    def everything(self) -> str:
        """Every value of every table (archived raw pages inflated) as one text: for "never stored" (the
        tables themselves, not a reader: a value must be nowhere, whatever reads it)."""
        parts: list[str] = []
        with sqlite3.connect(self.archive) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    for value in row:
                        if isinstance(value, bytes):
                            value = gzip.decompress(value) if value[:2] == b"\x1f\x8b" else value
                            value = value.decode("utf-8", "replace")
                        parts.append(str(value))
        return "\n".join(parts)


def assert_failed(poll: Poll, source_id: str, *fragments: str, parse: bool = False) -> SourceStatus:
    """The source was polled, failed, and says why in ``sources.last_error`` and in the ``fetches.error``
    of its request. A ``parse`` failure follows a good fetch: the fetch is logged without an error, and
    ``sources.last_error`` alone says what was wrong with the body."""
    row = poll.source(source_id)
    assert row.last_polled_at, f"{source_id} was not polled"
    assert row.last_error, f"{source_id} recorded no error"
    assert row.error_count >= 1 and row.next_poll_at
    fetches = poll.fetches(source_id)
    assert fetches, f"{source_id}: no fetch was logged"
    logged = [f["error"] for f in fetches if f["error"]]
    if parse:
        assert fetches[0]["status"] == 200 and fetches[0]["error"] is None, fetches[0]
        logged = [row.last_error]
    assert logged, f"{source_id}: no fetch with an error was logged"
    for fragment in fragments:
        assert fragment in row.last_error, (fragment, row.last_error)
        assert any(fragment in error for error in logged), (fragment, logged)
    assert "internal error" not in row.last_error
    return row


def roomy(server: NewsServer) -> NewsServer:
    """Let the server queue more than socketserver's 5 pending connections: with a 1 s timeout, a SYN
    dropped from a full accept queue (retried after 1 s) would be a connect timeout of the test's making."""
    server.httpd.socket.listen(128)
    return server


def poll_once(
    server: NewsServer,
    where: Path,
    sources: list[dict[str, object]],
    *,
    http: dict[str, object] | None = None,
    healthy: bool = True,
) -> Poll:
    """Run ``monitor run --once`` over ``sources`` plus one healthy outlet (config and archive in ``where``),
    and check that the run exited cleanly, polled every source, and archived the healthy outlet whole."""
    roomy(server)
    everyone = [*sources]
    if healthy:
        everyone += add_outlets(server, outlets=1, articles=HEALTHY_ARTICLES)
    where.mkdir(parents=True, exist_ok=True)
    config, archive = where / "config.yaml", where / "archive.db"
    write_config(config, everyone, archive=archive)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["http"].update({"timeout": TIMEOUT, **(http or {})})
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["-c", str(config), "run", "--once"], catch_exceptions=False)
    done = Poll(result.exit_code, result.stderr, archive, config)
    assert done.code == 0, done.log
    assert "internal error" not in done.log and "Traceback" not in done.log, done.log
    assert f"polled {len(everyone)} sources" in done.log, done.log
    for source in everyone:
        assert done.source(str(source["id"])).last_polled_at, source["id"]
    if healthy:
        outlet = done.source(HEALTHY)
        assert outlet.last_error is None, outlet.last_error
        assert len(done.articles(HEALTHY)) == HEALTHY_ARTICLES
    return done


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member of ``size`` zero bytes, built from one compressed megabyte repeated.

    Compressing 2 GB of zeros takes zlib 20 s; a full flush resets the compressor, so every megabyte after it
    compresses to the very same bytes and the whole member is assembled in the time the CRC takes.
    """
    block = bytes(1 << 20)
    assert size % len(block) == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    return header + piece * (size // len(block)) + end + trailer


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """2 GB of zeros in about 2 MB of gzip (made once per session)."""
    bomb = gzip_of_zeros(2 * 1024**3)
    assert len(bomb) < 3 * 1024**2
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bomb, 1 << 20) == bytes(1 << 20)
    return bomb
