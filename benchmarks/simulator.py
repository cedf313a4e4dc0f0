"""A local news-site simulator for the benchmarks (issue 8): N outlets, each its own host on 127.0.0.x.

Built on ``tests/support/newssite.py`` (one :class:`NewsServer` per host, so its ``peak_active`` is the
host's peak concurrency and ``Response.delay_s`` the added latency). Article pages are the real pages of
``../shared/benchmarks/extraction/html/`` (read from there, never copied into the repo) with their
paragraph text replaced by sentences drawn from the benchmark's ground-truth bodies, so that 2,000 articles
are 2,000 distinct texts (the same page eleven times would be one story with ten copies) while the markup
the extractor has to walk stays real. ``rel=canonical`` and ``og:url`` are dropped: they point at the
original site, and would fold every copy into one article.

Run as a separate process (so that its CPU is not counted as monitor's):

    python benchmarks/simulator.py ingest --outlets 20 --articles 20 --config /tmp/x/config.yaml
    python benchmarks/simulator.py idle --hosts 20 --feeds 100 --config /tmp/x/config.yaml

It writes the config, prints one JSON line ``{"ready": ...}``, and serves until its stdin closes; a line
``stats`` on its stdin makes it print one JSON line of request counts and per-host peak concurrency (and
reset them).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "extraction"
# The benchmarks run as scripts (``python benchmarks/x.py``), so the repository root is not on sys.path;
# this is the one place a benchmark adds it, for the tests' news-site server (feeds.py takes it from here).
sys.path.insert(0, str(REPO))

from tests.support.newssite import NewsServer, Response, atom_feed, rss_feed  # noqa: E402

_PARAGRAPH = re.compile(r"(<p\b[^>]*>)(.*?)(</p>)", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_CANONICAL = re.compile(
    r"<link\b[^>]*rel=[\"']?canonical[^>]*>|<meta\b[^>]*(?:og:url|twitter:url)[^>]*>", re.I
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


class MissingPages(RuntimeError):
    """The shared benchmark pages are not there: the benchmark that needs them is skipped."""


def shared_pages() -> list[bytes]:
    """The raw bytes of the shared benchmark pages, sorted by name."""
    folder = SHARED / "html"
    files = sorted(folder.glob("*.html.gz")) if folder.is_dir() else []
    if not files:
        raise MissingPages(f"no benchmark pages in {folder}")
    return [gzip.decompress(path.read_bytes()) for path in files]


def sentence_pool() -> list[str]:
    """Sentences of the ground-truth article bodies: real prose, in many voices."""
    truth = SHARED / "ground-truth.json"
    if not truth.is_file():
        raise MissingPages(f"no {truth}")
    bodies = json.loads(truth.read_text(encoding="utf-8"))
    pool: list[str] = []
    for item in bodies.values():
        for paragraph in (item.get("articleBody") or "").split("\n"):
            pool.extend(s.strip() for s in _SENTENCE.split(paragraph) if len(s.strip()) > 30)
    return [s for s in pool if not s.endswith("...")]


def article_page(template: bytes, pool: list[str], *, outlet: int, index: int) -> bytes:
    """A real page whose paragraphs carry new text (deterministic in ``outlet`` and ``index``)."""
    rng = random.Random(outlet * 100_003 + index)
    text = template.decode("latin-1")  # a byte-preserving view: the page's own charset is left alone

    def fill(match: re.Match[str]) -> str:
        visible = html.unescape(_TAG.sub("", match.group(2))).strip()
        if len(visible) < 30:
            return match.group(0)
        sentences: list[str] = []
        while sum(len(s) + 1 for s in sentences) < len(visible):
            sentences.append(rng.choice(pool))
        body = html.escape(" ".join(sentences)).encode("ascii", "xmlcharrefreplace").decode("ascii")
        return match.group(1) + body + match.group(3)

    text = _CANONICAL.sub("", text)
    text = _PARAGRAPH.sub(fill, text)
    marker = f"<p>Reference OUT{outlet}ART{index}.</p>"
    text = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + marker, text, count=1, flags=re.I)
    return text.encode("latin-1")


def ingest_pages(outlets: int, articles: int) -> dict[tuple[int, int], bytes]:
    """Every article page of an ingest run, keyed by (outlet, index): what the limit run extracts too."""
    templates = shared_pages()
    pool = sentence_pool()
    pages = {}
    for outlet in range(1, outlets + 1):
        for index in range(1, articles + 1):
            template = templates[(outlet * 7919 + index) % len(templates)]
            pages[(outlet, index)] = article_page(template, pool, outlet=outlet, index=index)
    return pages


def page_path(outlet: int, index: int) -> str:
    return f"/news/{outlet}/{index}-story.html"


def _etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:16] + '"'


def _items(server: NewsServer, paths: list[str], *, start: datetime, label: str) -> list[dict[str, str]]:
    items = []
    for n, path in enumerate(paths):
        published = start + timedelta(minutes=n)
        items.append(
            {
                "title": f"{label} story {n}",
                "link": server.url(path) + "?utm_source=rss",
                "guid": f"{label}-{n}",
                "rfc822": format_datetime(published),
                "iso": published.isoformat().replace("+00:00", "Z"),
                "summary": f"Summary of {label} story {n}.",
            }
        )
    return items


def add_feed(
    server: NewsServer, path: str, items: list[dict[str, str]], *, atom: bool, etag: bool = True
) -> str:
    link = server.url("/")
    body = atom_feed(items, title=path, link=link) if atom else rss_feed(items, title=path, link=link)
    content_type = "application/atom+xml" if atom else "application/rss+xml"
    headers = {"ETag": _etag(body)} if etag else {}
    server.add(path, body, content_type=content_type, headers=headers)
    return headers.get("ETag", "")


class Simulator:
    """Hosts 127.0.0.2, 127.0.0.3, ...: one :class:`NewsServer` (one thread per connection) each."""

    def __init__(self, hosts: int, *, latency_s: float = 0.0) -> None:
        if hosts > 250:
            raise ValueError("at most 250 hosts (127.0.0.2 .. 127.0.0.251)")
        self.latency_s = latency_s
        self.servers = [NewsServer(host=f"127.0.0.{n + 2}") for n in range(hosts)]

    def __enter__(self) -> Simulator:
        for server in self.servers:
            server.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in self.servers:
            server.__exit__(*exc_info)

    def add_page(self, server: NewsServer, path: str, page: bytes) -> None:
        # Compressed once here, as a real server's cache would: the simulator should cost little CPU.
        server.routes[path] = Response(
            gzip.compress(page, 1),
            headers={"Content-Encoding": "gzip"},
            delay_s=self.latency_s,
        )

    def reset(self) -> None:
        for server in self.servers:
            with server._lock:
                server.hits.clear()
                server.peak_active = server.active

    def stats(self) -> dict[str, object]:
        peaks = [server.peak_active for server in self.servers]
        return {
            "requests": sum(sum(server.hits.values()) for server in self.servers),
            "hosts": len(self.servers),
            "peak_per_host_max": max(peaks, default=0),
            "peak_per_host_median": sorted(peaks)[len(peaks) // 2] if peaks else 0,
        }


def build_ingest(sim: Simulator, articles: int) -> list[dict[str, object]]:
    """One outlet per host, each with a feed of ``articles`` new articles (even outlets RSS, odd Atom)."""
    pages = ingest_pages(len(sim.servers), articles)
    sources = []
    start = datetime.now(UTC) - timedelta(days=1)
    for outlet, server in enumerate(sim.servers, start=1):
        paths = [page_path(outlet, index) for index in range(1, articles + 1)]
        for index, path in enumerate(paths, start=1):
            sim.add_page(server, path, pages[(outlet, index)])
        feed = "/atom.xml" if outlet % 2 else "/rss.xml"
        add_feed(server, feed, _items(server, paths, start=start, label=f"o{outlet}"), atom=outlet % 2 == 1)
        sources.append({"id": f"outlet{outlet}", "feed": server.url(feed)})
    return sources


def build_idle(
    sim: Simulator, feeds_per_host: int, items: int, *, etag: bool = True
) -> tuple[list[dict[str, object]], dict[str, str]]:
    """``feeds_per_host`` small feeds on every host; returns the sources and each feed's ETag by URL."""
    sources = []
    etags = {}
    start = datetime.now(UTC) - timedelta(days=1)
    for h, server in enumerate(sim.servers):
        for f in range(feeds_per_host):
            label = f"h{h}f{f}"
            paths = [f"/{label}/article/{n}" for n in range(items)]
            feed = f"/{label}/feed.xml"
            tag = add_feed(
                server, feed, _items(server, paths, start=start, label=label), atom=f % 2 == 1, etag=etag
            )
            etags[server.url(feed)] = tag
            sources.append({"id": label.lower(), "feed": server.url(feed)})
    return sources, etags


