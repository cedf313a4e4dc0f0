"""Article metadata from the page itself: JSON-LD, OpenGraph/Twitter/Dublin Core meta, ``<time>``, bylines
(pure). Each field takes the best evidence available, in that order."""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bs4 import BeautifulSoup, Tag

ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|NewsArticle|LiveBlogPosting)$")
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " » ", " · ")
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
GENERIC_AUTHORS = frozenset(
    {
        "staff",
        "admin",
        "administrator",
        "editor",
        "editors",
        "newsroom",
        "web desk",
        "webdesk",
        "desk",
        "agencies",
        "staff writer",
        "news desk",
        "online desk",
        "the editors",
    }
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    description: str | None = None
    language: str | None = None
    image: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    section: str | None = None
    keywords: tuple[str, ...] = ()


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        cleaned = " ".join(value.split())
        return cleaned or None
    return None


def parse_datetime(value: Any, *, now: datetime) -> datetime | None:
    """An ISO 8601 or RFC 822 date -> aware UTC; naive times are taken as UTC. Dates before 1995 or more
    than a day after ``now`` are rejected as wrong."""
    text = _text(value)
    if not text:
        return None
    parsed: datetime | None = None
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed < EARLIEST or parsed > now + timedelta(days=1):
        return None
    return parsed


def language_code(value: Any) -> str | None:
    """``en-GB``, ``en_US``, ``ar`` -> ISO 639-1 ``en``/``ar``; anything else -> None."""
    text = _text(value)
    if not text:
        return None
    code = text.replace("_", "-").split("-", 1)[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


def _json_ld_objects(soup: BeautifulSoup) -> Iterator[dict[str, Any]]:
    for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}):
        raw = script.string or script.get_text()
        raw = raw.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind)] if kind else []


def _article_object(soup: BeautifulSoup) -> dict[str, Any]:
    for obj in _json_ld_objects(soup):
        if any(ARTICLE_TYPES.search(kind) for kind in _types(obj)):
            return obj
    return {}


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        name = _text(value.get("name"))
        return [name] if name else []
    name = _text(value)
    return [name] if name else []


def _image_url(value: Any) -> str | None:
    if isinstance(value, list):
        for item in value:
            if url := _image_url(item):
                return url
        return None
    if isinstance(value, dict):
        return _text(value.get("url") or value.get("contentUrl"))
    return _text(value)


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    wanted = {name.lower() for name in names}
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop") or ""
        if isinstance(key, str) and key.lower() in wanted and (value := _text(tag.get("content"))):
            return value
    return None


def _meta_all(soup: BeautifulSoup, *names: str) -> list[str]:
    wanted = {name.lower() for name in names}
    values = []
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name") or ""
        if isinstance(key, str) and key.lower() in wanted and (value := _text(tag.get("content"))):
            values.append(value)
    return values


def clean_author(name: str) -> str | None:
    """``By Jane Doe`` -> ``Jane Doe``; URLs and e-mail-only values are not names."""
    name = re.sub(r"^(by|von|par|por|di|door)\s+", "", name.strip(), flags=re.IGNORECASE).strip(" ,;|")
    if not name or "://" in name or name.startswith("@") or len(name) > 80:
        return None
    return name


def choose_authors(candidates: list[str], *, site_name: str | None) -> tuple[str, ...]:
    """People first: drop duplicates, the outlet's own name and desk names unless that is all there is."""
    cleaned: list[str] = []
    for candidate in candidates:
        for part in re.split(r"\s*(?:,|;|\band\b|&)\s*", candidate) if len(candidate) > 40 else [candidate]:
            name = clean_author(part)
            if name and name.casefold() not in {c.casefold() for c in cleaned}:
                cleaned.append(name)
    outlet = (site_name or "").casefold()
    people = [n for n in cleaned if n.casefold() not in GENERIC_AUTHORS and n.casefold() != outlet]
    return tuple(people or cleaned)


def clean_title(title: str, *, site_name: str | None, headline: str | None) -> str:
    """Drop a `` | Outlet`` style suffix (or prefix) from a document title."""
    if headline and title.startswith(headline):
        return headline
    for separator in TITLE_SEPARATORS:
        if separator not in title:
            continue
        head, _, tail = title.rpartition(separator)
        if site_name and tail.strip().casefold() == site_name.casefold():
            return head.strip()
        first, _, rest = title.partition(separator)
        if site_name and first.strip().casefold() == site_name.casefold():
            return rest.strip()
        if len(tail.split()) <= 3 and len(head) > len(tail) * 2:
            return head.strip()
    return title


