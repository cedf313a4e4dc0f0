"""The configured sources as OPML 2.0, for feed readers and other monitors (pure: returns text)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from monitor.models import Source


def sources_opml(sources: Sequence[Source]) -> str:
    """Feeds as ``type="rss"`` with ``xmlUrl``; sitemaps and section pages with their kind and ``url``."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>monitor sources</title></head>",
        "  <body>",
    ]
    for source in sources:
        attributes = {
            "text": source.name,
            "title": source.name,
            "type": "rss" if source.kind == "feed" else source.kind,
            "xmlUrl" if source.kind == "feed" else "url": source.url,
        }
        if source.tags:
            attributes["category"] = ",".join(source.tags)
        if source.language:
            attributes["language"] = source.language
        rendered = " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"
