"""monitor: poll news outlets, extract every article, recognise duplicates, archive in SQLite."""

__version__ = "0.1.0"
