"""Rows for the terminal or for pipes: table, json, jsonl, csv. :func:`render` returns text (pure);
:func:`write_records` streams records to the file it is given, one at a time (``monitor export``).

In CSV a list or a mapping is one cell holding its JSON (``["Ana Ruiz", "Li Wei"]``), for every command, so
that a program reads it back with one ``json.loads``; the table joins a list with ``, `` for people.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMATS = ("table", "json", "jsonl", "csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def csv_cell(value: Any) -> Any:
    """A CSV cell: a list or a mapping as JSON, ``None`` empty, anything else as itself."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """``json`` is one array, ``jsonl`` one object per line, ``csv`` has a header row (lists as JSON
    arrays), ``table`` is aligned text for people. Every format ends with a newline unless empty."""
    if fmt == "json":
        return (
            json.dumps([{c: row.get(c) for c in columns} for row in rows], ensure_ascii=False, indent=2)
            + "\n"
        )
    if fmt == "jsonl":
        return "".join(
            json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n" for row in rows
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
        return buffer.getvalue()
    return table(rows, columns)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, width: int | None = None) -> str:
    """Aligned columns; the last column is cut to fit the terminal."""
    if not rows:
        return ""
    width = width or shutil.get_terminal_size((120, 24)).columns
    cells = [[_cell(row.get(c)).replace("\n", " ") for c in columns] for row in rows]
    headers = [c.upper() for c in columns]
    widths = [max(len(headers[i]), *(len(r[i]) for r in cells)) for i in range(len(columns))]
    fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
    widths[-1] = max(10, min(widths[-1], width - fixed))

    def line(values: Sequence[str]) -> str:
        out = []
        for i, value in enumerate(values):
            if len(value) > widths[i]:
                value = value[: widths[i] - 1] + "…"
            out.append(value.ljust(widths[i]) if i < len(values) - 1 else value)
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)]) + "\n"


def write_records(
    records: Iterable[Mapping[str, Any]],
    output: TextIO,
    columns: Sequence[str],
    fmt: str,
    *,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Write ``records`` as ``jsonl`` (every key of each record) or ``csv`` (a header row, then ``columns``)
    in constant memory; ``progress(1)`` after each. Returns how many were written."""
    output.write("")  # -o FILE exists afterwards even when nothing matched
    writer = csv.writer(output, lineterminator="\n") if fmt == "csv" else None
    if writer is not None:
        writer.writerow(columns)
    written = 0
    for record in records:
        if writer is not None:
            writer.writerow([csv_cell(record[c]) for c in columns])
        else:
            output.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
        if progress is not None:
            progress(1)
    return written
