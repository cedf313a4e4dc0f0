"""Generic rules that drop what is not article text from the extracted blocks (pure).

Each rule was kept only if it helped on benchmark pages it was not tuned on (issue 4). None names a site:
they look at position (leading, trailing), length, link density and phrases that mean the same thing on any
site ("Read more:", "Subscribe to our newsletter", "Reporting by ...; Editing by ...", photo credits).
Attribution lines ("Source: Reuters", "Originally published by ...") are article text and are never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

WORD = re.compile(r"\w+")
SHINGLE = 4

# "Read more: ...", "Related: ...", "You may also like" and their equivalents in a few other languages.
LABEL = re.compile(
    r"^\W*(read more|read also|related( articles?| stories| posts?| content)?|see also"
    r"|also( read| see| on [\w.]+)?|more( on this| from [\w .]+)?|recommended|you (may|might) (also )?like"
    r"|popular on|explore further|leia (também|mais)|veja também|leggi anche|lee también|lire aussi"
    r"|à lire aussi|mehr zum thema|lesen sie auch|читайте также)\b",
    re.IGNORECASE,
)
# Share prompts, newsletter and app boxes, comment counters, copyright and tag lines.
BOILERPLATE = re.compile(
    r"(subscribe|newsletter|sign up|signup|follow (us|him|her|them|@)"
    r"|follow [\w .]+ on (twitter|facebook|instagram)|share (this|it|on)|like this story|comments?$"
    r"|copyright|©|all rights reserved|click here|download (the|our) app|get (the|our) app|tags?:"
    r"|filed under|tell us what you think|if you (enjoyed|liked) this|reprints?|print article"
    r"|this article has been sent|inscreva|assine|iscriviti|suscr[ií]b|abonn|abonnier|подпис)",
    re.IGNORECASE,
)
# Credits of an original source stay in the text (the attribution detector reads them).
ATTRIBUTION = re.compile(
    r"^\W*(source|sources|via|courtesy( of)?|originally (published|appeared)|this (article|story) "
    r"(first |originally )?(appeared|was published))\b|\b(first appeared (in|on)|republished (from|with))\b",
    re.IGNORECASE,
)
# Staff credits: who reported, edited or photographed (not an original source: ATTRIBUTION keeps those).
CREDIT = re.compile(
    r"^\W*((additional|with|and) )?(reporting|writing|editing|compiled|research|translation|translated"
    r"|edited|written|graphics|photography|photographs?|photos?|images?|pictures?|video|illustrations?)"
    r"( and \w+)? by\b"
    r"|\bcontributed( additional)? (reporting|research|to this (report|story|article))\b"
    r"|^\W*((main|top|lead|header|featured|cover) )?(photo|image|picture|illustration)s?( credits?)?\s*[:©]"
    r"|^\W*credits?\s*:|\bgetty images\b",
    re.IGNORECASE,
)
# A photo caption that ends in its credit: "... engines. (credit: NASA/Jane Doe)", "... (Photo: AP)".
CAPTION = re.compile(
    r"\((photo|image|picture|credit|foto|bild)s?( credits?)?\s*:[^()]{1,80}\)\W*$|\b(photos?|images?)\s*©",
    re.IGNORECASE,
)
BARE_URL = re.compile(r"^(https?://|www\.)\S+$")
# Image file names and ISO timestamps left over from hidden markup.
JUNK = re.compile(
    r"^(\S+\.(jpe?g|png|gif|webp|svg)(\?\S*)?|\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?)$", re.I
)

MAX_LEADING_DROPS = 3
MAX_TRAILING_SHARE = 0.5  # never cut more than half of the text off the end
SHORT_BLOCK_WORDS = 40
LINK_LIST_WORDS = 25
INSERT_WORDS = 30
REPEAT_MIN_WORDS = 25
REPEAT_COVERAGE = 0.9
LINK_DENSE = 0.6


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of the extracted body; ``link_chars`` counts characters inside links."""

    kind: str  # p, head, list, table, quote, code
    text: str
    link_chars: int = 0

    @property
    def link_dense(self) -> bool:
        return self.link_chars >= LINK_DENSE * len(self.text)


def word_list(text: str) -> list[str]:
    return WORD.findall(text.lower())


