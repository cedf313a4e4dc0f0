"""HTML fragments to plain text with paragraphs kept (pure)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "figure",
        "figcaption",
        "header",
        "footer",
        "hr",
        "address",
        "aside",
        "main",
    }
)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment; block elements become paragraphs separated by a blank line."""
    if "<" not in fragment and "&" not in fragment:
        return normalise_paragraphs(fragment)
    soup = BeautifulSoup(fragment, "lxml")
    for element in soup(["script", "style", "noscript", "template"]):
        element.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(BLOCK_TAGS):
        if isinstance(block, Tag):
            block.insert_before("\n\n")
            block.insert_after("\n\n")
    return normalise_paragraphs(soup.get_text())


def normalise_paragraphs(text: str) -> str:
    """Fold runs of spaces, keep single line breaks, and separate paragraphs by exactly one blank line."""
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [_SPACES.sub(" ", line).strip() for line in chunk.split("\n")]
        joined = "\n".join(line for line in lines if line)
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)
