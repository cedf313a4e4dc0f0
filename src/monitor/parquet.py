"""Parquet export (issue 6): typed columns for pandas, DuckDB, Polars and Spark, streamed in row groups.

pyarrow is an optional extra (``pip install 'monitor[parquet]'``), imported only here and only when asked
for. Records arrive one at a time from the store's streaming iterator and leave in row groups of
``BATCH_ROWS``, so memory stays flat whatever the archive's size. The file is written beside its final name
and renamed when complete: a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.errors import MissingExtraError

INSTALL_HINT = (
    "--format parquet needs pyarrow, an optional extra: pip install 'monitor[parquet]' "
    "(from a checkout: .venv/bin/pip install -e '.[parquet]')"
)
BATCH_ROWS = 1000
TIME_COLUMNS = ("published_at", "fetched_at", "modified_at")


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None
    return pyarrow


def schema() -> Any:
    pa = _pyarrow()
    text, whole = pa.string(), pa.int64()
    when = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("id", whole),
            ("url", text),
            ("source", text),
            ("title", text),
            ("authors", pa.list_(text)),
            ("published_at", when),
            ("fetched_at", when),
            ("modified_at", when),
            ("language", text),
            ("section", text),
            ("keywords", pa.list_(text)),
            ("outlet_name", text),
            ("image", text),
            ("summary", text),
            ("text", text),
            ("extraction", text),
            ("content_hash", text),
            ("story_id", whole),
            ("duplicate_of", whole),
            ("duplicate_score", pa.float64()),
            ("attribution", pa.struct([("name", text), ("line", text), ("url", text)])),
        ]
    )


def _row(record: dict[str, Any]) -> dict[str, Any]:
    row = dict(record)
    for column in TIME_COLUMNS:
        value = row.get(column)
        row[column] = datetime.fromisoformat(value) if value else None
    attribution = row.get("attribution")
    if isinstance(attribution, dict):
        row["attribution"] = {key: attribution.get(key) for key in ("name", "line", "url")}
    return row


def write_parquet(
    records: Iterable[dict[str, Any]],
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Write ``records`` (the store's export records) to ``path``; returns how many were written."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    layout = schema()
    partial = path.with_name(f".{path.name}.part")
    written = 0
    try:
        with pq.ParquetWriter(str(partial), layout, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for record in records:
                batch.append(_row(record))
                if len(batch) >= batch_rows:
                    writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=layout))
                    written += len(batch)
                    if progress is not None:
                        progress(len(batch))
                    batch.clear()
            if batch or not written:  # an empty export is still a valid file with the schema
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=layout))
                written += len(batch)
                if progress is not None:
                    progress(len(batch))
        partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return written
