"""Re-extraction's side of the archive (mixed into :class:`~monitor.store.sqlite.SQLiteArchive`): which
articles have a kept page, the pages with their current fields, and the fields written back (D25).
"""

import contextlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from monitor.dedup import band_keys
from monitor.models import (
    ArticleFields,
    Reextraction,
    StoredPage,
    field_names,
)
from monitor.store import fts
from monitor.store.common import (
    RAW_PAGE_COLUMNS,
    _attribution_json,
    _credit,
    _same,
    _stored_page,
    _strings,
    _translated,
    iso,
)


class ReextractionStore:
    db: Database

    if TYPE_CHECKING:  # provided by SQLiteArchive and PollWriter

        def _write(self) -> contextlib.AbstractContextManager[None]: ...

        def _file_bands(self, article_id: int, keys: Iterable[int]) -> None: ...

        def _unfile_bands(self, article_id: int, keys: Iterable[int]) -> None: ...

    # -- re-extraction -------------------------------------------------------------------------------

    @_translated
    def reextract_ids(
        self, *, sources: Sequence[str] = (), since: datetime | None = None, version: str | None = None
    ) -> list[int]:
        """Ids of articles with a kept raw page (of these sources, fetched since), oldest first; with
        ``version``, only those a different extractor version made (what makes a re-run resumable)."""
        where = ["1 = 1"]
        params: list[Any] = []
        if sources:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if since is not None:
            where.append("a.fetched_at >= ?")
            params.append(iso(since))
        if version is not None:
            where.append("a.extractor IS NOT ?")
            params.append(version)
        rows = self.db.execute(
            f"SELECT a.id FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
            f"WHERE {' AND '.join(where)} ORDER BY a.id",
            params,
        )
        return [row[0] for row in rows]

    @_translated
    def raw_pages(self, ids: Sequence[int]) -> list[StoredPage]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT {RAW_PAGE_COLUMNS}, "
            f"{', '.join(f'a.{column}' for column in _FIELD_COLUMNS)}, a.feed_title, a.entry_published_at, "
            f"a.entry_language, a.channel_title, a.channel_language "
            f"FROM articles AS a JOIN raw_pages AS r ON r.article_id = a.id "
            f"WHERE a.id IN ({marks}) ORDER BY a.id",
            list(ids),
        ).fetchall()
        pages = []
        for row in rows:
            fields = dict(zip(_FIELD_COLUMNS, row[7 : 7 + len(_FIELD_COLUMNS)], strict=True))
            current = ArticleFields(
                **fields
                | {
                    "authors": _strings(fields["authors"]),
                    "keywords": _strings(fields["keywords"]),
                    "attribution": _credit(fields["attribution"]),
                }
            )
            pages.append(_stored_page(row, current, _same))
        return pages

    @_translated
    def apply_reextraction(self, changes: Sequence[Reextraction], *, version: str) -> int:
        changed = 0
        searchable: list[int] = []
        with self._write():
            for change in changes:
                article_id = change.article_id
                columns = _field_values(change)
                if columns:
                    if "text" in columns:
                        old = self.db.execute(
                            "SELECT text FROM articles WHERE id = ?", [article_id]
                        ).fetchone()
                        if old is not None:
                            self._unfile_bands(article_id, band_keys(old[0]))
                        self._file_bands(article_id, band_keys(str(columns["text"])))
                    assignments = ", ".join(f"{column} = ?" for column in columns)
                    self.db.execute(
                        f"UPDATE articles SET {assignments} WHERE id = ?", [*columns.values(), article_id]
                    )
                    if {"title", "text", "language"} & set(columns):
                        searchable.append(article_id)
                    changed += 1
                self.db.execute("UPDATE articles SET extractor = ? WHERE id = ?", [version, article_id])
            fts.reindex(self.db.conn, searchable)
        return changed


_FIELD_COLUMNS = tuple(field_names(ArticleFields))
"""The columns of the re-extractable fields (named as the fields are)."""


def _field_values(change: Reextraction) -> dict[str, Any]:
    """A re-extraction's changed fields as column values (lists and the credit as JSON)."""
    values: dict[str, Any] = {}
    for name in sorted(change.changed, key=_FIELD_COLUMNS.index):
        value = getattr(change.fields, name)
        if name in ("authors", "keywords"):
            value = json.dumps(list(value), ensure_ascii=False)
        elif name == "attribution":
            value = _attribution_json(value)
        values[name] = value
    return values
