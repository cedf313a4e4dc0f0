"""The language of an article by evidence: what the page, the feed and the source declare, and what its text
is detected as (pure apart from loading py3langid's bundled model once per process).

Declarations win, in the order page > feed entry > feed channel > configured; detection decides when nothing
is declared, and overrides a declaration only when it is confident and the declaration is the source's
*template language*: one its pages share while their text is detected as other languages (issue 13). A text
mixing languages (an English report quoting French bloggers) never beats a declaration.

Detection reads a sample of the text. Scripts that name one language are decided by the script (Hangul: ko,
kana among Han: ja, Han alone: zh, Thai: th...); the rest by py3langid, whose regional and minor labels
(``wuu``, ``arz``, ``pcm``...) are folded into the ISO 639-1 language they belong to or are confused with.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.extract.evidence import Candidate, Choice, clean_text

if TYPE_CHECKING:
    from monitor.extract.page import PageDoc

MIN_LETTERS = 20
"""Letters a text needs for a language; a Han, kana or Hangul character counts as ``WIDE_WEIGHT`` letters
(``马杜罗周日在加拉加斯发表讲话。`` is a whole sentence in 14 characters)."""
WIDE_WEIGHT = 3
MIN_CONFIDENCE = 0.5
"""Below this ``detect_language`` reports no language, and detection settles no conflict between the page's
declarations (``choose_language`` still takes it when nothing is declared)."""
CONFIDENT = 0.9
"""Above this a detection may override a template language (see ``choose_language``)."""
SAMPLE_CHARS = 1000
"""Characters of the text that detection reads (accuracy on the shared pages is flat from ~1,000 on)."""
TEMPLATE_MIN_PAGES = 5
TEMPLATE_MIN_SHARE = 0.6

# ISO 639-2/T and /B codes of the languages monitor's sources publish in, and the names pages write.
_THREE_LETTER = {
    "ara": "ar", "chi": "zh", "zho": "zh", "deu": "de", "ger": "de", "eng": "en", "fas": "fa", "per": "fa",
    "fra": "fr", "fre": "fr", "heb": "he", "hin": "hi", "ita": "it", "jpn": "ja", "kor": "ko", "nld": "nl",
    "dut": "nl", "pol": "pl", "por": "pt", "rus": "ru", "spa": "es", "tha": "th", "tur": "tr", "ukr": "uk",
    "urd": "ur", "vie": "vi", "ind": "id", "msa": "ms", "may": "ms", "ell": "el", "gre": "el", "swe": "sv",
    "nor": "no", "nob": "no", "dan": "da", "fin": "fi", "ces": "cs", "cze": "cs", "hun": "hu", "ron": "ro",
    "rum": "ro", "bul": "bg", "srp": "sr", "hrv": "hr", "ben": "bn", "tam": "ta", "pus": "ps", "kur": "ku",
}  # fmt: skip
_ALIASES = {"nb": "no", "iw": "he", "in": "id", "ji": "yi", "jw": "jv"}
"""Bokmål is what ``no`` means in practice; the others are ISO 639-1's withdrawn codes."""

# py3langid labels with no ISO 639-1 code: folded into the language they are a variety of, or the
# neighbour they are confused with on news text; labels missing here and not two letters are dropped.
_FOLDED = {
    "wuu": "zh", "yue": "zh", "ary": "ar", "arz": "ar", "uzs": "uz", "sdh": "ku", "kik": "ki", "fuv": "ff",
    "gug": "gn", "ltg": "lv", "hbo": "he", "grc": "el", "pcm": "en", "gcf": "fr", "gcr": "fr", "ext": "es",
    "lij": "it", "vec": "it", "ace": "id", "bcl": "tl", "crh": "tr", "gom": "mr", "nso": "st",
}  # fmt: skip

