"""Normalised index terms for full-text search in every script (pure: no I/O, no clock).

SQLite's FTS5 cannot take a tokenizer registered from Python, and the archive must stay readable by any SQLite
client, so the archive indexes a *normalised copy* of each article's title and text (``index_text``), the
query side normalises each query word the same way (``query_alternatives``), and snippets are cut from the
original text through the spans ``tokens`` reports (issue #13).

The rules, the same on both sides:

- NFKC, casefold; a term is a run of letters, digits and combining marks, anything else separates
  (``U.S.`` -> ``u s``, ``covid-19`` -> ``covid 19``); decimal digits of every script become ASCII digits.
- Latin letters lose their accents (``Bogotá`` -> ``bogota``, ``Łódź`` -> ``lodz``).
- Arabic script (Arabic, Persian, Urdu) as Lucene's ArabicNormalizer and PersianNormalizer: no diacritics or
  tatweel; alef, yeh, kaf and heh variants unified; teh marbuta -> heh; then the article ``ال`` and a clitic
  before it (``وال بال فال كال لل``) is stripped when two letters remain (ArabicStemmer's prefixes, without
  its lone ``و``, which starts too many words).
- Scripts written without spaces (Han and kana together, Hangul, Thai, Lao, Khmer, Myanmar) become overlapping
  bigrams of their characters, a character keeping its combining marks (``马杜罗`` -> ``马杜 杜罗``), as
  Lucene's CJKBigramFilter does; a run of one character stays one term. Runs split where the script changes.
- With an English ``language``, each ASCII word becomes its Snowball English stem (``floods`` -> ``flood``).
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import snowballstemmer

NORMALISER_VERSION = "1"

# The index columns hold terms separated by single spaces; ``ascii`` keeps every non-ASCII code point as a
# token character whatever Unicode version the reading SQLite was built with, and ASCII is only lower-cased
# (which the terms already are), so each term is exactly one FTS5 token in any SQLite.
FTS5_TOKENIZE = "ascii"


@dataclass(frozen=True, slots=True)
class Token:
    """One index term and the [start, end) span of the original text it came from."""

    start: int
    end: int
    term: str


def tokens(text: str, language: str | None = None) -> list[Token]:
    """Every index term of ``text``, in order, with its span in ``text``."""
    return [Token(start, end, term) for start, end, term in _spans(text, _stems(language))]


def index_text(text: str, language: str | None = None) -> str:
    """What the archive's FTS5 columns hold for ``text``: its terms, separated by spaces."""
    # The writer calls this for every new article (D44): each run's terms come from a dict by the run's
    # text, and the loop over the runs stays in C (a run that gives no term gives "", which is dropped).
    terms = _RUN_TERMS[_stems(language)]
    return " ".join(filter(None, map(terms.__getitem__, _runs(text).findall(text))))


def query_alternatives(word: str) -> tuple[tuple[str, ...], ...]:
    """The ways one query word can stand in the index, each a phrase of terms: as written, and English-stemmed
    when that differs (the query cannot know the language of the article it should find)."""
    plain = tuple(term for _, _, term in _spans(word, False))
    if not plain:
        return ()
    stemmed = tuple(term for _, _, term in _spans(word, True))
    return (plain,) if stemmed == plain else (plain, stemmed)


def is_unigram(term: str) -> bool:
    """Whether ``term`` is one character of a script indexed as bigrams: the index holds such a term only
    where the character stood alone, so a query for it is better made a prefix of the bigrams it starts."""
    if not term or _script(term[0]) == _OTHER:
        return False
    return all(char in _MARKS for char in term[1:])


def _stems(language: str | None) -> bool:
    return language is not None and language.lower().startswith("en")


# --- scripts --------------------------------------------------------------------------------------------

_OTHER, _CJK, _HANGUL, _THAI, _LAO, _KHMER, _MYANMAR = range(7)
_SCRIPT_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0E00, 0x0E7F, _THAI),
    (0x0E80, 0x0EFF, _LAO),
    (0x1000, 0x109F, _MYANMAR),
    (0x1100, 0x11FF, _HANGUL),
    (0x1780, 0x17FF, _KHMER),
    (0x19E0, 0x19FF, _KHMER),
    (0x3005, 0x3007, _CJK),  # 々 〆 〇
    (0x303B, 0x303B, _CJK),  # 〻
    (0x3040, 0x30FF, _CJK),  # hiragana, katakana (with ー)
    (0x3130, 0x318F, _HANGUL),
    (0x31F0, 0x31FF, _CJK),
    (0x3400, 0x4DBF, _CJK),  # extension A
    (0x4E00, 0x9FFF, _CJK),
    (0xA960, 0xA97F, _HANGUL),
    (0xA9E0, 0xA9FF, _MYANMAR),
    (0xAA60, 0xAA7F, _MYANMAR),
    (0xAC00, 0xD7FF, _HANGUL),
    (0xF900, 0xFAFF, _CJK),
    (0x20000, 0x3134F, _CJK),  # extensions B-G, compatibility supplement
)


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> int:
    code = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return _OTHER


