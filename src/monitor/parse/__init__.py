"""Pure parsers: feed documents -> :class:`monitor.models.ParsedFeed`."""

from monitor.parse.feeds import parse_feed

__all__ = ["parse_feed"]