# Unicode blocks of the scripts that detection tells apart: (first code point, script), sorted.
_BLOCKS: tuple[tuple[int, str], ...] = (
    (0x0000, "Latin"), (0x0250, "other"), (0x0370, "Greek"), (0x0400, "Cyrillic"), (0x0530, "Armenian"),
    (0x0590, "Hebrew"), (0x0600, "Arabic"), (0x0700, "other"), (0x0750, "Arabic"), (0x0780, "other"),
    (0x08A0, "Arabic"), (0x0900, "Devanagari"), (0x0980, "Bengali"), (0x0A00, "Gurmukhi"),
    (0x0A80, "Gujarati"), (0x0B00, "Oriya"), (0x0B80, "Tamil"), (0x0C00, "Telugu"), (0x0C80, "Kannada"),
    (0x0D00, "Malayalam"), (0x0D80, "Sinhala"), (0x0E00, "Thai"), (0x0E80, "Lao"), (0x0F00, "other"),
    (0x1000, "Myanmar"), (0x10A0, "Georgian"), (0x1100, "Hangul"), (0x1200, "Ethiopic"), (0x1380, "other"),
    (0x1780, "Khmer"), (0x1800, "other"), (0x1E00, "Latin"), (0x1F00, "Greek"), (0x2000, "other"),
    (0x3040, "Kana"), (0x3100, "other"), (0x3130, "Hangul"), (0x3190, "other"), (0x31F0, "Kana"),
    (0x3200, "other"), (0x3400, "Han"), (0x4DC0, "other"), (0x4E00, "Han"), (0xA000, "other"),
    (0xAC00, "Hangul"), (0xD7B0, "other"), (0xF900, "Han"), (0xFB00, "other"), (0xFB50, "Arabic"),
    (0xFE00, "other"), (0xFE70, "Arabic"), (0xFF00, "other"), (0xFF66, "Kana"), (0xFFA0, "other"),
    (0x20000, "Han"), (0x2FA20, "other"),
)  # fmt: skip
_BLOCK_STARTS = [start for start, _ in _BLOCKS]
_WIDE = {"Han", "Kana", "Hangul"}
# Scripts written by one language among those the model knows: decided without the model.
_SCRIPT_LANGUAGE = {
    "Hangul": "ko", "Thai": "th", "Greek": "el", "Georgian": "ka", "Armenian": "hy", "Hebrew": "he",
    "Lao": "lo", "Khmer": "km", "Myanmar": "my", "Sinhala": "si", "Tamil": "ta", "Telugu": "te",
    "Kannada": "kn", "Malayalam": "ml", "Gujarati": "gu", "Gurmukhi": "pa", "Oriya": "or",
}  # fmt: skip
KANA_SHARE = 0.1
"""Japanese writes kana between its kanji (a third of the characters or more); Chinese writes none."""

_LETTER_PIECES = re.compile(r"[A-Za-z]+|[^\x00-\x7f]")
"""Runs of ASCII letters, and every other character that may be a letter, one at a time."""
_TAG_SEPARATOR = re.compile(r"[-_.@\s]")
_LIST_SEPARATOR = re.compile(r"[,;]")


def language_code(value: object) -> str | None:
    """``en-GB``, ``en_US``, ``ar``, ``zh-Hans``, ``fa-IR``, ``eng``, ``per`` -> ISO 639-1; anything else
    (a language name, ``x-default``, ``und``) -> None."""
    text = clean_text(value)
    if not text:
        return None
    code = _TAG_SEPARATOR.split(text.strip(), maxsplit=1)[0].lower()
    if not code.isascii() or not code.isalpha():
        return None
    if len(code) == 2:
        return _ALIASES.get(code, code)
    return _THREE_LETTER.get(code) if len(code) == 3 else None


# declarations ---------------------------------------------------------------------------------------------
def declared_languages(doc: PageDoc) -> tuple[Candidate[str], ...]:
    """Every language the page declares, as ISO 639-1, in the order: ``<html lang>``, ``og:locale``, the
    ``Content-Language`` meta and HTTP header, JSON-LD ``inLanguage``, ``dc.language``. A value naming
    several languages (``de, en``) declares none."""
    found: list[Candidate[str]] = []

    def add(value: object, source: str) -> None:
        code = _single_language(value)
        if code:
            found.append(Candidate(code, source))

    add(doc.html_lang, "html:lang")
    add(doc.meta("og:locale"), "og:locale")
    add(doc.meta("content-language"), "meta:content-language")
    add(doc.content_language, "header:content-language")
    add(_ld_language(doc), "json-ld:inLanguage")
    add(doc.meta("dc.language", "dcterms.language", "dc.language.iso"), "dc.language")
    return tuple(found)


def _single_language(value: object) -> str | None:
    if not isinstance(value, str):
        return language_code(value)
    codes = {code for part in _LIST_SEPARATOR.split(value) if (code := language_code(part))}
    return codes.pop() if len(codes) == 1 else None


def _ld_language(doc: PageDoc) -> object:
    """The article's ``inLanguage``, else the first one on the page (its WebPage's): a code, or a Language
    object with its code as ``alternateName``."""
    objects = [doc.article_ld, *doc.json_ld] if doc.article_ld else doc.json_ld
    for obj in objects:
        value: Any = obj.get("inLanguage")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, dict):
            value = value.get("alternateName") or value.get("name")
        if isinstance(value, str) and value.strip():
            return value
    return None


# detection --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _script(char: str) -> str:
    return _BLOCKS[bisect_right(_BLOCK_STARTS, ord(char)) - 1][1]


def _script_weights(sample: str) -> Counter[str]:
    weights: Counter[str] = Counter()
    # a run of ASCII letters is all Latin: counted at once (scripts keep the order they first appear in)
    for piece in _LETTER_PIECES.findall(sample):
        if piece[0] < "\x80":
            weights["Latin"] += len(piece)
        # vowel signs (Mn, Mc) are letters too: Devanagari and Thai write most vowels with them
        elif piece.isalpha() or (piece > "\u02ff" and unicodedata.category(piece)[0] == "M"):
            script = _script(piece)
            weights[script] += WIDE_WEIGHT if script in _WIDE else 1
    return weights