def _class_of(codes: list[int]) -> str:
    """A regex character class body for these code points, as ranges."""
    ranges: list[str] = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code != previous + 1:
            ranges.append(f"\\U{start:08x}-\\U{previous:08x}" if start != previous else f"\\U{start:08x}")
            start = code
        previous = code
    return "".join(ranges)


def _bmp_run_class() -> str:
    """Every code point below U+10000 that ``_RUN`` takes into a run, as one class: SRE tests such a class
    with one bitmap lookup per character, where ``_RUN``'s alternation with its hundreds of mark ranges (some
    beyond the BMP, which rule the bitmap out) costs several times more per character."""
    plane = "".join(map(chr, range(0x10000)))
    return _class_of(sorted({ord(char) for run in _RUN.findall(plane) for char in run}))


def _marks_in(codes: range) -> list[int]:
    category = unicodedata.category
    return [c for c in codes if category(chr(c))[0] == "M"]


# One scan of the first two planes (most of the import's time) gives both the set and the class; the class
# also takes the marks of plane 14 (variation selectors), which the set leaves out.
_MARK_CODES = _marks_in(range(0x20000))
_MARK_CLASS = _class_of(_MARK_CODES + _marks_in(range(0xE0000, 0xE0200)))
_MARKS = frozenset(map(chr, _MARK_CODES))
# A run of letters, digits and marks in the original text (plus the soft hyphen, which joins and vanishes).
_RUN = re.compile(f"(?:[^\\W_]|[{_MARK_CLASS}\u00ad])+")
# The same runs in a text with no character beyond the BMP (nearly every text), several times faster.
_RUN_BMP = re.compile(f"[{_bmp_run_class()}]+")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _runs(text: str) -> re.Pattern[str]:
    """The pattern that finds ``text``'s runs fastest: ``_RUN_BMP`` unless the text leaves the BMP."""
    return _RUN if _ASTRAL.search(text) else _RUN_BMP


_CLUSTER = re.compile(f"[^{_MARK_CLASS}][{_MARK_CLASS}]*|[{_MARK_CLASS}]+")
# Runs that need no normalisation and are bigrammed as they stand (the common case of CJK text).
_PLAIN_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe]+")
_PLAIN_HANGUL = re.compile("[\uac00-\ud7a3]+")
# Thai letters and marks (no digits): units are the clusters as they stand (sara am kept whole, as below).
_PLAIN_THAI = re.compile("[\u0e01-\u0e3a\u0e40-\u0e4e]+")

# --- per-character folding --------------------------------------------------------------------------------

_LATIN_EXTRA = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ı": "i", "ŀ": "l", "ŧ": "t", "æ": "ae", "œ": "oe"}
)
_ARABIC = str.maketrans(
    {
        **{chr(c): None for c in range(0x064B, 0x0660)},  # fathatan .. wavy hamza below: diacritics
        "\u0670": None,  # superscript alef
        "\u0640": None,  # tatweel
        "\u0623": "\u0627",  # أ
        "\u0625": "\u0627",  # إ
        "\u0622": "\u0627",  # آ
        "\u0671": "\u0627",  # ٱ
        "\u0649": "\u064a",  # ى alef maqsura
        "\u06cc": "\u064a",  # ی Farsi yeh
        "\u06d2": "\u064a",  # ے yeh barree
        "\u06a9": "\u0643",  # ک keheh
        "\u0629": "\u0647",  # ة teh marbuta
        "\u06d5": "\u0647",  # ە ae
        "\u06c0": "\u0647",  # ۀ heh with yeh above
        "\u06c1": "\u0647",  # ہ heh goal
        "\u06c2": "\u0647",  # ۂ heh goal with hamza above
    }
)
# وال بال فال كال, then لل and ال: the longer first
_ARABIC_PREFIXES: tuple[str, ...] = ("\u0648\u0627\u0644", "\u0628\u0627\u0644", "\u0641\u0627\u0644")
_ARABIC_PREFIXES += ("\u0643\u0627\u0644", "\u0644\u0644", "\u0627\u0644")


def _is_arabic(char: str) -> bool:
    code = ord(char)
    return 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF


@functools.lru_cache(maxsize=8192)
def _fold_cluster(cluster: str) -> str:
    """One base character with its marks, normalised; '' for a mark with no base."""
    if cluster[0] in _MARKS or cluster == "\u00ad":
        return ""
    # NFKC splits Thai and Lao sara am into nikhahit + sara aa; keep the one character the scripts write
    folded = unicodedata.normalize("NFKC", cluster).casefold().replace("\u0e4d\u0e32", "\u0e33")
    folded = folded.replace("\u0ecd\u0eb2", "\u0eb3")
    base = folded[:1]
    if folded.isascii():
        return folded
    if base.isascii() or "LATIN" in unicodedata.name(base, ""):  # also the dot casefold leaves on İ
        decomposed = unicodedata.normalize("NFD", folded)
        folded = "".join(char for char in decomposed if char not in _MARKS).translate(_LATIN_EXTRA)
    elif _is_arabic(base):
        folded = folded.translate(_ARABIC)
    if not folded.isascii():
        folded = "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in folded)
    return folded


