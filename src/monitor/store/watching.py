"""Watches in the archive: matching new articles, and the queue of alerts to deliver (a mixin)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from monitor.errors import QueryError
from monitor.models import Alert, Watch
from monitor.store import fts
from monitor.store.common import _alerts, _same, _translated, iso


class WatchStore:
    db: Database

    def _write(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError  # provided by SQLiteArchive

    @_translated
    def sync_watches(self, watches: Sequence[Watch]) -> None:
        """Make the ``watches`` table hold the configured watches (their matches are kept)."""
        with self._write():
            self.db.execute("UPDATE watches SET in_config = 0")
            for watch in watches:
                self.db.execute(
                    "INSERT INTO watches (id, query, sources, tags, languages, channels, in_config) "
                    "VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (id) DO UPDATE SET query = excluded.query, "
                    "sources = excluded.sources, tags = excluded.tags, languages = excluded.languages, "
                    "channels = excluded.channels, in_config = 1",
                    [
                        watch.id,
                        watch.query,
                        json.dumps(list(watch.sources)),
                        json.dumps(list(watch.tags)),
                        json.dumps(list(watch.languages)),
                        json.dumps(list(watch.channels)),
                    ],
                )

    def check_query(self, query: str) -> None:
        """Raise :class:`QueryError` (naming the position) unless ``query`` parses and has words to search
        for: a watch must never fail inside a poll's transaction."""
        fts.match_string(query)

    def _match_watches(self, article_ids: Sequence[int], at: str) -> None:
        """Record which watches these (new or revised) articles match, inside the poll's transaction, so a
        match is never lost between storing an article and alerting on it. A copy of a story the watch
        already matched is recorded without being notified again."""
        if not article_ids:
            return
        watches = self.db.execute(
            "SELECT id, query, sources, tags, languages, channels FROM watches WHERE in_config = 1"
        ).fetchall()
        if not watches:
            return
        marks = ",".join("?" * len(article_ids))
        info = {
            row[0]: row[1:]
            for row in self.db.execute(
                f"SELECT a.id, a.source, a.language, a.story_id, s.tags FROM articles AS a "
                f"LEFT JOIN sources AS s ON s.id = a.source WHERE a.id IN ({marks})",
                list(article_ids),
            )
        }
        for watch_id, query, sources, tags, languages, channels in watches:
            try:
                match = fts.match_string(query)
            except QueryError as exc:
                raise QueryError(f"watch {watch_id}: {exc}") from None
            try:
                hits = [
                    row[0]
                    for row in self.db.execute(
                        f"SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid IN ({marks})",
                        [match, *article_ids],
                    )
                ]
            except sqlite3.OperationalError as exc:
                raise QueryError(f"watch {watch_id}: {query!r} cannot be searched ({exc})") from None
            wanted_sources, wanted_tags, wanted_languages = (
                json.loads(sources),
                json.loads(tags),
                json.loads(languages),
            )
            for article_id in hits:
                source, language, story_id, source_tags = info[article_id]
                if wanted_sources and source not in wanted_sources:
                    continue
                if wanted_languages and language not in wanted_languages:
                    continue
                if wanted_tags and not set(wanted_tags) & set(json.loads(source_tags or "[]")):
                    continue
                seen_story = self.db.execute(
                    "SELECT 1 FROM matches AS m JOIN articles AS a ON a.id = m.article_id "
                    "WHERE m.watch = ? AND a.story_id = ? AND m.notify = 1 LIMIT 1",
                    [watch_id, story_id],
                ).fetchone()
                row = self.db.execute(
                    "INSERT INTO matches (watch, article_id, matched_at, notify) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (watch, article_id) DO NOTHING RETURNING id",
                    [watch_id, article_id, at, 0 if seen_story else 1],
                ).fetchone()
                if row is not None and not seen_story:
                    self.db.conn.executemany(
                        "INSERT INTO deliveries (match_id, channel) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [(row[0], channel) for channel in json.loads(channels)],
                    )

    @_translated
    def pending_alerts(self, now: datetime, *, limit: int = 500) -> list[Alert]:
        rows = self.db.execute(
            """
            SELECT d.id, m.id, d.channel, m.watch, a.id, a.url, a.source, a.title, a.published_at,
                   m.matched_at, w.query, d.attempts, a.text, a.language
            FROM deliveries AS d JOIN matches AS m ON m.id = d.match_id
            JOIN articles AS a ON a.id = m.article_id JOIN watches AS w ON w.id = m.watch
            WHERE d.delivered_at IS NULL AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)
            ORDER BY d.id LIMIT ?
            """,
            [iso(now), limit],
        ).fetchall()
        return _alerts(rows, _same)

    @_translated
    def delivered(self, delivery_ids: Sequence[int], at: datetime) -> None:
        with self._write():
            for delivery_id in delivery_ids:
                self.db.execute(
                    "UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1, last_error = NULL "
                    "WHERE id = ?",
                    [iso(at), delivery_id],
                )
                self._settle_match(delivery_id, at)

    @_translated
    def delivery_failed(self, delivery_id: int, error: str, *, retry_at: datetime, at: datetime) -> None:
        with self._write():
            self.db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                [error, iso(retry_at), delivery_id],
            )
            self._settle_match(delivery_id, at)

    def _settle_match(self, delivery_id: int, at: datetime) -> None:
        """A match is delivered when every channel of it is; its attempts and last error sum them up."""
        self.db.execute(
            """
            UPDATE matches SET
                attempts = (SELECT sum(attempts) FROM deliveries WHERE match_id = matches.id),
                last_error = (SELECT last_error FROM deliveries WHERE match_id = matches.id
                              AND last_error IS NOT NULL ORDER BY id DESC LIMIT 1),
                delivered_at = CASE WHEN (SELECT count(*) FROM deliveries WHERE match_id = matches.id
                                          AND delivered_at IS NULL) = 0 THEN ? END
            WHERE id = (SELECT match_id FROM deliveries WHERE id = ?)
            """,
            [iso(at), delivery_id],
        )
