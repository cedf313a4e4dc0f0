"""Helpers shared by the archive's modules: the time format, error translation, JSON columns, and the
row-to-record mappings both backends (SQLite and PostgreSQL) use, each taking a converter for where their
columns differ."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from monitor.errors import QueryError, StoreError
from monitor.models import (
    Alert,
    ArticleFields,
    Attribution,
    PollState,
    SearchHit,
    SourceKnowledge,
    SourceStatus,
    StoredPage,
)
from monitor.query import parse
from monitor.snippets import Terms, best_snippet, terms_of
from monitor.timefmt import utc_iso

P = ParamSpec("P")
R = TypeVar("R")


iso = utc_iso
"""UTC ISO 8601 with a ``Z``: the one time format stored in the archive (:func:`monitor.timefmt.utc_iso`)."""


def _attribution_json(attribution: Attribution | None) -> str | None:
    if attribution is None:
        return None
    return json.dumps(
        {"name": attribution.name, "url": attribution.url, "line": attribution.line}, ensure_ascii=False
    )


def _credit(value: str | None) -> Attribution | None:
    """The credit stored as JSON (``{"name", "url", "line"}``), decoded."""
    if not value:
        return None
    data = json.loads(value)
    return Attribution(name=data.get("name"), line=data.get("line"), url=data.get("url"))


def _strings(value: str | None) -> tuple[str, ...]:
    """A list of strings stored as a JSON array (``authors``, ``keywords``), decoded."""
    return tuple(json.loads(value)) if value else ()


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _translated(method: Callable[P, R]) -> Callable[P, R]:
    """Turn sqlite3 errors into :class:`StoreError` at the boundary."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as exc:
            raise StoreError(f"store: {method.__name__} failed: {exc}") from exc

    return wrapper


def _same(value: Any) -> Any:
    """A column as it is: the converter where a backend's value needs none."""
    return value


def _knowledge(
    site_name: str | None, template_language: str | None, samples: Any, decode: Callable[[Any], Any]
) -> SourceKnowledge:
    """A source's learned knowledge from its ``sources`` columns; ``decode`` turns the stored ``page_samples``
    into its mapping (JSON text in SQLite, jsonb already decoded in PostgreSQL). Unreadable samples are
    dropped: they are a cache, learned again."""
    titles: tuple[str, ...] = ()
    languages: tuple[tuple[str | None, str | None, float], ...] = ()
    if samples:
        try:
            data = decode(samples)
            titles = tuple(str(t) for t in data.get("titles", []))
            languages = tuple((d, g, float(c)) for d, g, c in data.get("languages", []))
        except (ValueError, TypeError, AttributeError):
            pass  # samples are a cache: unreadable ones are learned again
    return SourceKnowledge(site_name, template_language, titles, languages)


STATE_COLUMNS = (
    "id, interval_s, error_count, not_found_count, new_per_poll, last_polled_at, next_poll_at, etag, "
    "last_modified, body_hash, feed, dead, site_name, template_language, page_samples"
)
"""The ``sources`` columns :func:`_poll_state` reads, in its order."""


def _poll_state(
    row: Sequence[Any], moment: Callable[[Any], datetime | None], decode: Callable[[Any], Any]
) -> PollState:
    """A source's poll state from a row of :data:`STATE_COLUMNS`; ``moment`` reads a stored time."""
    return PollState(
        interval_s=row[1],
        error_count=row[2],
        not_found_count=row[3],
        new_per_poll=row[4],
        last_polled_at=moment(row[5]),
        next_poll_at=moment(row[6]),
        etag=row[7],
        last_modified=row[8],
        body_hash=row[9],
        url=row[10],
        dead=bool(row[11]),
        knowledge=_knowledge(row[12], row[13], row[14], decode),
    )


