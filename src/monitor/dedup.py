"""Duplicate recognition (pure): canonical URLs, content hashes, and near-duplicate fingerprints.

Near-duplicates (issue #5): a text's word 4-shingles are sketched with MinHash, and the sketch is cut into
LSH bands. Two texts that share a band key are *candidates*; a candidate is a duplicate when the shingle
containment of the smaller text in the larger reaches ``DUPLICATE_THRESHOLD``. Finding candidates is an
index lookup per band, so it costs the same at ten thousand and ten million archived articles. A second,
smaller sketch of the lead (the first ``LEAD_WORDS`` words) catches a copy truncated to its first
paragraphs, whose Jaccard similarity to the whole original is low. Texts under ``MIN_NEAR_WORDS`` words only
match exactly.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which page it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt.mc_id",
        "__twitter_impression",
        "xtor",
        "at_medium",
        "at_campaign",
        "at_source",
        "at_platform",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ito",
        "ocid",
        "cmpid",
        "smid",
        "sr_share",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_campaign", "pk_kwd", "pk_source", "pk_medium")
DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The form of ``url`` that two links to the same page share.

    Lowercase scheme and host, default port and fragment dropped, tracking parameters dropped and the
    remaining query pairs sorted as they are (never re-encoded: ``?12345``, ``;`` separators and latin-1
    escapes survive); an empty path becomes ``/``. Path case and percent-escapes are kept: servers may
    treat them as distinct. A string that does not parse as a URL is returned stripped, unchanged.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{credentials}@{host}"
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    pairs = [pair for pair in parts.query.split("&") if pair]
    kept = sorted(pair for pair in pairs if not _is_tracking(unquote_plus(pair.split("=", 1)[0])))
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def without_fragment(url: str) -> str:
    """The URL to request: as published, only the fragment dropped (servers never see it anyway)."""
    return url.strip().split("#", 1)[0]


def site_of(url: str) -> str:
    """Rough registrable domain: ``www.bbc.co.uk`` -> ``bbc.co.uk``, ``m.example.org`` -> ``example.org``."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    labels = host.split(".")
    if len(labels) <= 2 or all(label.isdigit() for label in labels):
        return host
    keep = 3 if len(labels[-2]) <= 3 and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def same_site(a: str, b: str) -> bool:
    return site_of(a) == site_of(b) != ""


def choose_canonical(final_url: str, page_canonical: str | None) -> str:
    """The page's own ``<link rel=canonical>`` wins when it is on the same site as where we landed, and
    is not the site's home page (a template default that would fold every article into one)."""
    if page_canonical:
        try:
            absolute = urljoin(final_url, page_canonical.strip())
            parts = urlsplit(absolute)
            landed_path = urlsplit(final_url).path
        except ValueError:
            return canonical_url(final_url)
        is_home = parts.path in ("", "/") and landed_path not in ("", "/")
        if parts.scheme in ("http", "https") and same_site(absolute, final_url) and not is_home:
            return canonical_url(absolute)
    return canonical_url(final_url)


_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The text's words, case folded, punctuation dropped."""
    return _WORD.findall(text.casefold())


def fold_text(text: str) -> str:
    """Case, whitespace and punctuation folded: the form ``content_hash`` is computed over."""
    return " ".join(words(text))


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the text with case, whitespace and punctuation folded."""
    return _hash_words(words(text))


def _hash_words(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()


# -- near-duplicates -----------------------------------------------------------------------------------

FINGERPRINT_VERSION = 1
"""Bump when anything below changes, with a schema migration that refiles ``article_bands``; the keys of
``tests/test_dedup.py::test_band_keys_never_change`` must then be regenerated."""
SHINGLE_WORDS = 4
MIN_NEAR_WORDS = 50
LEAD_WORDS = 60
FULL_BANDS, LEAD_BANDS, BAND_ROWS = 16, 8, 4
SEED = 20261128
DUPLICATE_THRESHOLD = 0.6
"""Containment at or above which a candidate is a copy (chosen from benchmarks/dedup.py; docs/design.md)."""
# MinHash: datasketch 2's "affine32" scheme with its default SHA-1 hash, reproduced bit for bit (the archive's
# stored keys were made with it) in a few numpy lines, without datasketch's import of scipy.
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


def shingles(tokens: list[str], size: int = SHINGLE_WORDS) -> set[str]:
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return set(map(" ".join, zip(*(tokens[i:] for i in range(size)), strict=False)))


@lru_cache(maxsize=4)
def _permutations(count: int) -> tuple[Any, Any]:
    """``count`` affine maps ``h -> a * h + b (mod 2**32)`` with odd ``a``, drawn as datasketch draws them
    (numpy's legacy ``RandomState``, whose stream numpy keeps fixed)."""
    import numpy as np  # loaded when first needed, not by every CLI reader

    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, count, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, count, dtype=np.uint32)
    return a, b


