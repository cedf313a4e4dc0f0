"""Pure extraction: article HTML -> :class:`monitor.models.ExtractedPage` (body text and metadata)."""

from monitor.extract.article import extract_article
from monitor.extract.charset import decode_html

__all__ = ["decode_html", "extract_article"]
