"""Publication and modification times of one page, by evidence (pure; ``now`` and ``fetched_at`` are
arguments, nothing here reads the clock).

Every place a page states a time becomes a :class:`Candidate` named by its source (``json-ld:datePublished``,
``meta:article:published_time``, ``time``...). :func:`choose_published` groups the candidates that agree on
the day, weighs each group by how structured and article-level its sources are, and returns the most precise
member of the heaviest group; a feed time to the minute refines a bare day on the same day. htmldate is the
last resort, for pages that state no time in their markup (issue 13).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from monitor.extract.evidence import Candidate, Choice, Moment, clean_text
from monitor.extract.page import NOT_CONTENT, PageDoc, element_text, ld_types
from monitor.extract.zones import DAY_AHEAD, in_page_zone

EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=15)
"""A time later than the fetch by more than this is wrong (a local time written as UTC, a scheduled
embargo, a template's placeholder) and is dropped, not clamped: clamping would invent a time."""
MAX_DATELINE_CHARS = 40
"""A dateline inside the headline element is a short line: a longer one is part of the headline."""
_HEADLINE_WORDS = frozenset({"a", "em", "strong", "b", "i", "mark", "q", "abbr", "u"})

_ISO = re.compile(
    r"""^(?P<y>\d{4})-?(?P<mo>\d\d)-?(?P<d>\d\d)
        (?:[T\s]+(?P<h>\d\d):?(?P<mi>\d\d)(?::?(?P<s>\d\d)(?:[.,]\d+)?)?
           \s*(?P<tz>Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)?)?$""",
    re.VERBOSE | re.IGNORECASE,
)
_DOTTED = re.compile(r"^(?P<d>\d{1,2})\.\s?(?P<mo>\d{1,2})\.\s?(?P<y>\d{4})$")
_SHORT_TZ_RFC = re.compile(r"\s(?:UT|UTC|GMT|Z)$", re.IGNORECASE)

PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "published_time",
    "published-date",
    "publish-date",
    "publish_date",
    "pubdate",
    "publishdate",
    "publication_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "dcterms.date",
    "date",
    "parsely-pub-date",
    "sailthru.date",
    "cxenseparse:recs:publishtime",
    "datecreated",
    "dc.created",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "article.updated",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)
_WEIGHT_BY_SOURCE = {
    "json-ld:datePublished": 6,
    "meta:article:published_time": 6,
    "meta:og:published_time": 5,
    "meta:og:article:published_time": 5,
    "meta:datepublished": 4,
    "meta:parsely-pub-date": 4,
    "meta:sailthru.date": 4,
    "itemprop:datePublished": 4,
    "meta:dc.date.issued": 4,
    "meta:dcterms.issued": 4,
    "meta:dcterms.created": 3,
    "time:pubdate": 3,
    "time": 2,
    "json-ld:other:datePublished": 2,
    "meta:date": 2,
    "meta:dc.date": 2,
    "url": 3,
    "text:headline": 1,
}
_DEFAULT_WEIGHT = 3


# parsing ---------------------------------------------------------------------------------------------
def parse_moment(value: object, *, now: datetime) -> Moment | None:
    """A stated time -> :class:`Moment` in the offset it declares (UTC, ``declared_offset=False``, when it
    declares none). ISO 8601 (``T`` or a space, fractional seconds, ``Z``), RFC 822, bare days (also
    ``12.12.2019``). A time of exactly midnight is read as a bare day: templates write dates that way. Times
    before 1995 or more than a day after ``now`` are wrong and give None."""
    moment = _moment(value)
    if moment is None:
        return None
    at = moment.at.astimezone(UTC)
    if at < EARLIEST or at > now.astimezone(UTC) + timedelta(days=1):
        return None
    return moment


def _moment(value: object) -> Moment | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return Moment(value.replace(tzinfo=UTC), "second", declared_offset=False)
        return Moment(value, "second")
    if isinstance(value, date):
        return Moment(datetime.combine(value, time(), UTC), "day", declared_offset=False)
    text = clean_text(value)
    if not text or len(text) > 64:
        return None
    if match := _ISO.match(text):
        return _from_iso(match)
    if match := _DOTTED.match(text):
        return _day(int(match["y"]), int(match["mo"]), int(match["d"]))
    return _from_rfc822(text)


def _day(year: int, month: int, day: int) -> Moment | None:
    try:
        return Moment(datetime(year, month, day, tzinfo=UTC), "day", declared_offset=False)
    except ValueError:
        return None