def shingle_set(words: Sequence[str]) -> set[tuple[str, ...]]:
    """The text's runs of ``SHINGLE`` words; a shorter text is one run of all its words."""
    if len(words) < SHINGLE:
        return {tuple(words)}
    # zip stops at the shortest slice, the last full run: in C, 1.5x the slicing comprehension
    return set(zip(*(words[i:] for i in range(SHINGLE)), strict=False))


def _key(text: str) -> str:
    return " ".join(word_list(text))


def _is_attribution(block: Block) -> bool:
    return bool(ATTRIBUTION.search(block.text))


def matches_title(text: str, titles: Sequence[str]) -> bool:
    """The text is one of the titles, or the start of one (a <title> often ends in " | Outlet")."""
    key = _key(text)
    if not key:
        return False
    for title in titles:
        title_key = _key(title)
        if key == title_key:
            return True
        if len(key) > 15 and len(key) >= 0.5 * len(title_key) and title_key.startswith(key):
            return True
    return False


def drop_repeats(blocks: Sequence[Block]) -> list[Block]:
    """Drop image names, timestamps and long blocks that only repeat earlier text (a second copy of the body).

    An exact repeat of one earlier block is kept: recipes and schedules repeat lines on purpose.
    """
    out: list[Block] = []
    seen: set[tuple[str, ...]] = set()
    keys: set[str] = set()
    for block in blocks:
        if JUNK.match(block.text.strip()):
            continue
        words = word_list(block.text)
        key = " ".join(words)
        shingles = shingle_set(words)
        if (
            key not in keys
            and len(words) >= REPEAT_MIN_WORDS
            and len(shingles & seen) >= REPEAT_COVERAGE * len(shingles)
        ):
            continue
        keys.add(key)
        seen |= shingles
        out.append(block)
    return out


def drop_leading(blocks: Sequence[Block], titles: Sequence[str], descriptions: Sequence[str]) -> list[Block]:
    """Drop the title, a standfirst heading that repeats the description, and a bare URL at the start."""
    out = list(blocks)
    dropped = 0
    while out and dropped < MAX_LEADING_DROPS:
        first = out[0]
        if (
            matches_title(first.text, titles)
            or (first.kind == "head" and matches_title(first.text, descriptions))
            or BARE_URL.match(first.text.strip())
        ):
            out.pop(0)
            dropped += 1
        else:
            break
    return out


def is_trailing_boilerplate(block: Block) -> bool:
    if _is_attribution(block):
        return False
    words = len(word_list(block.text))
    if words == 0:
        return True
    if words <= SHORT_BLOCK_WORDS and (
        LABEL.search(block.text) or BOILERPLATE.search(block.text) or CREDIT.search(block.text)
    ):
        return True
    if block.kind == "list" and block.link_dense:
        return True
    return block.link_dense and words <= LINK_LIST_WORDS


def drop_trailing(blocks: Sequence[Block]) -> list[Block]:
    """Drop share prompts, newsletter boxes, related links and the like from the end, up to half the text."""
    out = list(blocks)
    total = sum(len(block.text) for block in blocks) or 1
    removed = 0
    while (
        len(out) > 1
        and is_trailing_boilerplate(out[-1])
        and removed + len(out[-1].text) <= MAX_TRAILING_SHARE * total
    ):
        removed += len(out.pop().text)
    return out


def is_inserted_link(block: Block) -> bool:
    """A "Read more: <headline>" / "Related: <headline>" insert between two paragraphs."""
    if not LABEL.search(block.text):  # the cheaper test first: few blocks are labelled
        return False
    return len(word_list(block.text)) <= INSERT_WORDS and (block.link_dense or ":" in block.text[:40])


def is_caption(block: Block) -> bool:
    """A photo caption carrying its credit, wherever the extractor left it."""
    return bool(CAPTION.search(block.text)) and len(word_list(block.text)) <= SHORT_BLOCK_WORDS


def clean_blocks(blocks: Sequence[Block], titles: Sequence[str], descriptions: Sequence[str]) -> list[Block]:
    """All the rules, in the order they were measured in."""
    kept = drop_repeats(blocks)
    kept = drop_leading(kept, titles, descriptions)
    kept = drop_trailing(kept)
    return [
        block
        for block in kept
        if not (is_inserted_link(block) or is_caption(block)) or _is_attribution(block)
    ]
