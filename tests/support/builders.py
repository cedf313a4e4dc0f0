"""Records for tests that write to an archive without a poll: an :class:`~monitor.models.Article` of the
outlet ``outlet``, numbered, one minute apart from :data:`T0`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from monitor.dedup import band_keys, content_hash
from monitor.models import Article, ArticleBatch, FetchRecord

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def plain_body(n: int) -> str:
    return f"Story number {n} is about nothing else at all."


def harbour_body(n: int) -> str:
    """A body whose band keys differ from article to article (each names its own harbour)."""
    return f"Story number {n} is about harbour number {n} and nothing else at all, said the mayor."


def article(n: int, text: str | None = None, *, body: Callable[[int], str] = plain_body) -> Article:
    """Article ``n`` of ``outlet`` (published ``n`` minutes after :data:`T0`, fetched a minute later) with
    ``text``, or ``body(n)`` when none is given, as its text."""
    text = text or body(n)
    url = f"https://outlet.example/news/{n}.html"
    return Article(
        url=url,
        source="outlet",
        guid=f"g{n}",
        title=f"Headline {n}",
        authors=(),
        published_at=T0 + timedelta(minutes=n),
        fetched_at=T0 + timedelta(minutes=n + 1),
        text=text,
        summary=None,
        language="en",
        image=None,
        extraction="page",
        content_hash=content_hash(text),
        urls=(url,),
        link=url,
        bands=tuple(band_keys(text)),
    )


def batch(*articles: Article) -> ArticleBatch:
    """``articles`` as one batch of ``outlet``'s poll at :data:`T0`, each with its page fetch logged."""
    fetches = tuple(FetchRecord("outlet", a.url, "page", T0, status=200, bytes=100) for a in articles)
    return ArticleBatch("outlet", T0, articles, fetches=fetches, recheck_s=3600.0)