def _from_iso(match: re.Match[str]) -> Moment | None:
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    if match["h"] is None:
        return _day(year, month, day)
    tz = _offset(match["tz"])
    try:
        at = datetime(
            year, month, day, int(match["h"]), int(match["mi"]), int(match["s"] or 0), tzinfo=tz or UTC
        )
    except ValueError:
        return None
    if at.time() == time():
        return Moment(at, "day", declared_offset=tz is not None)
    return Moment(at, "second" if match["s"] else "minute", declared_offset=tz is not None)


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text.upper() in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_rfc822(text: str) -> Moment | None:
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" or no zone: the time is not tied to an offset
        declared = bool(_SHORT_TZ_RFC.search(text))
        return Moment(parsed.replace(tzinfo=UTC), "second", declared_offset=declared)
    return Moment(parsed, "second")


def parse_datetime(value: object, *, now: datetime) -> datetime | None:
    """A declared time as aware UTC (feeds, sitemaps): :func:`parse_moment`, converted."""
    moment = parse_moment(value, now=now)
    return to_utc(moment) if moment is not None else None


def to_utc(moment: Moment) -> datetime:
    """The moment in UTC (a bare day: midnight of that day in the page's zone, UTC when unknown)."""
    return moment.at.astimezone(UTC)


def local_iso(moment: Moment) -> str:
    """ISO 8601 as the page declares it: ``2019-12-12T09:30:00+01:00``; a bare day: ``2019-12-12``."""
    if moment.precision == "day":
        return moment.at.date().isoformat()
    return moment.at.isoformat(timespec="seconds")  # also for a minute: one shape for every reader


# candidates ------------------------------------------------------------------------------------------
def published_candidates(doc: PageDoc, *, now: datetime) -> tuple[Candidate[Moment], ...]:
    """Every publication time the page states, in order of how much it is trusted: JSON-LD (the article
    object, then others), meta tags, ``itemprop=datePublished``, the article's own ``<time>``."""
    found: list[Candidate[Moment]] = []
    article = doc.article_ld
    _add(found, article.get("datePublished"), "json-ld:datePublished", now)
    for obj in doc.json_ld:
        if obj is not article and not _is_listing(obj):
            _add(found, obj.get("datePublished"), "json-ld:other:datePublished", now)
    for key, value in doc.meta_all(*PUBLISHED_META):
        _add(found, value, f"meta:{key}", now)
    for element in doc.itemprop("datePublished"):
        stated = element.get("datetime") or element.get("content") or element_text(element)
        _add(found, stated, "itemprop:datePublished", now)
    time_element = _article_time(doc, now=now)
    if time_element is not None:
        found.append(time_element)
    for candidate in (_headline_date(doc, now=now), _url_date(doc, now=now)):
        if candidate is not None:
            found.append(candidate)
    modified = _modified(doc, now=now)
    return _restamped(in_page_zone(doc, found, modified), modified)


REPUBLISHED = timedelta(minutes=5)
REPUBLISHED_DAYS = 2
_SHOWN = frozenset({"time", "time:pubdate", "text:headline", "itemprop:datePublished", "url"})


def _restamped(
    found: Sequence[Candidate[Moment]], modified: Sequence[Candidate[Moment]]
) -> tuple[Candidate[Moment], ...]:
    """A publication time within minutes of the page's modification time, while every date the page shows
    (its ``<time>``, dateline, ``itemprop`` or URL) is at least ``REPUBLISHED_DAYS`` earlier (days in the
    page's zone), was stamped when the page was last saved (a CMS republishing): it is kept, as
    ``<source>=modified``, with no weight."""
    saved = [to_utc(c.value) for c in modified if c.value.precision != "day"]
    shown = [c.value.at.date() for c in found if c.source in _SHOWN]
    if not saved or not shown:
        return tuple(found)
    latest = max(shown)
    kept: list[Candidate[Moment]] = []
    for candidate in found:
        moment = candidate.value
        if (
            candidate.source not in _SHOWN
            and moment.precision != "day"
            and (moment.at.date() - latest).days >= REPUBLISHED_DAYS
            and any(abs(to_utc(moment) - at) <= REPUBLISHED for at in saved)
        ):
            candidate = Candidate(moment, f"{candidate.source}=modified")
        kept.append(candidate)
    return tuple(kept)


def modified_candidates(doc: PageDoc, *, now: datetime) -> tuple[Candidate[Moment], ...]:
    """Every modification time the page states (kept apart from the publication time)."""
    return in_page_zone(doc, _modified(doc, now=now))


