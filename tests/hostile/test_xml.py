"""XML that attacks its parser: entity expansion (billion laughs) and external entities (XXE), in RSS, Atom,
a sitemap and an article page. Nothing may expand, no file may be read, no URL may be fetched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.support.newssite import NewsServer

from .conftest import Poll, poll_once

LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = f'<!DOCTYPE {{root}} [<!ENTITY lol0 "lol">{LAUGHS}]>'
"""lol9 expands to 10^9 "lol": 3 GB from a few hundred bytes."""
XXE = '<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
REMOTE_DTD = '<!DOCTYPE {root} SYSTEM "{base}/evil.dtd">'
PARAMETER = '<!DOCTYPE {root} [<!ENTITY % remote SYSTEM "{base}/evil-parameter.dtd"> %remote;]>'
ATTACKS = {"laughs": BILLION_LAUGHS, "xxe": XXE, "remote-dtd": REMOTE_DTD, "parameter": PARAMETER}
REFERENCE = {"laughs": "&lol9;", "xxe": "&xxe;", "remote-dtd": "&evil;", "parameter": "&evil;"}
"""What each document says where the attacker wants the payload."""


def _rss(doctype: str, reference: str, link: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
        f"<title>Feed {reference}</title><item><title>Headline {reference}</title><link>{link}</link>"
        f"<guid>g1</guid><description>Teaser {reference} end.</description></item></channel></rss>"
    )


def _atom(doctype: str, reference: str, link: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Feed {reference}</title><id>urn:x</id><updated>2024-01-01T00:00:00Z</updated><entry>"
        f'<title>Headline {reference}</title><link rel="alternate" href="{link}"/><id>urn:x:1</id>'
        f"<updated>2024-01-01T00:00:00Z</updated><summary>Teaser {reference} end.</summary></entry></feed>"
    )


def _sitemap(doctype: str, reference: str, link: str) -> str:
    today = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<urlset '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{link}</loc><news:news><news:publication><news:name>X {reference}</news:name>"
        "<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{today}</news:publication_date>"
        f"<news:title>Headline {reference}</news:title></news:news></url></urlset>"
    )


def _page(doctype: str, reference: str) -> str:
    body = " ".join(["An ordinary sentence of the article body, long enough to be kept."] * 12)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<html xmlns="http://www.w3.org/1999/xhtml">'
        f"<head><title>Page {reference}</title></head><body><article><h1>Page {reference}</h1>"
        f"<p>{body} {reference}</p></article></body></html>"
    )


FORMATS = {
    "rss": (_rss, "rss", "application/rss+xml"),
    "atom": (_atom, "feed", "application/atom+xml"),
    "sitemap": (_sitemap, "urlset", "application/xml"),
}
EVIL_DTD = '<!ENTITY evil SYSTEM "file:///etc/passwd"><!ENTITY % leak "<!ENTITY exfil SYSTEM \'{base}/x\'>">'


@dataclass
class World:
    server: NewsServer
    poll: Poll


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Every attack in every format, one source each, and an article page per attack (linked from a clean
    feed), polled in one run."""
    with NewsServer() as server:
        base = server.base_url
        for name in ("evil.dtd", "evil-parameter.dtd"):
            server.add(f"/{name}", EVIL_DTD.format(base=base), content_type="application/xml-dtd")
        sources: list[dict[str, object]] = []
        items = []
        for attack, doctype in ATTACKS.items():
            page_path = f"/pages/{attack}"
            server.add(page_path, _page(doctype.format(root="html", base=base), REFERENCE[attack]))
            items.append(
                f"<item><title>Page {attack}</title><link>{server.url(page_path)}</link>"
                f"<guid>page-{attack}</guid><description>Teaser.</description></item>"
            )
            for kind, (render, root, content_type) in FORMATS.items():
                path = f"/{kind}/{attack}.xml"
                link = server.url(f"/articles/{kind}-{attack}")
                server.add(
                    f"/articles/{kind}-{attack}",
                    "<html><body><article><h1>Plain</h1><p>"
                    + " ".join(["A plain story about the weather in the valley."] * 12)
                    + "</p></article></body></html>",
                )
                document = render(doctype.format(root=root, base=base), REFERENCE[attack], link)
                server.add(path, document, content_type=content_type)
                source: dict[str, object] = {"id": f"{kind}-{attack}"}
                source.update(
                    {"kind": "sitemap", "url": server.url(path)}
                    if kind == "sitemap"
                    else {"feed": server.url(path)}
                )
                sources.append(source)
        server.add(
            "/pages.xml",
            f"<rss version='2.0'><channel><title>Pages</title>{''.join(items)}</channel></rss>",
            content_type="application/rss+xml",
        )
        sources.append({"id": "pages", "feed": server.url("/pages.xml")})
        yield World(server, poll_once(server, tmp_path_factory.mktemp("xml"), sources))


def test_no_file_is_ever_read(world: World) -> None:
    archived = world.poll.everything()
    assert "root:" not in archived and "/bin/" not in archived


def test_no_dtd_or_entity_is_fetched(world: World) -> None:
    assert world.server.hits["/evil.dtd"] == 0
    assert world.server.hits["/evil-parameter.dtd"] == 0
    assert world.server.hits["/x"] == 0


def test_no_entity_is_expanded(world: World) -> None:
    archived = world.poll.everything()
    assert "lollol" not in archived
    assert len(archived) < 2_000_000  # the archive holds a few small articles, not gigabytes of laughter


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("attack", ATTACKS)
def test_each_hostile_document_is_survived(world: World, kind: str, attack: str) -> None:
    """Either the document is refused with a parser error, or its items are kept with the entity dropped
    (or left as literal text), never with its expansion."""
    source_id = f"{kind}-{attack}"
    row = world.poll.source(source_id)
    articles = world.poll.articles(source_id)
    if row.last_error is not None:
        assert row.last_error.startswith("parser: "), row.last_error
        assert articles == []
    else:
        (article,) = articles
        assert article.url == world.server.url(f"/articles/{kind}-{attack}")
        assert article.title == "Plain"  # from the page
        for value in (article.feed_title or "", article.summary or ""):
            assert "lollol" not in value and "root:" not in value


@pytest.mark.parametrize("source_id", ["rss-laughs", "atom-laughs"])
def test_feed_entities_are_not_even_partly_expanded(world: World, source_id: str) -> None:
    about = [line for line in world.poll.log.splitlines() if f"source={source_id} " in line]
    assert about and not any("amplification" in line for line in about), about


def test_hostile_article_pages_are_extracted_without_their_entities(world: World) -> None:
    assert world.poll.source("pages").last_error is None
    articles = world.poll.articles("pages")
    assert len(articles) == len(ATTACKS)
    for article in articles:
        assert "An ordinary sentence of the article body" in article.text, article
        assert "lollol" not in article.text and "root:" not in article.text
