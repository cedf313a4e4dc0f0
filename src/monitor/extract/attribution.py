"""Credited original sources (pure): "Source » almayadeen", "Source: Reuters", "Originally published by X",
"This article first appeared in X", agency datelines such as "(Reuters) -", "TEHRAN (AFP) -", "— AP".

The line stays in the text; this only reads it. Credit lines sit at the end of an article and datelines at
its start, so only the last few and the first paragraphs are looked at.
"""

from __future__ import annotations

import re

from monitor.models import Attribution

AGENCIES = (
    "Reuters",
    "AFP",
    "AP",
    "Associated Press",
    "Agence France-Presse",
    "Xinhua",
    "TASS",
    "IRNA",
    "ISNA",
    "Anadolu",
    "Anadolu Agency",
    "AA",
    "ANI",
    "PTI",
    "IANS",
    "EFE",
    "dpa",
    "DPA",
    "ANSA",
    "Kyodo",
    "Yonhap",
    "UPI",
    "Bloomberg",
    "SANA",
    "WAFA",
    "Sputnik",
    "RIA Novosti",
    "Interfax",
    "KUNA",
    "WAM",
    "SPA",
    "MENA",
    "Fars",
    "Tasnim",
    "Mehr",
    "CNA",
    "Bernama",
    "Antara",
    "APA",
    "Prensa Latina",
    "Europa Press",
)
_AGENCY = "|".join(sorted((re.escape(a) for a in AGENCIES), key=len, reverse=True))
_NAME = r"[^\n]{1,80}?"

# "Source » almayadeen", "Source: Reuters", "Sources: AFP, agencies", "SOURCE | Al Mayadeen English"
_SOURCE_LINE = re.compile(
    rf"^\(?\s*(?:sources?|source\s+link|via|kaynak|fuente|quelle|источник|المصدر)\s*(?:[:»|>–—-]|&raquo;)\s*(?P<name>{_NAME})\s*\)?\.?$",
    re.IGNORECASE,
)
# "Originally published by X", "This article first appeared in X", "Republished with permission from X"
_PUBLISHED_LINE = re.compile(
    r"^(?:(?:this|the)\s+(?:article|story|piece|post|report|essay|interview|op-ed|column|commentary|analysis)"
    r"\s+(?:was\s+|is\s+)?)?"
    r"(?:originally\s+(?:published|appeared)|first\s+(?:published|appeared)|republished(?:\s+with\s+permission)?|"
    r"reprinted(?:\s+with\s+permission)?|(?:published\s+)?courtesy)\s+(?:(?:on|in|by|at|from|of)\s+)+"
    rf"(?P<name>{_NAME})(?:\s+(?:on|in)\s+(?:\w+\s+)?\d[^\n]*)?\.?$",
    re.IGNORECASE,
)
# "(Reuters) -", "TEHRAN (AFP) -", "WASHINGTON, June 3 (AP) —"
_DATELINE = re.compile(rf"^[^\n()]{{0,60}}\((?P<name>{_AGENCY})\)\s*[-–—:]", re.IGNORECASE)
# "... — AP", "- AFP"
_TRAILER = re.compile(rf"[-–—]\s*(?P<name>{_AGENCY})\.?$")


def _clean(name: str) -> str:
    return name.strip(" .,;:»|\"'“”()[]").strip()


def find_attribution(text: str) -> Attribution | None:
    """The credited original source of an article's text, or None."""
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    if not paragraphs:
        return None
    for paragraph in reversed(paragraphs[-4:]):
        if len(paragraph) > 200:
            continue
        for pattern in (_SOURCE_LINE, _PUBLISHED_LINE):
            if (match := pattern.search(paragraph)) and (name := _clean(match.group("name"))):
                return Attribution(name=name, line=paragraph)
    if match := _DATELINE.search(paragraphs[0][:200]):
        return Attribution(
            name=_canonical_agency(match.group("name")), line=paragraphs[0][: match.end()].strip()
        )
    for paragraph in reversed(paragraphs[-2:]):
        if match := _TRAILER.search(paragraph):
            return Attribution(name=_canonical_agency(match.group("name")), line=match.group(0).strip())
    return None


def _canonical_agency(name: str) -> str:
    for agency in AGENCIES:
        if agency.casefold() == name.casefold():
            return agency
    return name