def _modified(doc: PageDoc, *, now: datetime) -> list[Candidate[Moment]]:
    found: list[Candidate[Moment]] = []
    _add(found, doc.article_ld.get("dateModified"), "json-ld:dateModified", now)
    for key, value in doc.meta_all(*MODIFIED_META):
        _add(found, value, f"meta:{key}", now)
    for element in doc.itemprop("dateModified"):
        _add(found, element.get("datetime") or element.get("content"), "itemprop:dateModified", now)
    return found


def _add(found: list[Candidate[Moment]], value: Any, source: str, now: datetime) -> None:
    if isinstance(value, list):  # some pages list several; the first is the original
        value = value[0] if value else None
    moment = parse_moment(value, now=now)
    if moment is not None:
        found.append(Candidate(moment, source))


def _is_listing(obj: dict[str, Any]) -> bool:
    """JSON-LD objects that describe other articles (lists, breadcrumbs) say nothing of this one's date."""
    return any(
        kind in {"ItemList", "ListItem", "BreadcrumbList", "SiteNavigationElement"} for kind in ld_types(obj)
    )


def _article_time(doc: PageDoc, *, now: datetime) -> Candidate[Moment] | None:
    """The article's own ``<time datetime>``: ``time[pubdate]`` first, else the first one outside teaser
    lists, asides and footers (where related articles carry their own dates)."""
    elements = (
        [element for element in doc.elements("time") if element.get("datetime") is not None]
        if doc.from_root
        else doc.xpath("//time[@datetime]")
    )
    for element in elements:
        if element.get("pubdate") is not None and (m := parse_moment(element.get("datetime"), now=now)):
            return Candidate(m, "time:pubdate")
    for element in elements:
        if doc.in_teaser(element):
            continue
        if (moment := parse_moment(element.get("datetime"), now=now)) is not None:
            return Candidate(moment, "time")
    return None


_MONTH_NUMBERS = {
    name: number
    for number, names in enumerate(
        (
            "january januar janvier enero gennaio janeiro jänner jan",
            "february februar février febrero febbraio fevereiro feb",
            "march märz mars marzo março mar mär",
            "april avril abril aprile apr",
            "may mai mayo maggio maio",
            "june juni juin junio giugno junho jun",
            "july juli juillet julio luglio julho jul",
            "august août agosto aug",
            "september septembre septiembre settembre setembro sep sept",
            "october oktober octobre octubre ottobre outubro oct okt",
            "november novembre noviembre novembro nov",
            "december dezember décembre diciembre dicembre dezembro dec dez",
        ),
        start=1,
    )
    for name in names.split()
}
_MONTH_NAME = "|".join(sorted(_MONTH_NUMBERS, key=len, reverse=True))
_TEXT_DATES = (
    re.compile(r"\b(?P<d>\d{1,2})\.\s?(?P<mo>\d{1,2})\.\s?(?P<y>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<mo>\d\d)-(?P<d>\d\d)\b"),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})\.?\s+(?:de\s+)?(?P<name>{_MONTH_NAME})\.?,?\s+(?:de\s+)?(?P<y>(?:19|20)\d\d)\b",
        re.I,
    ),
    re.compile(
        rf"\b(?P<name>{_MONTH_NAME})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)\b", re.I
    ),
)
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|[-_]|$)")


def text_date(text: str, *, now: datetime, within: int | None = None) -> Moment | None:
    """The first date written out in a text (``1. Februar 2022``, ``12.12.2019``, ``March 3, 2020``...),
    with ``within`` one that starts in its first ``within`` characters."""
    found: list[tuple[int, Moment]] = []
    for pattern in _TEXT_DATES:
        match = pattern.search(text)
        if match is None or (within is not None and match.start() > within):
            continue
        month = _MONTH_NUMBERS[match["name"].lower()] if "name" in pattern.groupindex else int(match["mo"])
        moment = _day(int(match["y"]), month, int(match["d"]))
        if moment is not None and parse_moment(moment.at, now=now) is not None:
            found.append((match.start(), moment))
    return min(found, key=lambda item: item[0])[1] if found else None


def _headline_date(doc: PageDoc, *, now: datetime) -> Candidate[Moment] | None:
    """A date written in the headline element after its words (``<h1>Title<small>02.02.2022</small>``),
    else just below the headline (the dateline a reader sees)."""
    moment = _date_inside_headline(doc, now=now) or text_date(" ".join(doc.after_headline), now=now)
    return Candidate(moment, "text:headline") if moment is not None else None


