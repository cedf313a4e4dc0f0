"""Pure extraction: article HTML -> :class:`monitor.models.ExtractedPage` (body text and metadata).

The heavy parts (trafilatura, lxml, the language model) load on first use, so that readers of the archive
(`monitor search`, the store) do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

EXTRACTOR_VERSION = "2026.11.30.4"
"""Bump when extraction changes, so that `monitor reextract` knows which articles an older version made."""

if TYPE_CHECKING:
    from monitor.extract.article import extract_article
    from monitor.extract.charset import decode_html

__all__ = ["EXTRACTOR_VERSION", "decode_html", "extract_article"]


def __getattr__(name: str) -> Any:
    if name == "extract_article":
        from monitor.extract.article import extract_article

        return extract_article
    if name == "decode_html":
        from monitor.extract.charset import decode_html

        return decode_html
    raise AttributeError(name)
