"""``python -m monitor.web ARGS``: Datasette's own command line (``datasette ARGS``) with monitor's plugin
registered, so that the search box reads monitor's query language (:mod:`monitor.web.plugin`)."""

from __future__ import annotations

from datasette.cli import cli  # type: ignore[import-untyped]
from datasette.plugins import pm  # type: ignore[import-untyped]

from monitor.web import plugin

if not pm.is_registered(plugin):
    pm.register(plugin, name="monitor")
cli(prog_name="datasette")
