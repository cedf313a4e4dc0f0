"""The article's language by evidence (issue 13): what the page, the feed entry, the channel and the config
declare, what the text is detected as, and the template language a source's pages share."""

from __future__ import annotations

import pytest

from monitor.extract.evidence import Candidate
from monitor.extract.language import (
    CONFIDENT,
    choose_language,
    declared_languages,
    detect_scored,
    language_code,
    learn_template_language,
)
from monitor.extract.page import PageDoc

GERMAN = (
    "Am Montag hat der Stadtrat beschlossen, das Schwimmbad im Sommer länger zu öffnen. Die Bürgerinnen und "
    "Bürger hatten sich in einer Umfrage mehrheitlich dafür ausgesprochen."
)
# An English report whose text is mostly its French sources' words (issue 13: archived as fr before)
QUOTING_FRENCH = (
    "French bloggers reacted within minutes. « C'est une honte pour la République », écrit l'un d'eux, "
    "tandis qu'un autre estime que « le gouvernement a perdu toute crédibilité auprès des jeunes ». « Nous ne "
    "lâcherons rien, la rue aura le dernier mot », ajoute une militante sur son blog."
)


def page(head: str = "", *, lang: str | None = None, content_language: str | None = None) -> PageDoc:
    attribute = f' lang="{lang}"' if lang is not None else ""
    doc = PageDoc.parse(f"<html{attribute}><head>{head}</head><body><p>{GERMAN}</p></body></html>")
    assert doc is not None
    return PageDoc(doc.tree, "https://example.org/a", content_language=content_language)


def declared(doc: PageDoc) -> list[tuple[str, str]]:
    return [(c.source, c.value) for c in declared_languages(doc)]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("en-GB", "en"),
        ("en_US", "en"),
        ("ar", "ar"),
        ("zh-Hans", "zh"),
        ("zh-Hant-TW", "zh"),
        ("fa-IR", "fa"),
        (" DE ", "de"),
        ("eng", "en"),
        ("ara", "ar"),
        ("fas", "fa"),
        ("per", "fa"),
        ("zho", "zh"),
        ("chi", "zh"),
        ("nb-NO", "no"),
        ("iw", "he"),
    ],
)
def test_language_codes_become_iso_639_1(value: str, code: str) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize("value", [None, "", "English", "x-default", "und", "qqq", "e1", 42, ["en"]])
def test_what_is_not_a_language_code_is_none(value: object) -> None:
    assert language_code(value) is None


# declarations -----------------------------------------------------------------------------------------
def test_html_lang() -> None:
    assert declared(page(lang="de-DE")) == [("html:lang", "de")]


def test_og_locale() -> None:
    assert declared(page('<meta property="og:locale" content="ar_AR">')) == [("og:locale", "ar")]


def test_og_locale_alternate_is_not_the_pages_language() -> None:
    assert declared(page('<meta property="og:locale:alternate" content="fr_FR">')) == []


@pytest.mark.parametrize(
    "tag",
    ['<meta http-equiv="Content-Language" content="fa">', '<meta name="content-language" content="fa-IR">'],
)
def test_content_language_meta(tag: str) -> None:
    assert declared(page(tag)) == [("meta:content-language", "fa")]


def test_content_language_header() -> None:
    assert declared(page(content_language="ru-RU")) == [("header:content-language", "ru")]


def test_a_header_naming_several_languages_declares_none() -> None:
    assert declared(page(content_language="de, en")) == []


@pytest.mark.parametrize(
    "value",
    ['"zh-CN"', '["zh-CN"]', '{"@type": "Language", "name": "Chinese", "alternateName": "zh"}'],
)
def test_json_ld_in_language(value: str) -> None:
    ld = f'<script type="application/ld+json">{{"@type": "NewsArticle", "inLanguage": {value}}}</script>'
    assert declared(page(ld)) == [("json-ld:inLanguage", "zh")]


def test_json_ld_in_language_of_the_article_before_the_web_page() -> None:
    ld = (
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage", "inLanguage": "en"}, '
        '{"@type": "NewsArticle", "inLanguage": "es"}]}</script>'
    )
    assert declared(page(ld)) == [("json-ld:inLanguage", "es")]


def test_dublin_core_language() -> None:
    assert declared(page('<meta name="DC.language" content="ko">')) == [("dc.language", "ko")]


def test_every_declaration_in_order() -> None:
    head = (
        '<meta name="dc.language" content="de"><meta property="og:locale" content="de_AT">'
        '<meta http-equiv="content-language" content="de">'
        '<script type="application/ld+json">{"@type": "Article", "inLanguage": "de-AT"}</script>'
    )
    assert [source for source, _ in declared(page(head, lang="de", content_language="de"))] == [
        "html:lang",
        "og:locale",
        "meta:content-language",
        "header:content-language",
        "json-ld:inLanguage",
        "dc.language",
    ]


def test_a_page_declaring_nothing() -> None:
    assert declared(page(lang="")) == []


# the choice -------------------------------------------------------------------------------------------
def test_the_page_wins_over_the_feed_the_channel_and_the_config() -> None:
    choice = choose_language(
        [Candidate("de", "html:lang")],
        detected=("de", 1.0),
        feed_language="en",
        channel_language="fr",
        configured="es",
    )
    assert (choice.value, choice.source) == ("de", "html:lang")
    assert [(c.source, c.value) for c in choice.candidates] == [
        ("html:lang", "de"),
        ("feed:entry", "en"),
        ("feed:channel", "fr"),
        ("config", "es"),
        ("detected", "de"),
    ]


