"""Language of a text (pure apart from loading py3langid's bundled model once per process).

Declared languages win (``<html lang>``, the feed, the source's config); this is the fallback for pages that
declare none. Text too short to judge, or that the model cannot place with confidence (numbers, code,
markup leftovers: its ``zxx``), has no language: None.
"""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_LETTERS = 20
MIN_CONFIDENCE = 0.5
SAMPLE_CHARS = 5000


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    code, confidence = _identifier().classify(sample)
    if code == "zxx" or confidence < MIN_CONFIDENCE or len(code) != 2:
        return None
    return str(code)