_DIGEST = operator.methodcaller("digest")


def _gram_hashes(grams: Iterable[str]) -> Any:
    """Each shingle's 32-bit hash: the first 4 bytes (little-endian) of its SHA-1, as datasketch takes it;
    the loop over the shingles stays in C."""
    import numpy as np

    digests = b"".join(map(_DIGEST, map(hashlib.sha1, map(str.encode, grams))))
    return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)


def _minhash(hashes: Any, count: int) -> list[int]:
    """The ``count``-value MinHash signature of shingles given by their hashes (a repeated shingle changes
    no minimum, so the hashes need not be distinct)."""
    import numpy as np

    s1, m1, s2, m2, s3 = (np.uint32(c) for c in _FMIX32)  # MurmurHash3's finalizer, once per hash
    hashes = hashes ^ (hashes >> s1)
    hashes = hashes * m1
    hashes = hashes ^ (hashes >> s2)
    hashes = hashes * m2
    hashes = hashes ^ (hashes >> s3)
    a, b = _permutations(count)
    values = np.outer(hashes, a) + b  # uint32: the wraparound is the modulo
    result: list[int] = values.min(axis=0).tolist()
    return result


def _band_keys(kind: str, hashes: Any, bands: int) -> list[int]:
    values = _minhash(hashes, bands * BAND_ROWS)
    keys = []
    for band in range(bands):
        rows = values[band * BAND_ROWS : (band + 1) * BAND_ROWS]
        digest = hashlib.blake2b(f"{kind}{band}:{rows}".encode(), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def band_keys(text: str) -> tuple[int, ...]:
    """The LSH keys under which a text is filed; () for texts too short to match other than exactly."""
    return _band_keys_of(words(text))


def text_keys(text: str) -> tuple[str, tuple[int, ...]]:
    """``content_hash(text)`` and ``band_keys(text)`` from one pass over the text's words."""
    tokens = words(text)
    return _hash_words(tokens), _band_keys_of(tokens)


def _band_keys_of(tokens: list[str]) -> tuple[int, ...]:
    if len(tokens) < MIN_NEAR_WORDS:
        return ()
    # Every shingle in order, each hashed once: the lead's shingles are the first ones of the text's (the
    # sets ``shingles(tokens)`` and ``shingles(tokens[:LEAD_WORDS])``, as the stored keys were made).
    grams = map(" ".join, zip(*(tokens[i:] for i in range(SHINGLE_WORDS)), strict=False))
    hashes = _gram_hashes(grams)
    lead = min(len(tokens), LEAD_WORDS) - SHINGLE_WORDS + 1
    return tuple(_band_keys("f", hashes, FULL_BANDS) + _band_keys("l", hashes[:lead], LEAD_BANDS))


def _containment(grams_a: set[str], grams_b: set[str]) -> float:
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b))


def duplicate_score(a: str, b: str) -> float:
    """1.0 for the same folded text; the containment for texts long enough to compare; else 0.0."""
    return _Scored(a).score(b)


class _Scored:
    """A text's words and shingles, computed once to be scored against many candidates."""

    __slots__ = ("_grams", "tokens")

    def __init__(self, text: str) -> None:
        self.tokens = words(text)
        self._grams: set[str] | None = None

    def grams(self) -> set[str]:
        if self._grams is None:
            self._grams = shingles(self.tokens)
        return self._grams

    def score(self, other: str) -> float:
        tokens = words(other)
        if tokens == self.tokens and tokens:  # the same folded text (fold_text joins the words)
            return 1.0
        if min(len(tokens), len(self.tokens)) < MIN_NEAR_WORDS:
            return 0.0
        return _containment(self.grams(), shingles(tokens))


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    id: int
    story_id: int
    text: str
    published_at: datetime | None


def best_match(text: str, candidates: Sequence[StoryCandidate]) -> tuple[StoryCandidate, float] | None:
    """The candidate this text is a copy of (the highest score at or above the threshold), if any."""
    best: tuple[StoryCandidate, float] | None = None
    scored = _Scored(text)
    for candidate in candidates:
        score = scored.score(candidate.text)
        if score >= DUPLICATE_THRESHOLD and (best is None or score > best[1]):
            best = (candidate, score)
    return best


def is_older(published_a: datetime | None, id_a: int, published_b: datetime | None, id_b: int) -> bool:
    """Whether article a came first: the earlier ``published_at`` (unknown counts as latest), ties going
    to the one archived first (the lower id)."""
    far = datetime.max.replace(tzinfo=UTC)
    return (published_a or far, id_a) < (published_b or far, id_b)
