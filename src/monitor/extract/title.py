"""The article's title by evidence: the headline a reader sees, without the site's name (pure; issue 13).

A page offers several titles (its ``h1``, ``og:title``, the JSON-LD ``headline``, the ``<title>``...), which
often disagree: the ``<title>`` carries the site's name, ``og:title`` is an SEO variant, a logo sits in an
``h1`` of its own, a kicker ("Politics | ") is glued to the headline. The visible headline wins when another
source agrees with it; otherwise the metadata written for sharing, stripped of the site's name, is trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.extract.evidence import Candidate, Choice, clean_text
from monitor.extract.page import NOT_CONTENT, PageDoc, element_text, ld_names, ld_types
from monitor.extract.sitename import (
    ELLIPSIS,
    TITLE_WORD,
    NameMatcher,
    is_separated_head,
    strip_names,
    strip_site_name,
    title_words,
    trim_separators,
)
from monitor.extract.sitename import _compact as _compact  # test_extract_speed_paths reads title._compact
from monitor.extract.sitename import learn_site_name as learn_site_name  # decide.py imports it from here

_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
# Wrappers that hold a site's chrome rather than its article (also breadcrumbs and dialogs laid over it).
_CHROME = re.compile(
    r"(?:^|[\s_-])(?:logo|brand|branding|site-title|site-header|masthead|navbar|menu|breadcrumbs?"
    r"|cookies?|consent|gdpr|modal|popup|newsletter|adblock)(?:$|[\s_-])"
)
_CHROME_TAGS = frozenset({"header", "nav", "aside", "footer"})
# Parts of a heading that are not the headline: a kicker above it ("Dachzeile", "roofline", "overline"), a
# subtitle below it, text hidden from sighted readers, a date.
_NOT_HEADLINE = re.compile(
    r"kicker|roofline|topline|overline|overhead|super-?title|top-?title|pre-?title|dachzeile|spitzmarke"
    r"|eyebrow|sub-?title|subline|sub-?headline|standfirst|entry-section"
    r"|sr-only|visually-?hidden|screen-reader|element-invisible|(?:^|\s)hidden(?:$|\s)"
)
# The path of a site's home page ("/", "/de/", "/index.html"), and of an archived copy's original address.
_HOME_PATH = re.compile(r"/?(?:[a-z]{2}(?:[-_][a-z]{2})?/?)?(?:index\.\w+)?", re.IGNORECASE)
_ARCHIVED = re.compile(r"^/web/\d+[a-z_]*/(.+)$")
# The markup of an entry's title (hAtom, microformats2).
_ENTRY_TITLE = re.compile(r"(?:^|\s)(?:entry-title|p-name)(?:$|\s)")
_CLOSING = frozenset(".,:;!?)]}»›“”’\"'")
_OPENING = frozenset("([{«‹„“‚‘\"'")
_CONTENT_TAGS = frozenset({"article", "main"})
_MAX_HEADINGS = 4
_HEADLINE_WORDS = 3
"""Words that make a heading read as a headline rather than a label ("Opinion", "Leggi anche:")."""
_HEADINGS = ("h1", "h2")

EXACT, CONTAINED, SIMILAR = 3, 2, 1
"""Levels of agreement between two titles: equal once normalised, one inside the other, most words shared."""

_FALLBACK_ORDER = (
    "json-ld:headline",
    "og:title",
    "twitter:title",
    "itemprop:headline",
    "dc.title",
    "h1",
    "title",
)


# candidates ----------------------------------------------------------------------------------------------
def title_candidates(doc: PageDoc) -> tuple[Candidate[str], ...]:
    """Every title the page offers (entities decoded, site names still in), the article's ``h1`` first."""
    found = _metadata_titles(doc)
    evidence = [c.value for c in found]
    names = [c.value for c in site_name_candidates(doc)]
    headings = _ranked_headings(doc, evidence, names)
    if any(len(title_words(text)) >= _HEADLINE_WORDS for text in headings):
        return tuple(Candidate(text, "h1") for text in headings) + tuple(found)
    subheadings = _subheadings(doc, evidence, names)
    return (
        tuple(Candidate(text, "h1") for text in headings)
        + tuple(Candidate(text, "h2") for text in subheadings)
        + tuple(found)
    )


