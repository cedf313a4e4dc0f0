"""The site's name in a title: recognised however it is spelt, stripped with its separator wherever it
stands, learnt from the part a source's titles repeat (pure; issue 13).

Text in, text out: which names the page gives its site, and which of its titles to trust, is title.py's.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from monitor.extract.evidence import clean_text

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
# Before a known name at the end, a colon may also stand as in prose ("Headline: Site").
_SEPARATOR_BEFORE = re.compile(rf"(?:\s[{_SEPARATOR_CHARS}]+\s+|[{_CJK}][_｜|\-—–]|\s*[|｜]\s*|(?<=\S):\s+)$")
_SEPARATOR_END = re.compile(r"\s+(?:[|\-–—»«·•:/>~‹›ǀ\\]|::|\|\|)\s+$|\s*[|｜]\s*$")
_SEPARATOR_AFTER = re.compile(rf"\s+[{_SEPARATOR_CHARS}]+\s|[_｜|\-—–][{_CJK}]|\s*[|｜]")
# A date line before the headline ("23.01.2022 - Headline", "2022-01-02 | Headline").
_LEADING_DATE = re.compile(r"^\s*(?:\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}|\d{4}-\d{2}-\d{2})\s*[-–—|:·•]\s+(?=\w)")
# A title's words: a run of letters and digits, or one CJK or Thai character (scripts written without spaces).
TITLE_WORD = re.compile(rf"[{_CJK}\u0e00-\u0e7f]|[^\W_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # what str.isalnum rejects, character for character, outside Python
_GERMAN_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
ELLIPSIS = re.compile(r"(?:\.\.\.|…)\s*$")


def title_words(text: str) -> list[str]:
    """The words of a title, compared case- and width-blind; one CJK or Thai character is one word, and a
    trailing ellipsis is none."""
    return TITLE_WORD.findall(unicodedata.normalize("NFKC", ELLIPSIS.sub("", text)).casefold())


class NameMatcher:
    """Matches a title's segment against the site's names, spelt loosely ("Salon.com" for "Salon",
    "La Stampa" for lastampa.it, "BioBioChile" for "BioBioChile - La Red de Prensa")."""

    def __init__(self, names: Iterable[str]) -> None:
        keys: set[str] = set()
        for name in names:
            for part in [name, *_segments(name)]:
                keys.update(_name_keys(part))
        self.keys = {key for key in keys if key}

    def matches(self, segment: str, *, loose: bool = False) -> bool:
        if not self.keys:
            return False
        if _name_keys(segment) & self.keys:  # memoised: a title is matched against the names many times
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


@lru_cache(maxsize=4096)
def _name_keys(name: str) -> frozenset[str]:
    """Forms of a name to compare: letters and digits only, and for a domain also without ``www.`` and its
    top-level domain (memoised: a source's names and title segments come back on every page)."""
    text = name.strip().casefold().removeprefix("https://").removeprefix("http://").strip("/")
    keys = {_compact(text)}
    if not text.isascii():
        keys |= _spelt_in_ascii(_compact(text))
    if " " not in text and "." in text:
        host = text.removeprefix("www.").split("/")[0]
        labels = [label for label in host.split(".") if label]
        if len(labels) >= 2:
            keys.add(_compact(".".join(labels)))
            main = labels[-2] if len(labels[-2]) > 3 or len(labels) == 2 else labels[-3]
            keys.add(_compact(main))
    return frozenset(keys)


def _spelt_in_ascii(compact: str) -> set[str]:
    """A name as a domain spells it: "jürgen" as "juergen" or "jurgen", "Télé" as "tele"."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", compact) if not unicodedata.combining(c))
    return {key for key in (compact.translate(_GERMAN_ASCII), bare) if key.isascii()}


def _compact(text: str) -> str:
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def _segments(title: str) -> list[str]:
    return [part for part in _SEPARATOR.split(title) if part.strip()]


def strip_site_name(title: str, site_names: Sequence[str]) -> str:
    """The title without the site's names (and section names beside them) at either end, whatever the
    separator (``Headline | DW``, ``Site » Headline``, ``标题_新华网``); "" when nothing else is left."""
    return strip_names(title, site_names, guess=True)


def strip_names(
    title: str, site_names: Sequence[str], *, guess: bool, names: NameMatcher | None = None
) -> str:
    """``strip_site_name`` for one kind of title. ``guess``: also drop a tail that reads as a name behind a
    dash when no known name ended the title (not for a visible heading, where "Headline – Zeugenaufruf" is
    the headline). ``names``: the matcher of ``site_names``, when the caller has one."""
    text = original = _LEADING_DATE.sub("", clean_text(title) or "")
    names = NameMatcher(site_names) if names is None else names
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
    text = trim_separators("".join(piece + separator for piece, separator in pieces))
    guess_dash = guess and original.casefold().endswith(text.casefold())
    text = trim_separators(_strip_short_tail(text, dash=guess_dash))
    return _strip_short_head(text) if guess else text


def _strip_whole(text: str, name: str) -> str:
    """``text`` without ``name`` standing whole at one end behind a separator (not "GdP-Vize" for "GdP"),
    or at the end behind a colon ("Headline: Site"; at the start "Name: …" is how a quote is headlined)."""
    folded, key, head = text.casefold(), name.casefold(), text[: -len(name)]
    if len(text) > len(name) and folded.endswith(key) and (before := _SEPARATOR_BEFORE.search(head)):
        return trim_separators(head[: before.start()] if before.group().startswith(":") else head)
    if len(text) > len(name) and folded.startswith(key) and _SEPARATOR_AFTER.match(text[len(name) :]):
        return trim_separators(text[len(name) :])
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
        if len(title_words(tail)) > 4 or len(head) < 2 * len(tail) or not title_words(head):
            return text
        text, dash = head, False


def _strip_short_head(text: str) -> str:
    """A short head before a pipe or a guillemet is a site or section name too ("Blog Archive » …",
    "Opinion | …"), in a title written for a browser or for sharing; a visible heading keeps it."""
    while (first := _NAME_SEPARATOR.search(text)) is not None:
        head, tail = text[: first.start()], text[first.end() :]
        if len(title_words(head)) > 4 or len(tail) < 2 * len(head) or not title_words(tail):
            return text
        text = trim_separators(tail)
    return text


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


def is_separated_head(head: str) -> bool:
    """``head`` is a short label ending in a separator ("Kücknitz - ", "Politik | "): at most four words."""
    return bool(_SEPARATOR_END.search(head)) and 0 < len(title_words(head)) <= 4


def trim_separators(text: str) -> str:
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
    return trim_separators(text)
