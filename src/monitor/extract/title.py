"""The article's title by evidence: the headline a reader sees, without the site's name (pure; issue 13).

A page offers several titles (its ``h1``, ``og:title``, the JSON-LD ``headline``, the ``<title>``...), which
often disagree: the ``<title>`` carries the site's name, ``og:title`` is an SEO variant, a logo sits in an
``h1`` of its own, a kicker ("Politics | ") is glued to the headline. The visible headline wins when another
source agrees with it; otherwise the metadata written for sharing, stripped of the site's name, is trusted.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from monitor.extract.evidence import Candidate, Choice, clean_text
from monitor.extract.page import NOT_CONTENT, PageDoc, element_text, ld_names, ld_types

# Separators between a headline and the site's or section's name, spaced ("Headline | Site") or, between
# CJK characters, unspaced ("标题_新华网", "标题-新华网").
_CJK = r"\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_SEPARATOR = re.compile(
    r"\s+(?:[|\-–—»«·•:/>~‹›ǀ\\]|::|\|\|)\s+"
    rf"|(?<=[{_CJK}])\s*[_|｜\-—–]\s*(?=[{_CJK}])"
    r"|\s*[|｜]\s*"
)
# Separators after which a short tail is a site or section name even when nobody names the site.
_NAME_SEPARATOR = re.compile(r"\s*[|｜]\s*|\s+[»·•]\s+")
_DASH_SEPARATOR = re.compile(r"\s+[-–—]\s+")
_SEPARATOR_CHARS = "|\\-–—»«·•:/>~‹›_｜"
_DANGLING = re.compile(rf"^\s*(?:[{_SEPARATOR_CHARS}]+(?:\s+|$))+|(?:(?:^|\s+)[{_SEPARATOR_CHARS}]+)+\s*$")
_CJK_DANGLING = re.compile(rf"(?<=[{_CJK}])[_｜|\-—–]+$|^[_｜|\-—–]+(?=[{_CJK}])")
_SEPARATOR_BEFORE = re.compile(rf"(?:\s[{_SEPARATOR_CHARS}]+\s+|[{_CJK}][_｜|\-—–]|\s*[|｜]\s*)$")
_SEPARATOR_AFTER = re.compile(rf"\s+[{_SEPARATOR_CHARS}]+\s|[_｜|\-—–][{_CJK}]|\s*[|｜]")
# A date line before the headline ("23.01.2022 - Headline", "2022-01-02 | Headline").
_LEADING_DATE = re.compile(r"^\s*(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2})\s*[-–—|:·•]\s+(?=\w)")
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]")
_TOKEN = re.compile(rf"[{_CJK}\u0e00-\u0e7f]|[^\W_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum rejects, character for character, outside Python
_ELLIPSIS = re.compile(r"(?:\.\.\.|…)\s*$")
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
    if any(len(_tokens(text)) >= _HEADLINE_WORDS for text in headings):
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
    for element in doc.tree.iter("h1"):
        if _is_logo(element, doc.url) and (text := element_text(element)):
            found.append(Candidate(text, "h1:home-link"))
    titles = [tokens for c in _metadata_titles(doc) if len(tokens := _tokens(c.value)) >= 3]
    unique: dict[str, Candidate[str]] = {}
    for candidate in found:
        tokens = _tokens(candidate.value)
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
    names = _NameMatcher(site_names)
    ranked: list[tuple[tuple[int, int, int, int], str]] = []
    for position, element in enumerate(doc.tree.iter("h1")):
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
    names = _NameMatcher(site_names)
    found: list[tuple[int, int, str]] = []
    marked: list[str] = []
    for position, element in enumerate(doc.tree.iter("h2")):
        text = _headline_text(element)
        if not text or names.matches(text) or _placement(element, doc.url) == 0:
            continue
        agreement = max((agreement_level(text, other, names) for other in evidence), default=0)
        if agreement:
            found.append((agreement, -position, text))
        elif _is_article_title(element) and len(_tokens(text)) >= _HEADLINE_WORDS:
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
    return _trim(_visible(clean_text(_join_inline(parts)) or "")) or full


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


# site names ----------------------------------------------------------------------------------------------
class _NameMatcher:
    """Matches a title's segment against the site's names, spelt loosely ("Salon.com" for "Salon",
    "La Stampa" for lastampa.it, "BioBioChile" for "BioBioChile - La Red de Prensa")."""

    def __init__(self, names: Iterable[str]) -> None:
        keys: set[str] = set()
        for name in names:
            for part in [name, *_segments(name)]:
                keys.update(_name_keys(part))
        self.keys = {key for key in keys if key}
        self._forms: dict[str, set[str]] = {}
        """Each segment's keys, once per matcher: one title is matched against the names many times."""

    def matches(self, segment: str, *, loose: bool = False) -> bool:
        if not self.keys:
            return False
        forms = self._forms.get(segment)
        if forms is None:
            forms = self._forms[segment] = _name_keys(segment)
        if forms & self.keys:
            return True
        if loose:
            compact = _compact(segment)
            return any(
                len(key) >= 4
                and (compact.startswith(key) or compact.endswith(key) or key.startswith(compact))
                for key in self.keys
                if len(compact) >= 4
            )
        return False