def _metadata_titles(doc: PageDoc) -> list[Candidate[str]]:
    found: list[Candidate[str]] = []
    ld = doc.article_ld
    if headline := clean_text(ld.get("headline")) or clean_text(ld.get("name")):
        found.append(Candidate(_visible(headline), "json-ld:headline"))
    for key in ("og:title", "twitter:title", "dc.title"):
        if value := doc.meta(key):
            found.append(Candidate(_visible(value), key))
    if value := doc.meta("headline") or _itemprop_headline(doc):
        found.append(Candidate(_visible(value), "itemprop:headline"))
    if doc.document_title:
        found.append(Candidate(_visible(doc.document_title), "title"))
    return [candidate for candidate in found if candidate.value]


def _visible(text: str) -> str:
    """Without the invisible characters that break words apart (soft hyphens, zero-width spaces)."""
    return " ".join(_INVISIBLE.sub("", text).split())


def site_name_candidates(doc: PageDoc) -> tuple[Candidate[str], ...]:
    """Names the page gives its site: ``og:site_name``, ``application-name``, JSON-LD publisher and
    WebSite, ``twitter:site``, and the URL's host (which titles often spell as a name: "La Stampa").
    A "name" that holds one of the page's titles (a CMS filling ``og:site_name`` with the page title) is
    not one. Computed once a page: the title's candidates and the page's evidence both read them."""
    return doc.once(_site_names)


def _site_names(doc: PageDoc) -> tuple[Candidate[str], ...]:
    found: list[Candidate[str]] = []
    for key in ("og:site_name", "application-name", "apple-mobile-web-app-title"):
        if value := doc.meta(key):
            found.append(Candidate(value, key))
    for name in ld_names(doc.article_ld.get("publisher")):
        found.append(Candidate(name, "json-ld:publisher"))
    for obj in doc.json_ld:
        if "WebSite" in ld_types(obj) and (website := clean_text(obj.get("name"))):
            found.append(Candidate(website, "json-ld:website"))
    twitter = doc.meta("twitter:site")
    if twitter and twitter.startswith("@") and len(twitter) > 2:
        found.append(Candidate(twitter[1:], "twitter:site"))
    if doc.url and (host := urlsplit(doc.url).hostname):
        found.append(Candidate(host.removeprefix("www."), "url"))
    for element in doc.elements("h1"):
        if _is_logo(element, doc.url) and (text := element_text(element)):
            found.append(Candidate(text, "h1:home-link"))
    titles = [tokens for c in _metadata_titles(doc) if len(tokens := title_words(c.value)) >= 3]
    unique: dict[str, Candidate[str]] = {}
    for candidate in found:
        tokens = title_words(candidate.value)
        if any(_contains(tokens, title) for title in titles):
            continue
        unique.setdefault(candidate.value.casefold(), candidate)
    return tuple(unique.values())


def _itemprop_headline(doc: PageDoc) -> str | None:
    for element in doc.itemprop("headline", skip=("meta", "h1")):
        if text := element_text(element):
            return text
    return None


def _ranked_headings(doc: PageDoc, evidence: Sequence[str], site_names: Sequence[str]) -> list[str]:
    """The page's ``h1`` texts, the likely headline first: one that agrees with the page's other titles,
    then one marked as the headline or inside the article; one in the site's chrome (header, navigation,
    logo) only when it agrees, and never the site's name before a real title."""
    names = NameMatcher(site_names)
    ranked: list[tuple[tuple[int, int, int, int], str]] = []
    for position, element in enumerate(doc.elements("h1")):
        text = _heading_text(element, evidence, site_names)
        if not text:
            continue
        agreement = max((agreement_level(text, other, names) for other in evidence), default=0)
        placement = _placement(element, doc.url)
        if placement == 0 and agreement < CONTAINED:
            continue
        ranked.append(((0 if names.matches(text) else 1, agreement, placement, -position), text))
    ranked.sort(key=lambda item: item[0], reverse=True)
    texts: list[str] = []
    for _, text in ranked:
        if text not in texts:
            texts.append(text)
    return texts[:_MAX_HEADINGS]


