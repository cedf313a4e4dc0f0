"""Golden tests for the article body extractor (monitor.extract.body) and its generic boilerplate rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.extract.article import extract_article, extract_body
from monitor.extract.body import choose_body, json_ld_text, more_complete
from monitor.extract.body_rules import Block, clean_blocks, drop_repeats, drop_trailing, matches_title

BODIES = Path(__file__).parent / "data" / "bodies"
URL = "https://example.org/news/article"


def page(name: str) -> str:
    return (BODIES / f"{name}.html").read_text(encoding="utf-8")


def expected(name: str) -> str:
    return (BODIES / f"{name}.expected.txt").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize(
    ("html_name", "text_name"),
    [
        ("trailing_boilerplate", "trailing_boilerplate"),
        ("attribution_line", "attribution_line"),
        ("jsonld_teaser", "barley"),
        ("jsonld_complete", "barley"),
        ("split_containers", "split_containers"),
    ],
)
def test_body_matches_golden_text(html_name: str, text_name: str) -> None:
    assert extract_body(page(html_name), url=URL) == expected(text_name)


def test_trailing_boilerplate_and_read_more_insert_are_dropped() -> None:
    text = extract_body(page("trailing_boilerplate"), url=URL)
    for boilerplate in ("Read more", "Follow us", "newsletter", "You may also like", "Bridge tolls", "©"):
        assert boilerplate not in text
    assert text.endswith("demanded for more than a decade.")
    assert not text.startswith("Harbour bridge reopens")  # the title is not part of the body


def test_linked_attribution_line_survives_while_share_prompt_goes() -> None:
    text = extract_body(page("attribution_line"), url=URL)
    assert text.split("\n\n")[-1] == "Source: Al Mayadeen English"
    assert "Share this story" not in text


def test_truncated_json_ld_teaser_does_not_replace_the_page_text() -> None:
    text = extract_body(page("jsonld_teaser"), url=URL)
    assert "…" not in text
    assert len(text.split("\n\n")) == 5


def test_complete_json_ld_body_beats_a_paywalled_page() -> None:
    text = extract_body(page("jsonld_complete"), url=URL)
    assert "Subscribe to continue reading" not in text
    assert text.endswith("once the sequencing is finished.")


def test_extract_article_uses_the_body_extractor() -> None:
    from datetime import UTC, datetime

    article = extract_article(
        page("trailing_boilerplate").encode(), url=URL, now=datetime(2024, 3, 13, tzinfo=UTC)
    )
    assert article.text == expected("trailing_boilerplate")
    assert article.title == "Harbour bridge reopens after two-year repair"


def test_page_without_text_gives_empty_body() -> None:
    assert extract_body("<html><head><title>Empty</title></head><body></body></html>", url=URL) == ""


def test_json_ld_body_with_escaped_html_becomes_paragraphs() -> None:
    assert json_ld_text("&lt;p&gt;One.&lt;/p&gt;&lt;p&gt;Two.&lt;/p&gt;") == "One.\n\nTwo."


def test_choose_body_prefers_extracted_text_unless_json_ld_is_clearly_more_complete() -> None:
    extracted = "alpha beta gamma delta epsilon zeta eta theta"
    longer = extracted + " iota kappa lambda mu nu xi omicron pi rho sigma"
    assert choose_body(extracted, (longer,)) == longer
    assert choose_body(extracted, ("alpha beta gamma…",)) == extracted  # a teaser
    unrelated = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    assert choose_body(extracted, (unrelated,)) == extracted
    assert choose_body("", ("alpha beta gamma…",)) == "alpha beta gamma…"  # better than nothing


def prose(n: int) -> Block:
    return Block("p", " ".join(f"word{n}x{i}" for i in range(60)))


def test_exact_repeats_are_kept_but_a_second_copy_of_the_body_is_dropped() -> None:
    line = Block("p", "Portion: 1 green, 1 purple, 1 red, 1 tsp.")
    first, second = prose(1), prose(2)
    copy = Block("p", first.text + " " + second.text)
    kept = drop_repeats([first, line, second, line, copy, Block("p", "2019-11-19T08:57:40+01:00")])
    assert kept == [first, line, second, line]


def test_trailing_rule_never_cuts_more_than_half_the_text() -> None:
    links = [Block("list", "Headline one\nHeadline two", link_chars=24) for _ in range(10)]
    short_article = [Block("p", "A short story.")]
    kept = drop_trailing(short_article + links)
    assert kept[0] == short_article[0]
    assert len(kept) == 6  # five of the ten link lists are half of all the text
    assert drop_trailing([prose(1), prose(2), *links[:2]]) == [prose(1), prose(2)]


def test_clean_blocks_drops_leading_title_and_url_but_keeps_body_headings() -> None:
    blocks = [
        Block("p", "https://example.org/news/article"),
        Block("head", "Harbour bridge reopens after two-year repair"),
        prose(1),
        Block("head", "What happens next"),
        prose(2),
    ]
    kept = clean_blocks(blocks, ["Harbour bridge reopens after two-year repair | The Coastal Ledger"], [])
    assert kept == blocks[2:]


def test_matches_title_needs_a_substantial_prefix() -> None:
    titles = ["Harbour bridge reopens after two-year repair | The Coastal Ledger"]
    assert matches_title("Harbour bridge reopens after two-year repair", titles)
    assert not matches_title("Harbour", titles)


def test_article_split_over_sibling_containers_is_read_whole() -> None:
    # trafilatura keeps only the first of the two containers (4 of 12 paragraphs); readability-lxml's reading
    # holds all of it and replaces the extraction.
    text = extract_body(page("split_containers"), url=URL)
    assert text.startswith("The river authority opened the new fish ladder")
    assert text.endswith("closed in the nineteen-eighties after years of decline.")
    assert len(text.split("\n\n")) == 12
    assert "Advertisement" not in text


def test_more_complete_needs_coverage_and_length() -> None:
    extracted = "alpha beta gamma delta epsilon zeta eta theta"
    assert more_complete(extracted, extracted + " iota kappa lambda mu nu xi omicron pi rho sigma")
    assert not more_complete(extracted, extracted + " iota")  # not clearly longer
    assert not more_complete(extracted, "one two three four five six seven eight nine ten eleven twelve")
    assert more_complete("", "anything at all")


@pytest.mark.parametrize(
    "credit",
    [
        "(Reporting by Jane Doe; Editing by John Roe)",
        "Reporting by Jane Doe; additional reporting by John Roe; Editing by Mary Major",
        "Additional reporting by Joseph Hudak",
        "Associated Press writers Jane Doe and John Roe contributed to this report.",
        "John Roe contributed reporting from Hong Kong.",
        "Writing by Jane Doe",
        "Compiled by the news desk",
        "Photo: Jane Doe / Agency",
        "Main image credit: Getty",
        "Photographs by John Roe",
    ],
)
def test_trailing_staff_credit_lines_are_dropped(credit: str) -> None:
    assert drop_trailing([prose(1), prose(2), Block("p", credit)]) == [prose(1), prose(2)]


@pytest.mark.parametrize(
    "source",
    [
        "Source » almayadeen",
        "Source: Reuters",
        "SOURCE: Al Jazeera News",
        "Originally published by The Conversation",
        "This article first appeared in The Guardian",
    ],
)
def test_trailing_source_credit_survives_even_after_a_staff_credit(source: str) -> None:
    blocks = [
        prose(1),
        prose(2),
        Block("p", source),
        Block("p", "Reporting by Jane Doe; Editing by John Roe"),
    ]
    assert drop_trailing(blocks) == blocks[:3]


def test_photo_caption_with_its_credit_is_dropped_wherever_it_is() -> None:
    caption = Block(
        "p", "The core stage at the assembly hall after its engines were fitted. (credit: NASA/Jane Doe)"
    )
    gallery = Block("p", "Installation views, photos © Jane Doe, 2018")
    blocks = [prose(1), caption, prose(2), gallery, prose(3)]
    assert clean_blocks(blocks, [], []) == [prose(1), prose(2), prose(3)]
    mention = Block("p", "The agency said the photo (credit to the crew) was taken on Monday.")
    assert clean_blocks([prose(1), mention, prose(2)], [], []) == [prose(1), mention, prose(2)]


LEAD = "Snow on a solar roof costs more than output. Its weight also strains the modules and their mounts."
BODY_PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the article explains in plain words what installers advise owners of solar roofs"
    f" to do after a heavy snowfall, and why clearing the panels by hand can do more harm than good.</p>"
    for n in range(1, 7)
)


def lead_page(lead_tag: str = "p", description: str = LEAD, before_headline: bool = False) -> str:
    lead = f'<{lead_tag} class="intro">{LEAD}</{lead_tag}>'
    headline = "<h1>Snow on solar roofs</h1>"
    header = f"{lead}{headline}" if before_headline else f"{headline}{lead}"
    return (
        f'<html><head><title>Snow on solar roofs</title><meta name="description" content="{description}">'
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><header>{header}</header>"
        f'<div class="article-body">{BODY_PARAGRAPHS}</div></article></main></body></html>'
    )


def test_standfirst_matching_the_description_is_put_back_in_front_of_the_body() -> None:
    text = extract_body(lead_page())
    assert text.startswith(LEAD + "\n\n")
    assert text.count(LEAD) == 1


@pytest.mark.parametrize(
    "html",
    [
        lead_page(lead_tag="h2"),  # a subheadline, not a paragraph
        lead_page(description="A one-sentence dek that the page does not show as it is."),
        lead_page(before_headline=True),  # a site tagline above the headline
    ],
)
def test_standfirst_needs_a_visible_paragraph_after_the_headline_that_is_the_description(html: str) -> None:
    assert LEAD not in extract_body(html)