def _date_inside_headline(doc: PageDoc, *, now: datetime) -> Moment | None:
    """A short line of the first ``h1``'s children that is a date: a dateline the template put inside the
    headline element. The headline's own words (the ``h1``'s text) and long lines are not read, so that a
    date the headline mentions is not taken for the day it was published."""
    if not doc.after_headline:  # no h1, or one in a teaser
        return None
    headline = doc.elements("h1")[0]
    for child in headline.iterdescendants():
        # a text belongs to the element that holds it: the child's text to the child, its tail to its parent
        for text, holder in ((child.text, child), (child.tail, child.getparent())):
            if holder is headline or holder.tag in _HEADLINE_WORDS:
                continue  # the headline's own words, or words it emphasises
            line = " ".join((text or "").split())
            if 8 <= len(line) <= MAX_DATELINE_CHARS and (moment := text_date(line, now=now)) is not None:
                return moment
    return None


def _url_date(doc: PageDoc, *, now: datetime) -> Candidate[Moment] | None:
    """A day in the page's URL path (``/2019/12/12/``, ``/2019-12-12-``)."""
    match = _URL_DATE.search(urlsplit(doc.url or "").path)
    if match is None:
        return None
    moment = _day(int(match[1]), int(match[2]), int(match[3]))
    if moment is None or parse_moment(moment.at, now=now) is None:
        return None
    return Candidate(moment, "url")


_PUBLISHED_LABEL = re.compile(
    r"(?:^|[\s|·•,;(])(?:erschienen|veröffentlicht|publiziert|erstellt|published|posted|publié|publiée|"
    r"publicado|publicada|pubblicato|pubblicata)(?:\s+(?:am|on|le|el|il|em))?\s*:?\s*",
    re.IGNORECASE,
)
MAX_LABEL_LINE = 120
DATE_AFTER_LABEL = 24
"""How far after its label a labelled date may start (``Veröffentlicht am Dienstag, 1. November 2023``)."""


def labelled_candidate(doc: PageDoc, *, now: datetime) -> Candidate[Moment] | None:
    """A date the page's text labels as the publication (``Erschienen am: 01.11.2023``, ``Published on
    March 3, 2020``; the label and the date in one text or the date in the next): the first outside
    teasers, else the only one on the page (a review's footer). A footer reading ``Letzte Änderung:
    31.10.2023 · Erschienen am: 01.11.2023`` gives the second, where a reading of every date on the page
    (htmldate) takes the first."""
    labelled: list[Moment] = []
    label_seen = False
    for text, holder in _texts(doc.tree):
        line = " ".join(text.split())
        if not line:
            continue
        if len(line) > MAX_LABEL_LINE:
            label_seen = False
            continue
        labels = [match.end() for match in _PUBLISHED_LABEL.finditer(line)]
        for start in ([0] if label_seen else []) + labels:
            if (moment := text_date(line[start:], now=now, within=DATE_AFTER_LABEL)) is not None:
                if not doc.in_teaser(holder):
                    return Candidate(moment, "text:label")
                labelled.append(moment)
        label_seen = bool(labels) and labels[-1] == len(line)
    return Candidate(labelled[0], "text:label") if len(labelled) == 1 else None


def _texts(tree: Any) -> Iterator[tuple[str, Any]]:
    """The text nodes of the page's body in document order, each with the element holding it, but those
    of scripts and styles; produced lazily (the caller stops at the first labelled date)."""
    for body in tree.iter("body"):
        for event, element in etree.iterwalk(body, events=("start", "end")):
            if event == "start":
                if element.text and element.tag not in NOT_CONTENT:
                    yield element.text, element
            elif element is not body and element.tail and (parent := element.getparent()) is not None:
                yield element.tail, parent


def fallback_candidate(doc: PageDoc, *, now: datetime) -> Candidate[Moment] | None:
    """A labelled publication date in the text (:func:`labelled_candidate`), else htmldate's reading of
    the page (the URL's date pattern, then dates in the visible text): the last resort, for pages whose
    markup states no time. htmldate copies a tree it is given before pruning it, so ``doc.tree`` stays
    intact for the body extraction."""
    if (labelled := labelled_candidate(doc, now=now)) is not None:
        return labelled
    from htmldate import find_date

    try:
        found = find_date(
            doc.tree,
            url=doc.url,
            extensive_search=True,
            original_date=True,
            outputformat="%Y-%m-%d",
            max_date=(now + timedelta(days=1)).strftime("%Y-%m-%d"),
        )
    except Exception:  # a heuristic over arbitrary HTML: a failure means "no date"
        return None
    moment = parse_moment(found, now=now) if found else None
    return Candidate(moment, "htmldate") if moment is not None else None


