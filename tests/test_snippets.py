"""Snippets cut from the original text (monitor.snippets): the cheap path, which picks the window on the
index's normal form and tokenises only its part of the text, gives what tokenising the whole text gives."""

from __future__ import annotations

import random

import pytest

from monitor import textnorm
from monitor.query import parse
from monitor.snippets import best_snippet, terms_of
from test_fts_index import WORDS
from test_search_scripts import ARTICLES, LANGUAGE


def long_texts() -> list[tuple[str, str, str]]:
    """(language, text, query): matches at the start, middle and end of long texts, repeated words,
    paragraphs, a long run of Chinese without spaces, an Arabic article prefix."""
    rng = random.Random(13)
    texts = []
    for n in range(30):
        words = [
            rng.choice(WORDS) + rng.choice(["", "s", "ed", "'s", "-19", "."])
            for _ in range(rng.randint(5, 400))
        ]
        for _ in range(rng.randint(0, 3)):
            words.insert(rng.randrange(len(words) + 1), "Bogotá")
        text = " ".join(words).replace(" falcon ", " falcon\n\n")
        texts.append(
            ("en" if n % 2 else "es", text, rng.choice(["bogota", "falcon", "quarr*", "willows OR meadow"]))
        )
    chinese = "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。"
    texts.append(("zh", chinese * 40 + "最后马杜罗离开。", "马杜罗"))
    texts.append(("zh", "前言" * 300 + chinese, "马杜罗"))
    texts.append(("ar", "كلام " * 200 + "أصدرت المقاومة الفلسطينية بيانا " + "كلام " * 50, "مقاومة"))
    return texts


@pytest.mark.parametrize(("language", "text", "query"), long_texts())
def test_the_cheap_path_agrees_with_tokenising_everything(language: str, text: str, query: str) -> None:
    terms = terms_of(parse(query))
    marks = ("[", "]")
    full = best_snippet(None, text, language, terms, marks)
    cheap = best_snippet(None, text, language, terms, marks, indexed=textnorm.index_text(text, language))
    assert cheap == full


@pytest.mark.parametrize("key", list(ARTICLES))
def test_the_title_stands_in_when_only_the_title_matches(key: str) -> None:
    title, text = ARTICLES[key]
    language = LANGUAGE[key]
    first_title_word = textnorm.tokens(title, language)[0]
    query = title[first_title_word.start : first_title_word.end]
    terms = terms_of(parse(query))
    indexed = textnorm.index_text(text, language)
    expected = best_snippet(title, text, language, terms, ("<", ">"))
    assert best_snippet(title, text, language, terms, ("<", ">"), indexed=indexed) == expected
    if not any(terms.matches(token.term) for token in textnorm.tokens(text, language)):
        assert expected.startswith(title[: first_title_word.start] + "<")
