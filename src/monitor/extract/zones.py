"""The time zone a page's readers see, and its stated times shown in it (pure).

A page's zone is an offset one of its times declares, the offset it reveals by writing one instant both in
UTC and as unzoned local time, or the zone of the country its language tag or domain names; the day a
reader sees is the day in that zone (issue 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, timezone, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.extract.evidence import Candidate, Moment
from monitor.extract.page import PageDoc

DAY_AHEAD = timedelta(hours=14)
"""A bare day is compared with the fetch time in the furthest time zone (UTC+14)."""
COUNTRY_ZONES = {
    "de": "Europe/Berlin",
    "at": "Europe/Vienna",
    "ch": "Europe/Zurich",
    "li": "Europe/Vaduz",
    "lu": "Europe/Luxembourg",
    "fr": "Europe/Paris",
    "be": "Europe/Brussels",
    "nl": "Europe/Amsterdam",
    "it": "Europe/Rome",
    "es": "Europe/Madrid",
    "pt": "Europe/Lisbon",
    "uk": "Europe/London",
    "gb": "Europe/London",
    "ie": "Europe/Dublin",
    "dk": "Europe/Copenhagen",
    "no": "Europe/Oslo",
    "se": "Europe/Stockholm",
    "fi": "Europe/Helsinki",
    "pl": "Europe/Warsaw",
    "cz": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "si": "Europe/Ljubljana",
    "hr": "Europe/Zagreb",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "gr": "Europe/Athens",
    "tr": "Europe/Istanbul",
    "ua": "Europe/Kyiv",
    "ru": "Europe/Moscow",
    "il": "Asia/Jerusalem",
    "eg": "Africa/Cairo",
    "sa": "Asia/Riyadh",
    "ae": "Asia/Dubai",
    "qa": "Asia/Qatar",
    "lb": "Asia/Beirut",
    "sy": "Asia/Damascus",
    "iq": "Asia/Baghdad",
    "ir": "Asia/Tehran",
    "pk": "Asia/Karachi",
    "in": "Asia/Kolkata",
    "cn": "Asia/Shanghai",
    "hk": "Asia/Hong_Kong",
    "tw": "Asia/Taipei",
    "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul",
    "th": "Asia/Bangkok",
    "vn": "Asia/Ho_Chi_Minh",
    "sg": "Asia/Singapore",
    "my": "Asia/Kuala_Lumpur",
    "ph": "Asia/Manila",
    "id": "Asia/Jakarta",
    "za": "Africa/Johannesburg",
    "ng": "Africa/Lagos",
    "ke": "Africa/Nairobi",
    "ar": "America/Argentina/Buenos_Aires",
    "bo": "America/La_Paz",
    "cl": "America/Santiago",
    "uy": "America/Montevideo",
    "py": "America/Asuncion",
    "pe": "America/Lima",
    "co": "America/Bogota",
    "ec": "America/Guayaquil",
    "ve": "America/Caracas",
    "mx": "America/Mexico_City",
    "br": "America/Sao_Paulo",
    "cu": "America/Havana",
    "nz": "Pacific/Auckland",
}
"""The zone most of a country's readers live in, for pages that write their times in UTC or without an
offset; countries spanning several zones (US, CA, AU) are left out: their pages' days stay as written."""


def page_zone(doc: PageDoc, stated: Sequence[Moment] = ()) -> tzinfo | None:
    """The time zone the page's readers see: an offset other than UTC that one of its times declares, else
    the zone of the country its language tag (``de-AT``, ``es_AR``) or its domain names."""
    for moment in stated:
        if moment.declared_offset and moment.precision != "day" and moment.at.utcoffset():
            return moment.at.tzinfo
    if (revealed := _revealed_offset(stated)) is not None:
        return revealed
    regions = [_region(doc.html_lang), _region(doc.meta("og:locale")), _region(doc.content_language)]
    host = urlsplit(doc.url or "").hostname or ""
    regions.append(host.rsplit(".", 1)[-1] if "." in host else None)
    for region in regions:
        if region and (name := COUNTRY_ZONES.get(region)):
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                return None
    return None


def _revealed_offset(stated: Sequence[Moment]) -> tzinfo | None:
    """The offset a page shows by writing the same instant twice: in UTC in its metadata and as local
    wall-clock time without an offset in its markup (the same seconds, a whole number of quarter hours
    apart). A page that states its times only in UTC otherwise keeps its UTC day."""
    in_utc = [m for m in stated if m.declared_offset and m.precision == "second" and not m.at.utcoffset()]
    local = [m for m in stated if not m.declared_offset and m.precision == "second"]
    for written in local:
        for instant in in_utc:
            shift = written.at.replace(tzinfo=None) - instant.at.replace(tzinfo=None)
            if shift and abs(shift) <= DAY_AHEAD and not shift % timedelta(minutes=15):
                return timezone(shift)
    return None


def _region(tag: str | None) -> str | None:
    parts = (tag or "").replace("_", "-").lower().split("-")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 2 else None


def in_page_zone(
    doc: PageDoc, found: list[Candidate[Moment]], also: Sequence[Candidate[Moment]] = ()
) -> tuple[Candidate[Moment], ...]:
    """Times written in UTC are shown in the page's zone (the same instant); times and bare days written
    without an offset are read as the page's local time and day (what templates print)."""
    zone = page_zone(doc, [c.value for c in [*found, *also]])
    if zone is None:
        return tuple(found)
    shown: list[Candidate[Moment]] = []
    for candidate in found:
        moment = candidate.value
        if not moment.declared_offset:
            moment = Moment(moment.at.replace(tzinfo=zone), moment.precision, declared_offset=False)
        elif moment.precision != "day" and not moment.at.utcoffset():
            moment = Moment(moment.at.astimezone(zone), moment.precision)
        shown.append(Candidate(moment, candidate.source))
    return tuple(shown)
