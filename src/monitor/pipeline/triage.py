"""Triage (pure): what a poll does with each entry of a listing.

An entry is *new* (its page is fetched and archived), *known* (archived already, by this source's GUID or by
any source's URL: nothing to do), an *alias* (known by URL under a GUID of this source not seen before: the
GUID is recorded), *changed* (known, but its feed entry differs from when it was last seen: a likely edit,
re-fetched), or *deferred* (another source's poll is fetching the same URL right now: left to it). An entry
without an http(s) link is *refused*. No clock, network or disk: what the archive knows comes in as data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from monitor.articles import entry_fingerprint, entry_link
from monitor.dedup import canonical_url
from monitor.models import EntryAlias, FeedEntry, KnownEntry


@dataclass(frozen=True, slots=True)
class ListedEntry:
    """An entry with a usable link, the first of the listing's entries with that canonical URL."""

    key: str
    """The canonical URL: what dedup compares."""
    fetch_url: str
    """The link as published: what is requested."""
    entry: FeedEntry


@dataclass(frozen=True, slots=True)
class ListedEntries:
    by_key: dict[str, ListedEntry]
    """By canonical URL, in listing order."""
    refused: tuple[FeedEntry, ...] = ()
    """Entries without a usable http(s) link: never requested."""

    @property
    def guids(self) -> list[str]:
        return [item.entry.guid for item in self.by_key.values() if item.entry.guid]


@dataclass(frozen=True, slots=True)
class Changed:
    """An archived article whose feed entry changed since it was last seen."""

    article_id: int
    item: ListedEntry


@dataclass(frozen=True, slots=True)
class Triage:
    new: tuple[ListedEntry, ...] = ()
    aliases: tuple[EntryAlias, ...] = ()
    changed: tuple[Changed, ...] = ()
    known: int = 0
    """Archived entries with nothing to do (unchanged, or archived before their fingerprint was kept)."""
    deferred: int = 0


def candidates(entries: Iterable[FeedEntry], *, feed_url: str) -> ListedEntries:
    """The listing's entries by canonical URL (the first of each), and those refused for their link."""
    by_key: dict[str, ListedEntry] = {}
    refused: list[FeedEntry] = []
    for entry in entries:
        fetch_url = entry_link(entry, feed_url=feed_url)
        if fetch_url is None:
            refused.append(entry)
            continue
        key = canonical_url(fetch_url)
        by_key.setdefault(key, ListedEntry(key, fetch_url, entry))
    return ListedEntries(by_key, tuple(refused))


def refused_scheme(link: str) -> str:
    """What a refused link is recorded as: its scheme only (the link itself may be a script)."""
    return link.split(":", 1)[0].strip().lower()[:20] if ":" in link else "relative"


def triage(
    source: str,
    listed: ListedEntries,
    known_guids: Mapping[str, KnownEntry],
    known_urls: Mapping[str, KnownEntry],
    *,
    in_flight: Collection[str] = (),
) -> Triage:
    """Decide each candidate from what the archive knows (``known_guids``: this source's GUIDs;
    ``known_urls``: any source's canonical URLs) and the URLs other polls are fetching (``in_flight``)."""
    new: list[ListedEntry] = []
    aliases: list[EntryAlias] = []
    changed: list[Changed] = []
    known_count = deferred = 0
    for key, item in listed.by_key.items():
        known = known_guids.get(item.entry.guid) if item.entry.guid else None
        if known is None and key in known_urls:
            known = known_urls[key]
            aliases.append(EntryAlias(source, item.entry.guid, key))
        if known is not None:
            if known.entry_hash is not None and known.entry_hash != entry_fingerprint(item.entry):
                changed.append(Changed(known.article_id, item))
            else:
                known_count += 1
        elif key in in_flight:
            deferred += 1
        else:
            new.append(item)
    return Triage(tuple(new), tuple(aliases), tuple(changed), known_count, deferred)
