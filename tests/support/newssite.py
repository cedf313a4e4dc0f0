"""A local news-site server for tests and demos: real HTTP on 127.0.0.1, counting every request.

Run it alone to try monitor by hand (the README session was captured against it):

    python -m tests.support.newssite --outlets 6 --articles 20 --port 8765 --config demo.yaml
    monitor -c demo.yaml run --once
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import random
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up mid-body (the size-cap tests) are expected here


class NewsServer:
    """Serve fixed responses (or custom handlers) by path; ``hits`` counts requests per path."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Response | Handler] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.active = 0
        self.peak_active = 0
        self.starts: list[float] = []
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                with server._lock:
                    server.hits[path] += 1
                    server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
                    server.starts.append(time.monotonic())
                    server.active += 1
                    server.peak_active = max(server.peak_active, server.active)
                self._counted = True
                try:
                    route = server.routes.get(path) or server.routes.get(urlsplit(path).path)
                    if route is None:
                        self._send(Response(b"not found", status=404, content_type="text/plain"))
                    elif isinstance(route, Response):
                        self._send(route)
                    else:
                        route(self)
                finally:
                    self._done()

            def _done(self) -> None:
                """Stop counting this request as active before its response goes out: the client may start
                its next request the moment it has read this one, before this thread would get here."""
                if getattr(self, "_counted", False):
                    self._counted = False
                    with server._lock:
                        server.active -= 1

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with server._lock:
                    server.hits[self.path] += 1
                    server.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                route = server.routes.get(self.path)
                self._send(route if isinstance(route, Response) else Response(b"not found", status=404))

            def _send(self, response: Response) -> None:
                if response.delay_s:
                    time.sleep(response.delay_s)
                etag = response.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag and response.status == 200:
                    self._done()
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = response.body
                headers = {"Content-Type": response.content_type, **response.headers}
                compress = "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 512
                if compress and "Content-Encoding" not in headers:
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._done()
                self.send_response(response.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = _QuietServer((host, port), RequestHandler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> NewsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, path: str, body: bytes | str, **kwargs: object) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Response(data, **kwargs)  # type: ignore[arg-type]

    def url(self, path: str) -> str:
        return self.base_url + path


# -- synthetic outlets ---------------------------------------------------------------------------------

_SUBJECTS = [
    "The foreign minister",
    "Officials in the capital",
    "A spokesperson for the ministry",
    "Independent analysts",
    "The central bank",
    "Local residents",
    "Opposition lawmakers",
    "Regional diplomats",
    "The port authority",
    "Union representatives",
]
_VERBS = [
    "said on Tuesday that",
    "warned that",
    "confirmed that",
    "denied reports that",
    "argued in a statement that",
    "told reporters that",
    "announced that",
]
_OBJECTS = [
    "talks on the energy agreement would resume next month",
    "the new sanctions would hit exporters hardest",
    "the delegation had reached a preliminary understanding on grain shipments",
    "the river crossing would reopen after repairs to the bridge",
    "inflation had slowed for the third consecutive quarter",
    "a joint commission would review the border arrangements",
    "relief convoys were waiting for permission to enter the district",
    "the vote on the budget had been postponed until after the holiday",
]
_TOPICS = [
    "energy",
    "trade",
    "border",
    "budget",
    "relief",
    "shipping",
    "elections",
    "water",
    "rail",
    "health",
]


_PLACES = [
    "Ankara",
    "Bogotá",
    "Cairo",
    "Dakar",
    "Geneva",
    "Hanoi",
    "Jakarta",
    "Kyiv",
    "Lima",
    "Manila",
    "Nairobi",
    "Oslo",
    "Quito",
    "Riyadh",
    "Santiago",
    "Tbilisi",
    "Vienna",
    "Warsaw",
    "Yerevan",
    "Zagreb",
]


def article_text(outlet: int, index: int) -> list[str]:
    """Deterministic, distinct paragraphs for one synthetic article (each sentence carries its own place and
    figure, so that two stories never share long runs of words by accident)."""
    rng = random.Random(outlet * 1000 + index)
    paragraphs = []
    for _ in range(6):
        sentences = [
            f"In {rng.choice(_PLACES)}, {rng.choice(_SUBJECTS).lower()} {rng.choice(_VERBS)} "
            f"{rng.choice(_OBJECTS)}, {rng.randint(2, 900)} people were told."
            for _ in range(3)
        ]
        paragraphs.append(" ".join(sentences))
    paragraphs.insert(
        0,
        f"Story {index} from outlet {outlet} concerns the {_TOPICS[index % len(_TOPICS)]} "
        f"dispute, reference code OUT{outlet}ART{index}.",
    )
    return paragraphs


_FIRST_NAMES = ("Amal", "Jonas", "Mei", "Sergei", "Lucia", "Kwame", "Priya", "Tomás", "Hana", "Omar")
_LAST_NAMES = ("Haddad", "Berger", "Okafor")


def reporter(outlet: int, index: int) -> str:
    """The byline of an outlet's article: a person's name, as a real byline has (one of three per outlet)."""
    return f"{_FIRST_NAMES[outlet % len(_FIRST_NAMES)]} {_LAST_NAMES[index % 3]}"


def article_page(outlet: int, index: int, *, title: str, published: datetime, canonical: str) -> str:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in article_text(outlet, index))
    nav = "".join(f'<li><a href="/section/{t}">{t.title()}</a></li>' for t in _TOPICS)
    related = "".join(f'<li><a href="/related/{i}">Related headline number {i}</a></li>' for i in range(5))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | Outlet {outlet} News</title>