def _visible_bylines(soup: BeautifulSoup) -> list[str]:
    found: list[str] = []
    selectors = (
        '[rel="author"]',
        '[itemprop="author"] [itemprop="name"]',
        '[itemprop="author"]',
        '[class*="byline"] [class*="author"]',
        '[class*="author-name"]',
        '[class*="byline"]',
    )
    for selector in selectors:
        for element in soup.select(selector):
            if isinstance(element, Tag) and (text := _text(element.get_text(" "))):
                found.append(text)
        if found:
            break
    return found


def _time_element(soup: BeautifulSoup, *, now: datetime) -> datetime | None:
    candidates = soup.select('[itemprop="datePublished"]') + soup.select("time[pubdate]")
    candidates += soup.select("article time[datetime]") + soup.select("time[datetime]")
    for element in candidates:
        value = element.get("datetime") or element.get("content")
        if (parsed := parse_datetime(value, now=now)) is not None:
            return parsed
    return None


def _keywords(soup: BeautifulSoup, ld: dict[str, Any]) -> tuple[str, ...]:
    """Keywords and tags: JSON-LD ``keywords``, ``news_keywords``/``keywords`` meta, ``article:tag``."""
    found: list[str] = []
    raw = ld.get("keywords")
    candidates: list[str] = []
    if isinstance(raw, list):
        candidates.extend(str(item) for item in raw if isinstance(item, str))
    elif isinstance(raw, str):
        candidates.extend(raw.split(","))
    if not candidates:
        for value in _meta_all(soup, "news_keywords", "keywords", "parsely-tags"):
            candidates.extend(value.split(","))
    candidates.extend(_meta_all(soup, "article:tag"))
    for candidate in candidates:
        keyword = " ".join(candidate.split()).strip(" ;")
        if keyword and len(keyword) <= 60 and keyword.casefold() not in {k.casefold() for k in found}:
            found.append(keyword)
    return tuple(found[:30])


def extract_metadata(soup: BeautifulSoup, *, now: datetime) -> PageMetadata:
    ld = _article_object(soup)
    site_name = _meta(soup, "og:site_name", "application-name")
    publisher = ld.get("publisher")
    if not site_name and isinstance(publisher, dict):
        site_name = _text(publisher.get("name"))

    h1 = soup.find("h1")
    headline = _text(h1.get_text(" ")) if isinstance(h1, Tag) else None
    doc_title = _text(soup.title.get_text()) if soup.title else None
    title = _text(ld.get("headline")) or _meta(soup, "og:title", "twitter:title", "dc.title")
    if title:
        title = clean_title(title, site_name=site_name, headline=None)
    elif doc_title:
        title = clean_title(doc_title, site_name=site_name, headline=headline)
    else:
        title = headline

    author_candidates = (
        _names(ld.get("author"))
        or _meta_all(
            soup, "author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl"
        )
        or _visible_bylines(soup)
    )
    authors = choose_authors(author_candidates, site_name=site_name)

    published = (
        parse_datetime(ld.get("datePublished"), now=now)
        or parse_datetime(
            _meta(
                soup,
                "article:published_time",
                "og:published_time",
                "datePublished",
                "pubdate",
                "publishdate",
                "date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "parsely-pub-date",
                "sailthru.date",
            ),
            now=now,
        )
        or _time_element(soup, now=now)
    )
    modified = parse_datetime(ld.get("dateModified"), now=now) or parse_datetime(
        _meta(soup, "article:modified_time", "og:updated_time", "dateModified", "dcterms.modified"), now=now
    )

    html_tag = soup.find("html")
    language = (
        language_code(html_tag.get("lang") if isinstance(html_tag, Tag) else None)
        or language_code(ld.get("inLanguage"))
        or language_code(_meta(soup, "og:locale", "dc.language", "content-language", "language"))
    )
    if not language:
        for tag in soup.find_all("meta", attrs={"http-equiv": re.compile("content-language", re.I)}):
            language = language_code(tag.get("content"))

    canonical = None
    for link in soup.find_all("link", href=True):
        rel = link.get("rel")
        rels = rel if isinstance(rel, list) else [rel] if isinstance(rel, str) else []
        if "canonical" in [r.lower() for r in rels]:
            canonical = _text(link.get("href"))
            break
    canonical = canonical or _meta(soup, "og:url")

    section = _text(ld.get("articleSection") if not isinstance(ld.get("articleSection"), list)
                    else (ld.get("articleSection") or [None])[0]) or _meta(
        soup, "article:section", "parsely-section", "section", "og:section", "sailthru.section"
    )  # fmt: skip
    return PageMetadata(
        section=section,
        keywords=_keywords(soup, ld),
        title=title,
        authors=authors,
        published_at=published,
        modified_at=modified,
        description=_text(ld.get("description"))
        or _meta(soup, "og:description", "description", "twitter:description"),
        language=language,
        image=_image_url(ld.get("image")) or _meta(soup, "og:image", "twitter:image", "twitter:image:src"),
        canonical_url=canonical,
        site_name=site_name,
    )