# --- runs -------------------------------------------------------------------------------------------------

_Span = tuple[int, int, str]
_stem_lock = threading.Lock()


@functools.cache
def _english() -> Any:
    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    with _stem_lock:  # a Snowball stemmer keeps its state in the instance
        return str(_english().stemWord(word))


def _spans(text: str, stem: bool) -> Iterator[_Span]:
    spans = _RUN_SPANS[stem]
    for match in _runs(text).finditer(text):
        offset = match.start()
        for start, end, term in spans[match.group()]:
            yield start + offset, end + offset, term


_T = TypeVar("_T")
_CACHED_RUN_LENGTH = 40
_CACHED_RUNS = 65536


class _ByRun(dict[str, _T]):
    """A value computed from a run's text, by the run's text, for one choice of stemming. Runs up to 40
    characters are kept (words repeat); the dict is emptied when it holds 65,536, which bounds its memory."""

    __slots__ = ("stem",)

    def __init__(self, stem: bool) -> None:
        super().__init__()
        self.stem = stem

    def _compute(self, run: str) -> _T:
        raise NotImplementedError

    def __missing__(self, run: str) -> _T:
        found = self._compute(run)
        if len(run) <= _CACHED_RUN_LENGTH:
            if len(self) >= _CACHED_RUNS:
                self.clear()
            self[run] = found
        return found


class _RunSpans(_ByRun[tuple[_Span, ...]]):
    """A run's spans."""

    __slots__ = ()

    def _compute(self, run: str) -> tuple[_Span, ...]:
        return _run_spans(run, self.stem)


class _RunTerms(_ByRun[str]):
    """A run's terms joined by spaces ("" for none): what ``index_text`` joins."""

    __slots__ = ()

    def _compute(self, run: str) -> str:
        return " ".join(term for _, _, term in _RUN_SPANS[self.stem][run])


# indexed by ``stem``: [False] and [True]
_RUN_SPANS = (_RunSpans(False), _RunSpans(True))
_RUN_TERMS = (_RunTerms(False), _RunTerms(True))


def _run_spans(run: str, stem: bool) -> tuple[_Span, ...]:
    if run.isascii():
        term = run.lower()
        return ((0, len(run), _stem(term) if stem and term.isalpha() else term),)
    if _PLAIN_CJK.fullmatch(run) or _PLAIN_HANGUL.fullmatch(run):
        if len(run) == 1:
            return ((0, 1, run),)
        return tuple((i, i + 2, run[i : i + 2]) for i in range(len(run) - 1))
    if _PLAIN_THAI.fullmatch(run):
        units = [(match.group(), match.start(), match.end()) for match in _CLUSTER.finditer(run)]
        if units[0][0][0] in _MARKS:  # a mark with no base
            del units[0]
        return tuple(_group_spans(units, _THAI, stem)) if units else ()
    return tuple(_general_spans(run, stem))


def _general_spans(run: str, stem: bool) -> Iterator[_Span]:
    # Units: a base character (after normalisation) with its following marks, each with the span of the
    # original clusters it came from; None separates.
    units: list[tuple[str, int, int] | None] = []
    for match in _CLUSTER.finditer(run):
        start, end = match.span()
        for char in _fold_cluster(match.group()):
            if char in _MARKS:
                if units and units[-1] is not None:
                    text, unit_start, _ = units[-1]
                    units[-1] = (unicodedata.normalize("NFC", text + char), unit_start, end)
            elif char.isalnum():
                units.append((char, start, end))
            else:
                units.append(None)
    group: list[tuple[str, int, int]] = []
    group_script = _OTHER
    for unit in [*units, None]:
        script = _OTHER if unit is None else _script(unit[0][0])
        if group and (unit is None or script != group_script):
            yield from _group_spans(group, group_script, stem)
            group = []
        if unit is not None:
            group.append(unit)
            group_script = script


def _group_spans(group: list[tuple[str, int, int]], script: int, stem: bool) -> Iterator[_Span]:
    if script != _OTHER:
        if len(group) == 1:
            yield group[0][1], group[0][2], group[0][0]
        for first, second in itertools.pairwise(group):
            yield first[1], second[2], first[0] + second[0]
        return
    term = "".join(unit[0] for unit in group)
    start = group[0][1]
    if _is_arabic(term[0]):
        for prefix in _ARABIC_PREFIXES:
            if term.startswith(prefix) and len(term) - len(prefix) >= 2:
                # the prefix is its first units (each one letter: the Arabic table drops the marks)
                skipped = "".join(unit[0] for unit in group[: len(prefix)])
                if skipped == prefix:
                    start = group[len(prefix)][1]
                    term = term[len(prefix) :]
                break
    elif stem and term.isascii() and term.isalpha():
        term = _stem(term)
    yield start, group[-1][2], term
