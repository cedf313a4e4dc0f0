"""Imported by the extraction pool's fork server only (its preload, :func:`monitor.workers.pool_context`).

One extraction of a small built-in page, so that what ``extract_article`` loads on its first call (the
language model, ~0.4 s of CPU; trafilatura's and the metadata rules' compiled patterns) is loaded once, in
the fork server, and shared by every worker forked from it, instead of once in each worker; what is loaded
is then frozen out of the garbage collector's walks, so that the workers go on sharing it. Importing this
anywhere else would only cost that time in the wrong process.
"""

from __future__ import annotations

import contextlib
import gc
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


def freeze() -> None:
    """Move everything loaded so far out of the garbage collector's reach (``gc.freeze``), as Python's
    documentation advises before forking: a worker's full collections would otherwise walk the fork
    server's ~47,000 objects and write to each one's header, copying the pages that hold them into every
    worker (measured: ~7 MB more of each worker stays shared with the fork server; issue 14)."""
    gc.collect()
    gc.freeze()


warm_up()
freeze()