def _name_keys(name: str) -> set[str]:
    """Forms of a name to compare: letters and digits only, and for a domain also without ``www.`` and its
    top-level domain."""
    text = name.strip().casefold().removeprefix("https://").removeprefix("http://").strip("/")
    keys = {_compact(text)}
    if " " not in text and "." in text:
        host = text.removeprefix("www.").split("/")[0]
        labels = [label for label in host.split(".") if label]
        if len(labels) >= 2:
            keys.add(_compact(".".join(labels)))
            main = labels[-2] if len(labels[-2]) > 3 or len(labels) == 2 else labels[-3]
            keys.add(_compact(main))
    return keys


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def _segments(title: str) -> list[str]:
    return [part for part in _SEPARATOR.split(title) if part.strip()]


def strip_site_name(title: str, site_names: Sequence[str]) -> str:
    """The title without the site's names (and section names beside them) at either end, whatever the
    separator (``Headline | DW``, ``Site » Headline``, ``标题_新华网``); "" when nothing else is left."""
    return _strip(title, site_names, guess=True)


def _strip(title: str, site_names: Sequence[str], *, guess: bool, names: _NameMatcher | None = None) -> str:
    """``guess``: also drop a tail that reads as a name behind a dash when no known name ended the title
    (not for a visible heading, where "Headline – Zeugenaufruf" is the headline). ``names``: the matcher of
    ``site_names``, when the caller has one."""
    text = original = _LEADING_DATE.sub("", clean_text(title) or "")
    names = _NameMatcher(site_names) if names is None else names
    for name in sorted((n for n in site_names if n), key=len, reverse=True):
        text = _strip_whole(text, name)
    pieces = _pieces(text)
    while len(pieces) > 1:
        longest = max(len(piece) for piece, _ in pieces)
        first, last = pieces[0][0], pieces[-1][0]
        if names.matches(last, loose=len(last) < longest):
            pieces.pop()
        elif names.matches(first, loose=len(first) < longest):
            pieces.pop(0)
        else:
            break
    if len(pieces) == 1 and names.matches(pieces[0][0]):
        return ""
    text = _trim("".join(piece + separator for piece, separator in pieces))
    guess_dash = guess and original.casefold().endswith(text.casefold())
    return _trim(_strip_short_tail(text, dash=guess_dash))


def _strip_whole(text: str, name: str) -> str:
    """``text`` without ``name`` standing whole at one end behind a separator (not "GdP-Vize" for "GdP")."""
    folded, key = text.casefold(), name.casefold()
    if len(text) > len(name) and folded.endswith(key) and _SEPARATOR_BEFORE.search(text[: -len(name)]):
        return _trim(text[: -len(name)])
    if len(text) > len(name) and folded.startswith(key) and _SEPARATOR_AFTER.match(text[len(name) :]):
        return _trim(text[len(name) :])
    return text


def _pieces(text: str) -> list[tuple[str, str]]:
    """``text`` cut at its separators: ``(piece, separator after it)``."""
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in _SEPARATOR.finditer(text):
        pieces.append((text[start : match.start()], match.group()))
        start = match.end()
    pieces.append((text[start:], ""))
    return [(piece, separator) for piece, separator in pieces if piece.strip()] or [(text, "")]


