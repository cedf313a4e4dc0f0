"""Imported by the extraction pool's fork server only (its preload, :func:`monitor.workers.pool_context`).

One extraction of a small built-in page, so that what ``extract_article`` loads on its first call (the
language model, ~0.4 s of CPU; trafilatura's and the metadata rules' compiled patterns) is loaded once, in
the fork server, and shared by every worker forked from it, instead of once in each worker. Importing this
anywhere else would only cost that time in the wrong process.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from monitor.extract import extract_article

_SENTENCES = (
    "The city council met on Tuesday evening to discuss the new budget for the coming year. "
    "Several residents spoke about the state of the roads and the cost of public transport. "
    "The mayor said that the plan would be published next week, after a final vote. "
)
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Council discusses the budget</title>"
    "<meta name='author' content='Jane Doe'>"
    "<meta property='article:published_time' content='2026-01-05T18:30:00+01:00'></head>"
    "<body><header><a href='/'>Home</a></header><article><h1>Council discusses the budget</h1>"
    "<p class='byline'>By Jane Doe</p>" + f"<p>{_SENTENCES}</p>" * 4 + "</article>"
    "<footer><p>All rights reserved.</p></footer></body></html>"
).encode()


def warm_up() -> None:
    """Extract the built-in page once; a failure here is left for the real pages to report."""
    with contextlib.suppress(Exception):  # a warm-up never stops the fork server
        extract_article(PAGE, url="http://localhost/news/warm-up.html", now=datetime(2026, 1, 6, tzinfo=UTC))


warm_up()