# choice ----------------------------------------------------------------------------------------------
def _weight(source: str) -> int:
    if source.endswith("=modified"):
        return 0
    return _WEIGHT_BY_SOURCE.get(source, _DEFAULT_WEIGHT if source.startswith("meta:") else 1)


def _agree(a: Moment, b: Moment) -> bool:
    """Two statements agree when they name the same day where they were written, or the same instant."""
    if a.at.date() == b.at.date():
        return True
    precise = a.precision != "day" and b.precision != "day"
    return precise and abs(to_utc(a) - to_utc(b)) <= timedelta(hours=1)


_PRECISION = {"day": 0, "minute": 1, "second": 2}


def _too_late(moment: Moment, fetched_at: datetime | None) -> bool:
    if fetched_at is None:
        return False
    limit = fetched_at.astimezone(UTC) + (DAY_AHEAD if moment.precision == "day" else FUTURE_TOLERANCE)
    return to_utc(moment) > limit


def choose_published(
    page: Sequence[Candidate[Moment]],
    *,
    feed_published: datetime | None = None,
    fetched_at: datetime | None = None,
) -> Choice[Moment]:
    """The publication time: among the page's candidates, the group that agrees on the day with the most
    weight (structured, article-level sources weigh most; each source counts once), and in it the most
    precise statement; a feed time to the minute replaces the page's bare day when both fall on the same
    day in the page's time zone. Candidates later than ``fetched_at`` are dropped; a feed time too."""
    candidates = tuple(page)
    feed = Candidate(_feed_moment(feed_published), "feed:published") if feed_published is not None else None
    if feed is not None and _too_late(feed.value, fetched_at):
        feed = None
    usable = [c for c in candidates if not _too_late(c.value, fetched_at)]
    dropped = len(candidates) - len(usable)
    considered = candidates + ((feed,) if feed is not None else ())
    if not usable:
        if feed is not None:
            reason = "no page time" + (" before the fetch" if dropped else "") + "; the feed's"
            return Choice(feed.value, feed.source, considered, reason)
        return Choice(None, None, considered, "later than the fetch" if dropped else None)

    groups: list[list[Candidate[Moment]]] = []
    for candidate in usable:
        for group in groups:
            if _agree(group[0].value, candidate.value):
                group.append(candidate)
                break
        else:
            groups.append([candidate])

    def group_weight(group: list[Candidate[Moment]]) -> tuple[int, int]:
        by_source = {c.source: _weight(c.source) for c in group}
        return sum(by_source.values()), max(by_source.values())

    best = max(groups, key=group_weight)  # max() keeps the first of equals: document order
    chosen = max(
        best, key=lambda c: (_PRECISION[c.value.precision], c.value.declared_offset, _weight(c.source))
    )
    agreeing = sorted({c.source for c in best} - {chosen.source})
    if len(groups) == 1:
        reason = "agreed by " + ", ".join(agreeing) if agreeing else "the only source"
    else:
        reason = f"outweighs {len(groups) - 1} disagreeing group(s)"
        if agreeing:
            reason += "; agreed by " + ", ".join(agreeing)
    if dropped:
        reason += f"; {dropped} later than the fetch dropped"

    if feed is not None and chosen.value.precision == "day" and feed.value.precision != "day":
        zone = _page_zone(chosen.value, usable)
        feed_local = feed.value.at.astimezone(zone) if zone is not None else feed.value.at
        if feed_local.date() == chosen.value.at.date():
            refined = Moment(
                feed_local,
                feed.value.precision,
                declared_offset=feed.value.declared_offset or zone is not None,
            )
            return Choice(
                refined, feed.source, considered, f"the feed's time on the page's day ({chosen.source})"
            )
    return Choice(chosen.value, chosen.source, considered, reason)


def _feed_moment(value: datetime) -> Moment:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    precision = "day" if value.timetz().replace(tzinfo=None) == time() else "second"
    if precision == "second" and value.second == 0 and value.microsecond == 0:
        precision = "minute"
    return Moment(value, precision, declared_offset=True)


def _page_zone(day: Moment, candidates: Sequence[Candidate[Moment]]) -> tzinfo | None:
    """The page's time zone: the day's own declared offset, else the one another page time declares,
    else the zone :func:`published_candidates` gave the day (from the page's country); None: unknown."""
    for moment in [day, *(c.value for c in candidates)]:
        if moment.declared_offset:
            return moment.at.tzinfo
    return day.at.tzinfo if day.at.tzinfo is not UTC else None