def detect_scored(text: str) -> tuple[str, float] | None:
    """The language of the text's first ``SAMPLE_CHARS`` characters as ISO 639-1, with a confidence in 0..1
    (the share of the letters for a script rule; the model's folded probability otherwise); None when there
    are fewer than ``MIN_LETTERS`` letters or the model finds no language in them."""
    sample = text[:SAMPLE_CHARS]
    weights = _script_weights(sample)
    total = sum(weights.values())
    if total < MIN_LETTERS:
        return None
    cjk = weights["Han"] + weights["Kana"]
    script, weight = max(weights.items(), key=lambda item: item[1])
    if cjk >= weight:
        # Japanese writes kana between its kanji; Chinese writes none
        language = "ja" if weights["Kana"] >= KANA_SHARE * cjk else "zh"
        return language, round(cjk / total, 3)
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script], round(weight / total, 3)
    return _model_language(sample)


def _model_language(sample: str) -> tuple[str, float] | None:
    scores: Counter[str] = Counter()
    for label, probability in _identifier().rank(sample):
        code = _FOLDED.get(label, label)
        if len(code) == 2:
            scores[code] += probability
        elif label == "zxx":  # the model's "no linguistic content" (numbers, code, markup)
            scores[label] += probability
    if not scores:
        return None
    code, confidence = scores.most_common(1)[0]
    return None if code == "zxx" else (code, round(min(confidence, 1.0), 3))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or the model unsure."""
    detected = detect_scored(text)
    return detected[0] if detected and detected[1] >= MIN_CONFIDENCE else None


# the choice ------------------------------------------------------------------------------------------------
def choose_language(
    page: Sequence[Candidate[str]],
    *,
    detected: tuple[str, float] | None,
    feed_language: str | None = None,
    channel_language: str | None = None,
    configured: str | None = None,
    template_language: str | None = None,
) -> Choice[str]:
    """The article's language: the page's declaration, else the feed entry's, the channel's, the source's
    configured one; the detected language when nothing is declared, or when the declaration is the source's
    ``template_language`` and detection is ``CONFIDENT`` of another. Page declarations that disagree are
    settled by detection, then by the feed and the source, then by their order."""
    on_page = [Candidate(code, c.source) for c in page if (code := language_code(c.value))]
    outer = [
        Candidate(code, source)
        for value, source in (
            (feed_language, "feed:entry"),
            (channel_language, "feed:channel"),
            (configured, "config"),
        )
        if (code := language_code(value))
    ]
    seen = [*on_page, *outer]
    if detected is not None:
        seen.append(Candidate(detected[0], "detected"))
    candidates = tuple(seen)
    template = language_code(template_language)
    confident = detected is not None and detected[1] >= CONFIDENT

    declared, reason = _declared(on_page, outer, detected)
    if declared is not None:
        if confident and detected is not None and declared.value == template != detected[0]:
            return Choice(
                detected[0],
                "detected",
                candidates,
                f"confident detection ({detected[1]:.2f}) over the source's template language {template}",
            )
        return Choice(declared.value, declared.source, candidates, reason)
    if detected is not None:  # a best guess beats no language: detect_scored abstains on too little text
        return Choice(detected[0], "detected", candidates, f"nothing declared; detected ({detected[1]:.2f})")
    return Choice(None, None, candidates, "nothing declared or detected")


def _declared(
    page: Sequence[Candidate[str]], outer: Sequence[Candidate[str]], detected: tuple[str, float] | None
) -> tuple[Candidate[str] | None, str | None]:
    if page:
        values = list(dict.fromkeys(c.value for c in page))
        if len(values) == 1:
            return page[0], "declared by the page"
        if detected is not None and detected[1] >= MIN_CONFIDENCE and detected[0] in values:
            return _first(page, detected[0]), "the page's declaration that detection agrees with"
        for other in outer:
            if other.value in values:
                return _first(page, other.value), f"the page's declaration that {other.source} agrees with"
        return page[0], "the page's first declaration"
    if outer:
        return outer[0], f"declared by {outer[0].source}"
    return None, None


def _first(candidates: Iterable[Candidate[str]], value: str) -> Candidate[str]:
    return next(c for c in candidates if c.value == value)


def learn_template_language(
    observations: Sequence[tuple[str | None, tuple[str, float] | None]],
) -> str | None:
    """The source's template language from ``(declared, detected)`` of its pages: the language most pages
    declare, when at least ``TEMPLATE_MIN_PAGES`` of them are detected confidently and
    ``TEMPLATE_MIN_SHARE`` of those are detected as other languages; else None."""
    declared = Counter(code for value, _ in observations if (code := language_code(value)))
    if not declared:
        return None
    language, count = declared.most_common(1)[0]
    if count * 2 <= len(observations):
        return None
    judged = [
        detected[0]
        for value, detected in observations
        if detected is not None and detected[1] >= CONFIDENT and language_code(value) == language
    ]
    mismatching = sum(code != language for code in judged)
    if len(judged) >= TEMPLATE_MIN_PAGES and mismatching >= TEMPLATE_MIN_SHARE * len(judged):
        return language
    return None
