"""Article page -> body text and metadata (pure, CPU-bound: the pipeline runs it in a process pool)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import trafilatura
from bs4 import BeautifulSoup

from monitor.extract.charset import decode_html
from monitor.extract.metadata import extract_metadata
from monitor.htmltext import normalise_paragraphs
from monitor.models import ExtractedPage


def _element_text(element: Any) -> str:
    return " ".join("".join(element.itertext()).split())


def body_text(body: Any) -> str:
    """trafilatura's body tree -> paragraphs separated by a blank line; list items one per line."""
    paragraphs: list[str] = []
    for child in body:
        if child.tag == "list":
            items = [_element_text(item) for item in child if item.tag == "item"]
            text = "\n".join(item for item in items if item)
        elif child.tag == "table":
            rows = [" | ".join(_element_text(cell) for cell in row) for row in child.iter("row")]
            text = "\n".join(row for row in rows if row.strip(" |"))
        else:
            text = _element_text(child)
        if text:
            paragraphs.append(text)
    return normalise_paragraphs("\n\n".join(paragraphs))


def extract_body(html: str, *, url: str | None = None) -> str:
    """The article body as plain text ('' when there is none)."""
    document = trafilatura.bare_extraction(
        html, url=url, include_comments=False, with_metadata=False, include_tables=True
    )
    body = getattr(document, "body", None)
    return body_text(body) if body is not None else ""


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