<link rel="canonical" href="{canonical}">
<meta property="og:site_name" content="Outlet {outlet} News">
<meta property="og:image" content="/images/{outlet}/{index}.jpg">
<meta name="author" content="{reporter(outlet, index)}">
<meta property="article:published_time" content="{published.isoformat()}">
</head><body>
<header><nav><ul>{nav}</ul></nav><div class="ticker">Breaking: markets open higher</div></header>
<main><article>
<h1>{html.escape(title)}</h1>
<div class="byline">By {reporter(outlet, index)}</div>
<time datetime="{published.isoformat()}">{published:%d %B %Y}</time>
<div class="article-body">{body}</div>
<div class="share">Share on Facebook · Share on X · Copy link</div>
</article>
<aside><h2>Related stories</h2><ul>{related}</ul></aside></main>
<footer><p>Copyright Outlet {outlet} News. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""


def rss_feed(items: list[dict[str, str]], *, title: str, link: str) -> str:
    entries = "".join(
        f"""<item><title>{html.escape(i["title"])}</title><link>{html.escape(i["link"])}</link>
<guid isPermaLink="false">{i["guid"]}</guid><pubDate>{i["rfc822"]}</pubDate>
<description>{html.escape(i["summary"])}</description></item>"""
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{html.escape(title)}</title><link>{link}</link>
<language>en</language>{entries}</channel></rss>"""


def atom_feed(items: list[dict[str, str]], *, title: str, link: str) -> str:
    entries = "".join(
        f"""<entry><title>{html.escape(i["title"])}</title><link rel="alternate" href="{html.escape(i["link"])}"/>
<id>{i["guid"]}</id><published>{i["iso"]}</published><updated>{i["iso"]}</updated>
<summary>{html.escape(i["summary"])}</summary></entry>"""
        for i in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{html.escape(title)}</title>
<link href="{link}"/><id>{link}</id><updated>2024-01-01T00:00:00Z</updated>{entries}</feed>"""


def _etag(body: str) -> str:
    return '"' + hashlib.sha256(body.encode("utf-8")).hexdigest()[:16] + '"'


def add_outlets(
    server: NewsServer,
    *,
    outlets: int = 6,
    articles: int = 20,
    start: datetime = datetime(2024, 5, 1, tzinfo=UTC),
) -> list[dict[str, object]]:
    """Serve ``outlets`` sites of ``articles`` articles each (even outlets RSS, odd Atom); returns the
    config entries for them. Feed links carry tracking parameters, as real feeds do."""
    sources = []
    for outlet in range(1, outlets + 1):
        items = []
        for index in range(1, articles + 1):
            published = start + timedelta(hours=outlet * 100 + index)
            path = f"/outlet{outlet}/news/{index}-{_TOPICS[index % len(_TOPICS)]}-story"
            title = f"Outlet {outlet} story {index}: {_TOPICS[index % len(_TOPICS)]} talks continue"
            server.add(
                path,
                article_page(outlet, index, title=title, published=published, canonical=server.url(path)),
            )
            items.append(
                {
                    "title": title,
                    "link": server.url(path) + "?utm_source=rss&utm_medium=feed",
                    "guid": f"outlet{outlet}-{index}",
                    "rfc822": format_datetime(published),
                    "iso": published.isoformat().replace("+00:00", "Z"),
                    "summary": article_text(outlet, index)[0],
                }
            )
        home = server.url(f"/outlet{outlet}/")
        if outlet % 2:
            feed_path, content_type = f"/outlet{outlet}/atom.xml", "application/atom+xml"
            body = atom_feed(items, title=f"Outlet {outlet}", link=home)
        else:
            feed_path, content_type = f"/outlet{outlet}/rss.xml", "application/rss+xml"
            body = rss_feed(items, title=f"Outlet {outlet}", link=home)
        server.add(feed_path, body, content_type=content_type, headers={"ETag": _etag(body)})
        sources.append(
            {"id": f"outlet{outlet}", "name": f"Outlet {outlet} News", "feed": server.url(feed_path)}
        )
    return sources


FIXTURES = Path(__file__).parents[1] / "data"
FIXTURE_PAGES = {
    "/news/2022/06/khamenei-maduro-resistance": ("seed_article.html", "text/html; charset=iso-8859-1"),
    "/fr/societe/greve-transports-port-marville": ("plain_article.html", "text/html"),
    "/ar/local/rainwater-harvesting": ("arabic_article.html", "text/html; charset=utf-8"),
}


def add_fixture_outlet(server: NewsServer) -> dict[str, object]:
    """Serve the golden feed and pages of ``tests/data`` (the seed article among them). The headers lie
    about two pages' charsets, as servers do: the seed page is UTF-8 sent as latin-1, the Arabic page is
    windows-1256 sent as UTF-8."""
    feed = (FIXTURES / "feeds" / "rss2.xml").read_text(encoding="utf-8").replace("{base}", server.base_url)
    server.add("/digest/rss.xml", feed, content_type="application/rss+xml; charset=utf-8")
    for path, (name, content_type) in FIXTURE_PAGES.items():
        server.add(path, (FIXTURES / "pages" / name).read_bytes(), content_type=content_type)
    return {"id": "digest", "name": "Regional Digest", "feed": server.url("/digest/rss.xml")}


def free_port() -> int:
    """A port nothing listens on now (for servers a test starts later, or never)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Stop a command a test started: SIGTERM, a kill after ``timeout`` seconds; its pipes are drained
    and closed either way."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            process.kill()
    process.communicate()


def write_config(path: Path, sources: list[dict[str, object]], *, archive: Path) -> None:
    import yaml

    config = {
        "archive": str(archive),
        # Every outlet here is one host (127.0.0.1): polite defaults would serialise the whole suite.
        "http": {"allow_private_networks": True, "timeout": "5s", "per_host": 8, "per_host_delay": 0},
        "sources": sources,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outlets", type=int, default=6)
    parser.add_argument("--articles", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--config", type=Path, default=Path("demo.yaml"))
    parser.add_argument("--archive", type=Path, default=Path("data/demo.db"))
    args = parser.parse_args()
    server = NewsServer(args.port)
    sources = [add_fixture_outlet(server), *add_outlets(server, outlets=args.outlets, articles=args.articles)]
    write_config(args.config, sources, archive=args.archive)
    print(f"serving {args.outlets} outlets at {server.base_url}; config written to {args.config}")
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
