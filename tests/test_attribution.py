from __future__ import annotations

import pytest

from monitor.extract.attribution import find_attribution

BODY = "The talks lasted three hours and ended without a joint statement, officials said."


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (f"{BODY}\n\nSource » almayadeen", "almayadeen"),
        (f"{BODY}\n\nSource: Reuters", "Reuters"),
        (f"{BODY}\n\nSOURCE | Al Mayadeen English", "Al Mayadeen English"),
        (f"{BODY}\n\n(Source: Anadolu Agency)", "Anadolu Agency"),
        (f"{BODY}\n\nSources: AFP, agencies", "AFP, agencies"),
        (f"{BODY}\n\nOriginally published by The Conversation.", "The Conversation"),
        (f"{BODY}\n\nThis article first appeared in Le Monde diplomatique.", "Le Monde diplomatique"),
        (f"{BODY}\n\nThis article was originally published on Common Dreams.", "Common Dreams"),
        (f"{BODY}\n\nRepublished with permission from Asia Times.", "Asia Times"),
        (f"{BODY}\n\nThis story first appeared in ProPublica on March 3, 2024.", "ProPublica"),
        (f"(Reuters) - {BODY}", "Reuters"),
        (f"TEHRAN (AFP) - {BODY}", "AFP"),
        (f"WASHINGTON, June 3 (AP) — {BODY}", "AP"),
        (f"MOSCOW (tass) – {BODY}", "TASS"),
        (f"{BODY}\n\nMore talks are planned next week. — AP", "AP"),
        (f"{BODY}\n\nFuente: EFE", "EFE"),
        (f"{BODY}\n\nQuelle: dpa", "dpa"),
        (f"{BODY}\n\nالمصدر: الميادين", "الميادين"),
    ],
)
def test_credit_lines_and_datelines(text: str, name: str) -> None:
    found = find_attribution(text)
    assert found is not None and found.name == name
    assert found.line in text


@pytest.mark.parametrize(
    "text",
    [
        BODY,
        f"{BODY}\n\nThe source of the leak was not identified, officials said on Tuesday.",
        f"{BODY}\n\nSources said the minister would resign. " + "More words follow here. " * 20,
        f"The AP style guide (AP) is not an agency credit. {BODY}" * 3,
        f"{BODY}\n\nShe first appeared in court in March.",
        "",
    ],
)
def test_ordinary_sentences_are_not_credits(text: str) -> None:
    assert find_attribution(text) is None