def _subheadings(doc: PageDoc, evidence: Sequence[str], site_names: Sequence[str]) -> list[str]:
    """On a page without an ``h1`` that reads as a headline, the ``h2`` that agrees with the page's other
    titles, else the first one that the markup makes the article's title (in the article's ``<header>``, or
    ``entry-title`` as hAtom marks it): blog themes give the post an ``h2`` under the blog's ``h1``."""
    names = NameMatcher(site_names)
    found: list[tuple[int, int, str]] = []
    marked: list[str] = []
    for position, element in enumerate(doc.elements("h2")):
        text = _headline_text(element)
        if not text or names.matches(text) or _placement(element, doc.url) == 0:
            continue
        agreement = max((agreement_level(text, other, names) for other in evidence), default=0)
        if agreement:
            found.append((agreement, -position, text))
        elif _is_article_title(element) and len(title_words(text)) >= _HEADLINE_WORDS:
            marked.append(text)
    return [text for _, _, text in sorted(found, reverse=True)[:1]] or marked[:1]


def _is_article_title(element: Any) -> bool:
    if _ENTRY_TITLE.search((element.get("class") or "").lower()):
        return True
    parent = element.getparent()
    return parent is not None and parent.tag == "header" and _in_content(parent)


def _heading_text(element: Any, evidence: Sequence[str], site_names: Sequence[str]) -> str | None:
    """The heading's text without the parts its markup marks as no headline (a kicker, hidden text, a
    date); without a kicker or a date line held in another child element ("<span>Politics | </span>Headline",
    "Headline<small>02.02.2022</small>") when only what is left equals another source."""
    full = _headline_text(element)
    if not full:
        return None
    children = [child for child in element if isinstance(child.tag, str)]
    if not children or not evidence:
        return full
    variants = []
    if not (element.text or "").strip():
        variants.append(_without(element, children[0]))
    if not (children[-1].tail or "").strip():
        variants.append(_without(element, children[-1]))
    variants = [variant for variant in variants if variant and variant != full]
    if not variants:
        return full
    wanted = {_key(value) for value in evidence} | {_key(strip_site_name(v, site_names)) for v in evidence}
    if _key(full) in wanted:
        return full
    for variant in variants:
        if variant and _key(variant) in wanted:
            return variant
    return full


def _headline_text(element: Any) -> str:
    """The heading's visible text without its marked kicker, hidden text and dates, when anything is left."""
    full = _visible(element_text(element) or "")
    parts: list[str] = []
    _collect_headline(element, parts)
    return trim_separators(_visible(clean_text(_join_inline(parts)) or "")) or full


def _join_inline(parts: Sequence[str]) -> str:
    """Text pieces of nested elements joined as a reader sees them: a space between pieces that meet
    without one (``<span>Kicker</span><span>Headline</span>``), none before closing punctuation or after
    an opening quote ("<em>Tod</em>," and "„<em>Mein Motto</em>“" stay as written)."""
    text = ""
    for part in parts:
        meet = text and part and not text[-1].isspace() and not part[0].isspace()
        if meet and part[0] not in _CLOSING and text[-1] not in _OPENING:
            text += " "
        text += part
    return text


def _collect_headline(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child.tag, str) and child.tag not in NOT_CONTENT and not _not_headline(child):
            _collect_headline(child, parts)
        if child.tail:
            parts.append(child.tail)


def _not_headline(element: Any) -> bool:
    return element.tag == "time" or bool(_NOT_HEADLINE.search((element.get("class") or "").lower()))


