"""Article page -> body text and metadata (pure, CPU-bound: the pipeline runs it in a process pool)."""

from __future__ import annotations

from datetime import datetime

from bs4 import BeautifulSoup

from monitor.extract.body import extract_body
from monitor.extract.charset import decode_html
from monitor.extract.metadata import extract_metadata
from monitor.models import ExtractedPage

__all__ = ["extract_article", "extract_body"]


def extract_article(
    content: bytes | str, *, url: str, now: datetime, charset: str | None = None
) -> ExtractedPage:
    """Extract one article page. ``now`` bounds plausible dates; nothing here reads the clock."""
    html = content if isinstance(content, str) else decode_html(content, charset)
    soup = BeautifulSoup(html, "lxml")
    meta = extract_metadata(soup, now=now)
    return ExtractedPage(
        text=extract_body(html, url=url),
        title=meta.title,
        authors=meta.authors,
        published_at=meta.published_at,
        modified_at=meta.modified_at,
        summary=meta.description,
        language=meta.language,
        image=meta.image,
        canonical_url=meta.canonical_url,
    )
