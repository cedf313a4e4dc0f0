from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.extract import decode_html, extract_article
from monitor.extract.authors import clean_names
from monitor.extract.dates import parse_datetime
from monitor.extract.title import strip_site_name
from monitor.store import iso

PAGES = Path(__file__).parent / "data" / "pages"
NOW = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize("name", ["seed_article", "plain_article", "arabic_article"])
def test_golden_pages(name: str) -> None:
    content = (PAGES / f"{name}.html").read_bytes()
    want = json.loads((PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))
    page = extract_article(content, url="https://outlet.example/news/story", now=NOW)
    assert page.title == want["title"]
    assert list(page.authors) == want["authors"]
    assert iso(page.published_at) == want["published_at"]
    assert page.language == want["language"]
    assert page.canonical_url == want["canonical_url"]
    assert page.image == want["image"]
    if want.get("summary_contains"):
        assert want["summary_contains"] in (page.summary or "")
    for fragment in want["text_must_contain"]:
        assert fragment in page.text
    for fragment in want["text_must_not_contain"]:
        assert fragment not in page.text


def test_seed_body_is_whole_and_in_paragraphs() -> None:
    page = extract_article(
        (PAGES / "seed_article.html").read_bytes(), url="https://ifpnews.example/x", now=NOW
    )
    paragraphs = page.text.split("\n\n")
    assert paragraphs[0].startswith("In a meeting between the Iranian leader Sayyed Ali Khamenei")
    assert paragraphs[-1] == "Source » almayadeen"
    assert "20-year cooperation" in paragraphs
    assert len(paragraphs) == 15


def test_charset_that_lies() -> None:
    text = "Grève à Montréal — «déjà» vu"
    utf8_page = f"<html><head><meta charset='iso-8859-1'></head><body><p>{text}</p></body></html>"
    assert text in decode_html(utf8_page.encode("utf-8"), "iso-8859-1")
    latin_page = f"<html><head><meta charset='windows-1252'></head><body><p>{text}</p></body></html>"
    assert text in decode_html(latin_page.encode("windows-1252"), None)
    assert text in decode_html(latin_page.encode("windows-1252"), "utf-8")
    assert "\ufeff" not in decode_html(b"\xef\xbb\xbf<p>x</p>", None)


def test_dates_outside_plausible_range_are_rejected() -> None:
    assert parse_datetime("2022-06-11T14:32:00+04:30", now=NOW) == datetime(2022, 6, 11, 10, 2, tzinfo=UTC)
    assert parse_datetime("Sat, 11 Jun 2022 10:02:00 GMT", now=NOW) == datetime(
        2022, 6, 11, 10, 2, tzinfo=UTC
    )
    assert parse_datetime("1970-01-01T00:00:00Z", now=NOW) is None
    assert parse_datetime("2031-01-01T00:00:00Z", now=NOW) is None
    assert parse_datetime("yesterday", now=NOW) is None


def test_title_suffix_and_authors() -> None:
    assert strip_site_name("Big story | The Daily", ["The Daily"]) == "Big story"
    assert strip_site_name("The Daily - Big story here", ["The Daily"]) == "Big story here"
    assert strip_site_name("Left - right compromise reached", []) == "Left - right compromise reached"
    assert clean_names(["By Jane Doe", "The Daily", "https://x/author/1"], site_names=["The Daily"]) == (
        "Jane Doe",
    )