def _without(element: Any, skipped: Any) -> str | None:
    parts: list[str] = [element.text or ""]
    for child in element:
        if child is not skipped and isinstance(child.tag, str):
            parts.append(element_text(child) or "")
        parts.append(child.tail or "")
    return _visible(clean_text(" ".join(parts)) or "")


def _is_logo(heading: Any, base: str | None) -> bool:
    """A heading that is all a link to the site's home page: the site's name, as blog themes write it
    (``<h1><a href="/" rel="home">Blog</a></h1>``)."""
    text = element_text(heading)
    for link in heading.iter("a"):
        if element_text(link) == text and text and _is_home_link(link, base):
            return True
    return False


def _is_home_link(link: Any, base: str | None) -> bool:
    if "home" in (link.get("rel") or "").lower().split():
        return True
    href = (link.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return False
    parts = urlsplit(urljoin(base or "", href))
    if archived := _ARCHIVED.match(parts.path):
        parts = urlsplit(archived.group(1))
    return not parts.query and _HOME_PATH.fullmatch(parts.path) is not None


def _in_content(element: Any) -> bool:
    return any(isinstance(a.tag, str) and a.tag in _CONTENT_TAGS for a in element.iterancestors())


def _placement(element: Any, base: str | None = None) -> int:
    """2 for a heading marked as the headline or inside the article, 0 inside the site's chrome or a link
    to the home page."""
    if (element.get("itemprop") or "").lower() in ("headline", "name"):
        return 2
    if _is_logo(element, base):
        return 0
    for ancestor in element.iterancestors():
        tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
        if tag in _CONTENT_TAGS:
            return 2
        classes = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if tag == "a" or _CHROME.search(classes):
            return 0
        if tag in _CHROME_TAGS and "entry" not in classes and "article" not in classes:
            if tag in ("header", "footer") and _in_content(ancestor):
                continue  # the article's own header, as HTML5 writes it: <article><header><h1>
            return 0
    return 1


# agreement -----------------------------------------------------------------------------------------------
def _key(text: str) -> tuple[str, ...]:
    return tuple(title_words(text))


def agreement_level(a: str, b: str, names: NameMatcher | None = None) -> int:
    """How far two titles agree: EXACT, CONTAINED (one a run of the other's words, as a ``<title>`` holds
    the headline), SIMILAR (most words of the shorter shared), else 0. The site's name agrees with nothing."""
    ta, tb = title_words(a), title_words(b)
    if not ta or not tb:
        return 0
    if names is not None and (names.matches(a) or names.matches(b)):
        return 0
    if ta == tb:
        return EXACT
    short, long = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(short) >= 2 and _contains(long, short):
        return CONTAINED
    if b.endswith(("...", "…")) and ta[: len(tb) - 1] == tb[:-1] and len(tb) >= 4:
        return CONTAINED
    common = len(set(short) & set(long))
    if common >= 3 and common >= 0.6 * len(set(short)):
        return SIMILAR
    return 0


def _contains(long: Sequence[str], short: Sequence[str]) -> bool:
    size = len(short)
    return any(list(long[i : i + size]) == list(short) for i in range(len(long) - size + 1))


def _after_kicker(heading: Candidate[str], witness: Candidate[str]) -> str | None:
    """The heading's end when it is exactly what another source calls the title: the heading begins with a
    kicker ("Immobilienkrise Rene Benko-Firma …" where og:title is "Rene Benko-Firma …")."""
    words = list(TITLE_WORD.finditer(heading.value))
    wanted = title_words(witness.value)
    if len(wanted) < 3 or len(wanted) >= len(words) or len(wanted) * 2 < len(words):
        return None
    start = len(words) - len(wanted)
    if [title_words(m.group())[0] if title_words(m.group()) else "" for m in words[start:]] != wanted:
        return None
    return trim_separators(heading.value[words[start].start() :]) or None


# choice --------------------------------------------------------------------------------------------------
def choose_title(
    page: Sequence[Candidate[str]],
    *,
    site_names: Sequence[str] = (),
    feed_title: str | None = None,
    channel_title: str | None = None,
    learned_site_name: str | None = None,
) -> Choice[str]:
    """The headline a reader sees: the visible ``h1`` that another source agrees with, else the page's
    titles in order of trust, site names stripped; the feed's title when the page offers only the site's
    name."""
    names = [n for n in (*site_names, channel_title, learned_site_name) if n]
    matcher = NameMatcher(names)
    feed = clean_text(feed_title)
    candidates = list(page) + ([Candidate(feed, "feed:title")] if feed else [])
    stripped: list[Candidate[str]] = []
    for candidate in page:
        value = strip_names(candidate.value, names, guess=candidate.source not in _HEADINGS, names=matcher)
        if value and not matcher.matches(value):
            stripped.append(Candidate(value, candidate.source))
    everything = tuple(candidates)

    def chosen(value: str, source: str, reason: str) -> Choice[str]:
        return Choice(value, source, everything, reason)

    if not stripped:
        if feed:
            return chosen(feed, "feed:title", "the page gives only the site's name")
        for candidate in page:
            if raw := clean_text(candidate.value):
                return chosen(raw, candidate.source, "only the site's name is offered")
        return Choice(None, None, everything, "no title")

    headings = [c for c in stripped if c.source in _HEADINGS]
    others = [c for c in stripped if c.source not in _HEADINGS]
    witnesses = [*others, *([Candidate(feed, "feed:title")] if feed else [])]
    witnesses += [c for c in page if c.source not in _HEADINGS]
    best: tuple[int, int, Candidate[str], Candidate[str]] | None = None
    for rank, heading in enumerate(headings):
        for witness in witnesses:
            level = agreement_level(heading.value, witness.value, matcher)
            if level and (best is None or (level, -rank) > (best[0], best[1])):
                best = (level, -rank, heading, witness)
    if best is not None:
        level, _, heading, witness = best
        if level == CONTAINED and witness.source != "title" and (tail := _after_kicker(heading, witness)):
            return chosen(tail, heading.source, f"visible headline after its kicker, as {witness.source}")
        how = {EXACT: "equals", CONTAINED: "agrees with", SIMILAR: "resembles"}[level]
        return chosen(heading.value, heading.source, f"visible headline {how} {witness.source}")

    if feed:
        for candidate in others:
            if agreement_level(candidate.value, feed, matcher) == EXACT:
                return chosen(candidate.value, candidate.source, "equals the feed's title")
    marked = any(c.source == "itemprop:headline" for c in others)
    readable = [c for c in headings if len(title_words(c.value)) >= _HEADLINE_WORDS]
    if readable and not marked:
        top = readable[0]
        return chosen(top.value, top.source, "the visible headline; no other title agrees with it")
    order = {source: position for position, source in enumerate(_FALLBACK_ORDER)}
    ranked = sorted(
        stripped,
        key=lambda c: (
            ELLIPSIS.search(c.value) is not None,
            c.source in _HEADINGS and len(title_words(c.value)) < _HEADLINE_WORDS,
            order.get(c.source, len(order)),
        ),
    )
    top = ranked[0]
    if (shorter := _without_kicker(top, ranked)) is not None:
        return chosen(shorter.value, shorter.source, f"{top.source} without the kicker before its separator")
    return chosen(top.value, top.source, "no headline agreed; most trusted page title")


def _without_kicker(top: Candidate[str], others: Sequence[Candidate[str]]) -> Candidate[str] | None:
    """Another page title that is ``top``'s end after a separator: "Kücknitz - So lief die Auktion" against
    "So lief die Auktion" says that the head is a kicker (a place, a topic), not the headline's."""
    for other in others:
        if other is top or other.source in _HEADINGS or len(title_words(other.value)) < _HEADLINE_WORDS:
            continue
        head = top.value[: len(top.value) - len(other.value)]
        if top.value.endswith(other.value) and head != top.value and is_separated_head(head):
            return other
    return None