def _strip_short_tail(text: str, *, dash: bool) -> str:
    """A short tail behind a pipe or a guillemet is a site or section name, named or not ("… | Home"); so
    is one behind a dash when it reads as a name ("… - The Village Voice", "… – example.org")."""
    while True:
        last = None
        for match in _NAME_SEPARATOR.finditer(text):
            last = match
        for match in _DASH_SEPARATOR.finditer(text) if dash else ():
            if (last is None or match.start() > last.start()) and _looks_like_name(text[match.end() :]):
                last = match
        if last is None:
            return text
        head, tail = text[: last.start()], text[last.end() :]
        if len(_tokens(tail)) > 4 or len(head) < 2 * len(tail) or not _tokens(head):
            return text
        text, dash = head, False


def _looks_like_name(text: str) -> bool:
    """Capitalised words, a domain, or one word spelt like a brand ("BBC", "TechCrunch"); a single
    capitalised word is too often a German noun ("… – Zeugenaufruf")."""
    words = text.split()
    if len(words) == 1:
        word = words[0]
        return bool(re.search(r"\w\.[a-z]{2,}$", word)) or (
            word[:1].isupper() and any(c.isupper() for c in word[1:])
        )
    return all(word[:1].isupper() or word[:1].isdigit() for word in words)


def _trim(text: str) -> str:
    return _CJK_DANGLING.sub("", _DANGLING.sub("", text)).strip()


def learn_site_name(document_titles: Sequence[str]) -> str | None:
    """The part that one source's ``<title>``s share at their start or end ("A » x", "A » y" -> "A"), or
    None when no part repeats across at least two distinct titles."""
    counts: Counter[str] = Counter()
    for title in {clean_text(t) for t in document_titles} - {None}:
        assert title is not None
        pieces = _pieces(title)
        if len(pieces) < 2:
            continue
        edges: set[str] = set()
        for size in range(1, len(pieces)):
            edges.add(_join(pieces[:size]))
            edges.add(_join(pieces[-size:]))
        counts.update(edges)
    repeated = [(count, len(name), name) for name, count in counts.items() if count >= 2]
    if not repeated:
        return None
    best_count = max(count for count, _, _ in repeated)
    return max((length, name) for count, length, name in repeated if count == best_count)[1]


def _join(pieces: Sequence[tuple[str, str]]) -> str:
    text = "".join(piece + separator for piece, separator in pieces)
    return _trim(text)


# agreement -----------------------------------------------------------------------------------------------
def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", _ELLIPSIS.sub("", text)).casefold())


def _key(text: str) -> tuple[str, ...]:
    return tuple(_tokens(text))


def agreement_level(a: str, b: str, names: _NameMatcher | None = None) -> int:
    """How far two titles agree: EXACT, CONTAINED (one a run of the other's words, as a ``<title>`` holds
    the headline), SIMILAR (most words of the shorter shared), else 0. The site's name agrees with nothing."""
    ta, tb = _tokens(a), _tokens(b)
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
    words = list(_TOKEN.finditer(heading.value))
    wanted = _tokens(witness.value)
    if len(wanted) < 3 or len(wanted) >= len(words) or len(wanted) * 2 < len(words):
        return None
    start = len(words) - len(wanted)
    if [_tokens(m.group())[0] if _tokens(m.group()) else "" for m in words[start:]] != wanted:
        return None
    return _trim(heading.value[words[start].start() :]) or None


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
    matcher = _NameMatcher(names)
    feed = clean_text(feed_title)
    candidates = list(page) + ([Candidate(feed, "feed:title")] if feed else [])
    stripped: list[Candidate[str]] = []
    for candidate in page:
        value = _strip(candidate.value, names, guess=candidate.source not in _HEADINGS, names=matcher)
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
    readable = [c for c in headings if len(_tokens(c.value)) >= _HEADLINE_WORDS]
    if readable and not marked:
        top = readable[0]
        return chosen(top.value, top.source, "the visible headline; no other title agrees with it")
    order = {source: position for position, source in enumerate(_FALLBACK_ORDER)}
    ranked = sorted(
        stripped,
        key=lambda c: (_ELLIPSIS.search(c.value) is not None, order.get(c.source, len(order))),
    )
    top = ranked[0]
    return chosen(top.value, top.source, "no headline agreed; most trusted page title")