def write_config(path: Path, sources: list[dict[str, object]], *, archive: Path, **http: object) -> None:
    """A config for monitor: its real defaults, except what a local benchmark must change."""
    settings = {"allow_private_networks": True, "per_host_delay": 0, **http}
    fetch_articles = settings.pop("fetch_articles", True)
    config = {
        "archive": str(archive),
        "http": settings,
        "defaults": {"fetch_articles": fetch_articles},
        "sources": sources,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


class SimulatorProcess:
    """The simulator in a child process: ``with SimulatorProcess("ingest", "--outlets", "20") as sim``."""

    def __init__(self, *args: str) -> None:
        self.args = args

    def __enter__(self) -> SimulatorProcess:
        import subprocess

        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"simulator did not start (exit {self.process.wait()})")
        self.ready = json.loads(line)
        return self

    def stats(self) -> dict[str, object]:
        """Requests and per-host peak concurrency since the last call (or the start)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        result: dict[str, object] = json.loads(self.process.stdout.readline())
        return result

    def __exit__(self, *exc_info: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
            self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["ingest", "idle"])
    parser.add_argument("--outlets", type=int, default=20, help="ingest: outlets (one host each)")
    parser.add_argument("--articles", type=int, default=20, help="ingest: new articles per outlet")
    parser.add_argument("--hosts", type=int, default=20, help="idle: hosts")
    parser.add_argument("--feeds", type=int, default=100, help="idle: feeds per host")
    parser.add_argument("--items", type=int, default=2, help="idle: items per feed")
    parser.add_argument("--no-etag", action="store_true", help="idle: feeds without validators")
    parser.add_argument("--latency", type=float, default=0.0, help="added seconds per article page")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--archive", type=Path, default=None)
    parser.add_argument("--etags", type=Path, default=None, help="idle: write {feed url: etag} here")
    parser.add_argument("--http", default="{}", help="JSON of extra http settings for the config")
    args = parser.parse_args()
    archive = args.archive or args.config.with_suffix(".db")
    hosts = args.outlets if args.mode == "ingest" else args.hosts
    with Simulator(hosts, latency_s=args.latency) as sim:
        if args.mode == "ingest":
            sources = build_ingest(sim, args.articles)
        else:
            sources, etags = build_idle(sim, args.feeds, args.items, etag=not args.no_etag)
            if args.etags:
                args.etags.write_text(json.dumps(etags), encoding="utf-8")
        write_config(args.config, sources, archive=archive, **json.loads(args.http))
        print(json.dumps({"ready": len(sources)}), flush=True)
        for line in sys.stdin:  # serve until the benchmark closes our stdin; "stats" reports and resets
            if line.strip() == "stats":
                print(json.dumps(sim.stats()), flush=True)
                sim.reset()


if __name__ == "__main__":
    main()
