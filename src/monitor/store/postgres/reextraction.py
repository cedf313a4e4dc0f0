"""Re-extraction's writes on PostgreSQL (a mixin of :class:`~monitor.store.postgres.archive.PostgresArchive`,
issue 16): ``apply_reextraction`` as SQLite's (:mod:`monitor.store.reextraction`, D25): the changed fields
written in one transaction, a new text's near-duplicate band keys filed in place of the old ones, the search
document of every article whose title, text or language changed written again, every listed article stamped
with the extractor version. Its reads (``reextract_ids``, ``raw_pages``) are :mod:`.queries`'.

Workers may be committing polls meanwhile. Before it reads anything the transaction takes the poll writer's
advisory locks (:mod:`.locking`) on the new texts' band keys and content hashes, all at once in ascending
order, so a poll placing a copy of a re-extracted article waits for the new keys rather than missing them;
each article is then read ``FOR UPDATE``, so a re-check of the same article cannot interleave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg import Connection
from psycopg.types.json import Jsonb

from monitor.dedup import band_keys
from monitor.models import ArticleFields, Reextraction, field_names
from monitor.store.postgres import fts
from monitor.store.postgres.locking import lock_all, lock_key
from monitor.store.postgres.writing import _attribution

T = TypeVar("T")

_FIELD_COLUMNS = tuple(field_names(ArticleFields))
"""The columns of the re-extractable fields (named as the fields are)."""
_MOMENTS = frozenset({"published_at", "modified_at"})
"""Fields carried as ISO text and stored as ``timestamptz``."""


def _when(value: str | None) -> datetime | None:
    """A field's ISO moment as the archive stores it (UTC, to the second); a naive one is taken as UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _field_values(change: Reextraction) -> dict[str, Any]:
    """A re-extraction's changed fields as column values (lists and the credit as jsonb, moments typed)."""
    values: dict[str, Any] = {}
    for name in sorted(change.changed, key=_FIELD_COLUMNS.index):
        value = getattr(change.fields, name)
        if name in ("authors", "keywords"):
            value = Jsonb(list(value))
        elif name == "attribution":
            value = _attribution(value)
        elif name in _MOMENTS:
            value = _when(value)
        values[name] = value
    return values


class PostgresReextraction:
    """``apply_reextraction`` of :class:`ArchiveWriter` on PostgreSQL."""

    if TYPE_CHECKING:  # provided by PostgresArchive and PostgresPollWriter
        display: str

        def _transaction(self) -> AbstractContextManager[Connection[Any]]: ...

        def _run(self, what: str, work: Callable[[Connection[Any]], T]) -> T: ...

        @staticmethod
        def _file_bands(conn: Connection[Any], article_id: int, keys: Iterable[int]) -> None: ...

        @staticmethod
        def _unfile_bands(conn: Connection[Any], article_id: int, keys: Iterable[int]) -> None: ...

    def apply_reextraction(self, changes: Sequence[Reextraction], *, version: str) -> int:
        def write(conn: Connection[Any]) -> int:
            keys: set[int] = set()
            for change in changes:
                if "text" in change.changed:
                    keys.update(band_keys(change.fields.text))
                if "content_hash" in change.changed:
                    keys.add(lock_key(change.fields.content_hash))
            lock_all(conn, keys)
            changed = 0
            searchable: list[int] = []
            for change in changes:
                article_id = change.article_id
                old = conn.execute(
                    "SELECT text FROM articles WHERE id = %s FOR UPDATE", [article_id]
                ).fetchone()
                columns = _field_values(change)
                if columns:
                    if "text" in columns:
                        if old is not None:
                            self._unfile_bands(conn, article_id, band_keys(old[0]))
                        self._file_bands(conn, article_id, band_keys(str(columns["text"])))
                    assignments = ", ".join(f"{column} = %s" for column in columns)
                    conn.execute(
                        f"UPDATE articles SET {assignments} WHERE id = %s",
                        [*columns.values(), article_id],
                    )
                    if {"title", "text", "language"} & set(columns):
                        searchable.append(article_id)
                    changed += 1
                conn.execute("UPDATE articles SET extractor = %s WHERE id = %s", [version, article_id])
            if searchable:
                rows = conn.execute(
                    "SELECT id, title, text, language FROM articles WHERE id = ANY(%s) ORDER BY id",
                    [list(dict.fromkeys(searchable))],
                ).fetchall()
                fts.index_many(conn, [(int(r[0]), r[1], r[2], r[3]) for r in rows])
            return changed

        return self._run("re-extraction", write)