def test_the_feed_entry_wins_over_the_channel_and_the_config() -> None:
    choice = choose_language(
        [], detected=("fr", 1.0), feed_language="en-US", channel_language="fr", configured="es"
    )
    assert (choice.value, choice.source) == ("en", "feed:entry")


def test_the_channel_wins_over_the_config() -> None:
    choice = choose_language([], detected=None, channel_language="ar", configured="en")
    assert (choice.value, choice.source) == ("ar", "feed:channel")


def test_the_config_when_nothing_else_declares() -> None:
    choice = choose_language([], detected=("ja", 0.4), configured="ja")
    assert (choice.value, choice.source) == ("ja", "config")


def test_detection_decides_when_nothing_is_declared() -> None:
    choice = choose_language([], detected=detect_scored(GERMAN))
    assert (choice.value, choice.source) == ("de", "detected")


def test_a_weak_detection_still_beats_no_language() -> None:
    choice = choose_language([], detected=("hi", 0.45))
    assert choice.value == "hi"


def test_no_declaration_and_no_text_is_no_language() -> None:
    choice = choose_language([], detected=detect_scored("12:30"))
    assert choice.value is None and choice.source is None


def test_an_english_page_quoting_french_bloggers_stays_english() -> None:
    detected = detect_scored(QUOTING_FRENCH)
    assert detected is not None and detected[0] == "fr" and detected[1] >= CONFIDENT  # the trap is real
    choice = choose_language([], detected=detected, channel_language="en")
    assert (choice.value, choice.source) == ("en", "feed:channel")


def test_a_confident_detection_overrides_the_template_language() -> None:
    choice = choose_language([Candidate("en", "html:lang")], detected=("de", 1.0), template_language="en")
    assert (choice.value, choice.source) == ("de", "detected")
    assert "template" in (choice.reason or "")


def test_a_confident_detection_does_not_override_a_declaration_that_is_no_template() -> None:
    choice = choose_language([Candidate("en", "html:lang")], detected=("de", 1.0))
    assert choice.value == "en"
    choice = choose_language([Candidate("en", "html:lang")], detected=("de", 1.0), template_language="fr")
    assert choice.value == "en"


def test_an_unsure_detection_does_not_override_the_template_language() -> None:
    choice = choose_language(
        [Candidate("en", "html:lang")], detected=("de", CONFIDENT - 0.05), template_language="en"
    )
    assert choice.value == "en"


def test_a_feed_template_language_is_overridden_too() -> None:
    choice = choose_language([], detected=("ar", 0.99), channel_language="en", template_language="en-US")
    assert (choice.value, choice.source) == ("ar", "detected")


def test_conflicting_page_declarations_are_settled_by_detection() -> None:
    page = [Candidate("en", "html:lang"), Candidate("ar", "og:locale")]
    choice = choose_language(page, detected=("ar", 0.97))
    assert (choice.value, choice.source) == ("ar", "og:locale")
    choice = choose_language(page, detected=("en", 0.97))
    assert (choice.value, choice.source) == ("en", "html:lang")


def test_conflicting_page_declarations_without_detection_are_settled_by_the_feed() -> None:
    page = [Candidate("en", "html:lang"), Candidate("ar", "og:locale")]
    choice = choose_language(page, detected=None, channel_language="ar")
    assert (choice.value, choice.source) == ("ar", "og:locale")
    choice = choose_language(page, detected=None)
    assert (choice.value, choice.source) == ("en", "html:lang")


# the template language --------------------------------------------------------------------------------
def test_a_declaration_the_pages_share_while_their_text_is_other_languages_is_a_template() -> None:
    pages = [("en-US", ("de", 1.0))] * 4 + [("en", ("fr", 0.98)), ("en", ("en", 1.0))]
    assert learn_template_language(pages) == "en"


def test_a_source_whose_pages_are_what_they_declare_has_no_template() -> None:
    pages = [("en", ("en", 1.0))] * 8 + [("en", ("fr", 1.0))] * 2
    assert learn_template_language(pages) is None


def test_too_few_pages_make_no_template() -> None:
    assert learn_template_language([("en", ("de", 1.0))] * 4) is None
    assert learn_template_language([("en", ("de", 1.0))] * 5) == "en"


def test_unsure_detections_make_no_template() -> None:
    assert learn_template_language([("en", ("de", CONFIDENT - 0.1))] * 10) is None


def test_a_bilingual_source_has_no_template() -> None:
    pages = [("en", ("en", 1.0))] * 5 + [("en", ("ar", 1.0))] * 5
    assert learn_template_language(pages) is None


def test_pages_declaring_nothing_make_no_template() -> None:
    assert learn_template_language([(None, ("de", 1.0))] * 10) is None
    assert learn_template_language([]) is None


def test_a_declaration_on_a_minority_of_the_pages_is_no_template() -> None:
    pages = [("en", ("de", 1.0))] * 5 + [(None, ("de", 1.0))] * 6
    assert learn_template_language(pages) is None
