"""Re-extraction's writes on PostgreSQL behave as on SQLite (issue 16): each scenario runs on both backends with
the same expectations: the changed fields written, every listed article stamped, the near-duplicate bands
filed again (a copy of the new text joins the story, a copy of the old one no longer does), the search index
following title, text and language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from monitor.dedup import band_keys, content_hash
from monitor.models import (
    Article,
    ArticleBatch,
    ArticleFields,
    Attribution,
    Reextraction,
    SearchQuery,
    Source,
)
from monitor.timefmt import utc_iso
from tests.support import backends
from tests.support.backends import AnyArchive, Backend
from tests.support.builders import T0, article

backend = backends.backend  # the fixture: each scenario below runs on both backends

SOURCES = [
    Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0),
    Source(id="wire", name="Wire", url="https://wire.example/feed", interval_s=900.0),
]


def _long(n: int, topic: str) -> str:
    words = " ".join(f"word{(n * 7919 + i * 104729) % 100003}" for i in range(120))
    return f"Story {n}: the council voted on the {topic}. {words}"


OLD = _long(1, "harbour")
NEW = _long(2, "glacier")


def _wire(text: str, n: int) -> Article:
    url = f"https://wire.example/{n}.html"
    base = article(10 + n, text + " (Reuters)")
    return replace(base, source="wire", url=url, link=url, urls=(url,), guid=f"wire-{n}")


def _commit(archive: AnyArchive, *articles: Article) -> list[int]:
    return archive.commit_batch(ArticleBatch(articles[0].source, T0, articles)).inserted


def _found(archive: AnyArchive, query: str) -> list[int]:
    return sorted(hit.id for hit in archive.search(SearchQuery(query=query, limit=100)))


@pytest.fixture
def writer(backend: Backend) -> Iterator[AnyArchive]:
    opened = backend.open()
    opened.sync_sources(SOURCES)
    try:
        yield opened
    finally:
        opened.close()


def _reextracted(archive: AnyArchive, article_id: int, **changes: Any) -> Reextraction:
    stored = archive.get_article(str(article_id))
    fields: dict[str, Any] = {
        "text": stored.text,
        "content_hash": stored.content_hash,
        "title": stored.title,
        "authors": stored.authors,
        "summary": stored.summary,
        "language": stored.language,
        "image": stored.image,
        "section": stored.section,
        "keywords": stored.keywords,
        "outlet_name": stored.outlet_name,
        "published_at": stored.published_at,
        "modified_at": stored.modified_at,
        "published_local": stored.published_local,
        "attribution": stored.attribution,
        "extraction": stored.extraction,
    }
    new = ArticleFields(**(fields | changes))
    changed = frozenset(name for name in fields if getattr(new, name) != fields[name])
    return Reextraction(article_id=article_id, fields=new, changed=changed)


def test_changed_fields_are_written_and_every_listed_article_stamped(
    writer: AnyArchive, backend: Backend
) -> None:
    first, second = _commit(writer, article(1, OLD), article(2))
    when = utc_iso(T0 - timedelta(days=1))
    changes = [
        _reextracted(
            writer,
            first,
            title="A new headline about falcons",
            authors=("Ana Ruiz", "Li Wei"),
            keywords=("council",),
            published_at=when,
            modified_at=when,
            published_local="2026-10-31T14:00:00+02:00",
            section="Local",
            attribution=Attribution(name="Reuters", line="(Reuters) -"),
        ),
        _reextracted(writer, second),  # nothing changed: stamped only
    ]
    assert writer.apply_reextraction(changes, version="v9") == 1
    stored = writer.get_article(str(first))
    assert (stored.title, stored.authors, stored.keywords, stored.section) == (
        "A new headline about falcons",
        ("Ana Ruiz", "Li Wei"),
        ("council",),
        "Local",
    )
    assert (stored.published_at, stored.modified_at, stored.published_local) == (
        when,
        when,
        "2026-10-31T14:00:00+02:00",
    )
    assert stored.attribution == Attribution(name="Reuters", line="(Reuters) -")
    assert backend.execute(writer, "SELECT id, extractor FROM articles ORDER BY id") == [
        (first, "v9"),
        (second, "v9"),
    ]
    assert writer.get_article(str(second)).title == "Headline 2"


def test_search_follows_title_text_and_language(writer: AnyArchive) -> None:
    first, second = _commit(writer, article(1, OLD), article(2, "Heavy floods hit the valley again."))
    assert _found(writer, "harbour") == [first] and _found(writer, "flood") == [second]
    writer.apply_reextraction(
        [
            _reextracted(writer, first, title="Falcons return", text=NEW, content_hash=content_hash(NEW)),
            _reextracted(writer, second, language="de"),
        ],
        version="v2",
    )
    assert _found(writer, "harbour") == []
    assert _found(writer, "glacier") == [first]
    assert _found(writer, "title:falcons") == [first]
    assert _found(writer, "flood") == []  # no longer English: no stems
    assert _found(writer, "floods") == [second]


def test_a_new_text_files_its_bands_in_place_of_the_old(writer: AnyArchive, backend: Backend) -> None:
    (first,) = _commit(writer, article(1, OLD))
    changes = [_reextracted(writer, first, text=NEW, content_hash=content_hash(NEW))]
    assert writer.apply_reextraction(changes, version="v2") == 1
    filed = backend.execute(writer, "SELECT key FROM article_bands WHERE article_id = %s", [first])
    assert {row[0] for row in filed} == set(band_keys(NEW))
    near_new, near_old = _commit(writer, _wire(NEW, 1), _wire(OLD, 2))
    assert writer.get_article(str(near_new)).story_id == writer.get_article(str(first)).story_id
    assert writer.get_article(str(near_old)).story_id not in (None, writer.get_article(str(first)).story_id)