def _source_status(r: Sequence[Any], text: Callable[[Any], Any]) -> SourceStatus:
    """A source's status from a ``source_statuses`` row (id, name, kind, feed, enabled, articles,
    articles in 24h, last polled, next poll, last success, interval, last status, last error, error count,
    polls, not-modified count, dead, config url); ``text`` turns a stored moment into UTC ISO text."""
    enabled, dead, last_polled, error = bool(r[4]), bool(r[16]), r[7], r[12]
    state = (
        "disabled"
        if not enabled
        else "dead"
        if dead
        else "erroring"
        if error
        else "ok"
        if last_polled
        else "never polled"
    )
    return SourceStatus(
        id=r[0],
        name=r[1],
        kind=r[2],
        url=r[3],
        enabled=enabled,
        state=state,
        articles=int(r[5]),
        articles_24h=int(r[6]),
        last_polled_at=text(last_polled),
        next_poll_at=text(r[8]),
        last_success_at=text(r[9]),
        interval_s=r[10],
        last_status=r[11],
        last_error=error,
        error_count=r[13],
        polls=r[14],
        not_modified_share=round(r[15] / r[14], 3) if r[14] else None,
        moved_from=r[17] if r[17] != r[3] else None,
    )


def _alerts(rows: Sequence[Sequence[Any]], text: Callable[[Any], Any]) -> list[Alert]:
    """Alerts from pending-delivery rows (delivery id, match id, channel, watch, article id, url, source,
    title, published, matched, watch query, attempts, article text, language), each with a snippet of the
    article for its watch's terms; ``text`` turns a stored moment into UTC ISO text."""
    alerts = []
    terms: dict[str, Terms | None] = {}  # by watch query: parsed once for all its alerts
    for r in rows:
        if r[10] not in terms:
            terms[r[10]] = None
            with contextlib.suppress(QueryError):  # a watch changed since the match: no snippet
                terms[r[10]] = terms_of(parse(r[10]))
        watched = terms[r[10]]
        snippet = "" if watched is None else best_snippet(r[7], r[12] or "", r[13], watched)
        alerts.append(
            Alert(
                delivery_id=int(r[0]),
                match_id=int(r[1]),
                channel=r[2],
                watch=r[3],
                article_id=int(r[4]),
                url=r[5],
                source=r[6],
                title=r[7],
                published_at=text(r[8]),
                matched_at=str(text(r[9])),
                snippet=" ".join(snippet.split()),
                attempts=int(r[11]),
            )
        )
    return alerts


def _collapsed(
    page: Sequence[tuple[int, int]],
    limit: int,
    rows_of: Callable[[list[int]], Mapping[int, Sequence[Any]]],
    copies_of: Callable[[list[int]], Mapping[int, int]],
    hit: Callable[[Sequence[Any], Sequence[Any], int], SearchHit],
) -> list[SearchHit]:
    """One hit per story, in the order the stories first matched (``page``: article id, story id): made by
    ``hit(original, matching, copies)``, the story's original standing for it and the matching copy giving
    the snippet. ``rows_of`` reads articles by id, ``copies_of`` counts each story's copies."""
    firsts: dict[int, int] = {}
    for article_id, story_id in page:
        firsts.setdefault(story_id, article_id)
        if len(firsts) == limit:
            break
    if not firsts:
        return []
    rows = rows_of(list({*firsts, *firsts.values()}))
    counts = copies_of(list(firsts))
    hits = []
    for story_id, article_id in firsts.items():
        matching = rows[article_id]
        hits.append(hit(rows.get(story_id) or matching, matching, counts.get(story_id, 0)))
    return hits


RAW_PAGE_COLUMNS = "a.id, a.source, r.url, r.content_type, r.charset, r.compression, r.body"
"""The first columns of a kept page's row (:func:`_stored_page`); the article's fields and the feed's
evidence follow."""


def _stored_page(row: Sequence[Any], current: ArticleFields, text: Callable[[Any], Any]) -> StoredPage:
    """A kept page from its row: :data:`RAW_PAGE_COLUMNS`, the article's fields (made into ``current`` by
    the caller), then feed title, entry published, entry language, channel title, channel language."""
    feed = [text(value) for value in row[len(row) - 5 :]]
    return StoredPage(
        article_id=row[0],
        source=row[1],
        url=row[2],
        content_type=row[3],
        charset=row[4],
        compression=row[5],
        body=bytes(row[6]),
        current=current,
        feed_title=feed[0],
        entry_published_at=feed[1],
        entry_language=feed[2],
        channel_title=feed[3],
        channel_language=feed[4],
    )
