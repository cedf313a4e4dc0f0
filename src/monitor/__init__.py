"""monitor: poll news outlets, extract every article, recognise duplicates, archive in SQLite.

``from monitor import Archive`` opens an archive for reading (see :mod:`monitor.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from monitor._version import __version__

if TYPE_CHECKING:
    from monitor.api import Archive

__all__ = ["Archive", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Archive":  # loaded on first use: `monitor --help` need not import the store
        from monitor.api import Archive

        return Archive
    raise AttributeError(name)
