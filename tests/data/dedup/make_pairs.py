"""Build the labelled near-duplicate pair set (issue 5, item 6) from ``texts.json``.

    .venv/bin/python tests/data/dedup/make_pairs.py      # rewrites pairs.json next to this file

Deterministic (fixed seed): run it once and commit its output. ``benchmarks/dedup.py`` imports
``build_pairs`` to make the same kinds of pairs from other texts at run time.

Ids look like ``<topic>-<letter>``: articles with the same topic are independent reports on the same
event, so pairs of them are the hard negatives. In ``pairs.json`` each of ``a`` and ``b`` is either an
id of ``texts.json`` or a text written inline; ``label`` is 1 for a copy of the same story, 0 otherwise.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20260505
LEAD_MIN_WORDS = 50

LANGUAGES = {"greve": "fr", "sequia": "es", "bruecke": "de"}

# Boilerplate that survives body extraction: a header line, and footer pieces.
OUTLETS: dict[str, list[dict[str, list[str]]]] = {
    "en": [
        {
            "header": ["The Harbour Gazette | World", "By Staff Reporter | Updated 14 May, 09:12"],
            "footer": [
                "Share this article",
                "Sign up for our morning briefing: the five stories you need, in your inbox before 7 a.m.",
                "Related: Ports brace for busy summer season | Council approves new cycle lanes | "
                "Opinion: Why the budget matters",
                "© 2026 The Harbour Gazette. All rights reserved.",
            ],
        },
        {
            "header": ["NEWS", "Published 3 hours ago"],
            "footer": [
                "Share on Facebook Share on X Share by email",
                "Read more:",
                "Five things we learned this week",
                "The weather for the weekend, region by region",
                "Follow us on Instagram for the latest updates.",
            ],
        },
        {
            "header": ["Northern Daily Post > News > World"],
            "footer": [
                "Newsletter: Get the Northern Daily Post's best journalism every weekday. Subscribe for free. "
                "You can unsubscribe at any time.",
                "Have a story? Contact our newsroom at tips@northern.example.",
            ],
        },
    ],
    "fr": [
        {
            "header": ["Le Courrier du Rhône | Actualités", "Publié le 14 mai à 9 h 12"],
            "footer": [
                "Partager cet article",
                "Inscrivez-vous à notre lettre d'information et recevez chaque matin l'essentiel de l'actualité.",
                "À lire aussi : Les prix de l'immobilier repartent à la hausse",
            ],
        }
    ],
    "es": [
        {
            "header": ["Diario del Sur | Sociedad", "Actualizado el 14 de mayo a las 9:12"],
            "footer": [
                "Compartir este artículo",
                "Suscríbete a nuestro boletín y recibe cada mañana las noticias más importantes del día.",
                "Te puede interesar: Las claves del nuevo plan de vivienda",
            ],
        }
    ],
    "de": [
        {
            "header": ["Lahn-Kurier | Region", "Aktualisiert am 14. Mai, 09:12 Uhr"],
            "footer": [
                "Artikel teilen",
                "Abonnieren Sie unseren Newsletter und erhalten Sie jeden Morgen die wichtigsten Nachrichten.",
                "Mehr zum Thema: Neue Radwege für die Innenstadt",
            ],
        }
    ],
}
CREDITS = {
    "en": [
        "Source: Reuters",
        "Source » almayadeen",
        "This article first appeared in The Coastal Times.",
        "(AFP)",
        "With reporting by Agence France-Presse.",
        "Source: Agencies",
    ],
    "fr": ["Source : AFP", "Cet article a d'abord été publié par Le Progrès Régional."],
    "es": ["Fuente: EFE", "Este artículo se publicó originalmente en El Correo del Valle."],
    "de": ["Quelle: dpa", "Dieser Artikel erschien zuerst im Mittelhessischen Boten."],
}
UPDATES = {
    "en": [
        "Update: Officials gave a further briefing on Saturday afternoon and said more details would be "
        "released in the coming days. Our reporters will continue to follow the story as it develops.",
        "This story has been updated with additional reaction and background information. A previous "
        "version misstated the time of the announcement.",
    ],
    "fr": [
        "Mise à jour : de nouvelles informations sont attendues dans les prochains jours. Notre rédaction "
        "continue de suivre la situation et complétera cet article."
    ],
    "es": [
        "Actualización: las autoridades ofrecerán nuevos detalles en los próximos días. Nuestra redacción "
        "seguirá informando sobre la evolución de la situación."
    ],
    "de": [
        "Aktualisierung: Weitere Einzelheiten sollen in den kommenden Tagen bekannt gegeben werden. Unsere "
        "Redaktion verfolgt die Entwicklung und ergänzt diesen Bericht."
    ],
}
QUOTE_INTRO = {
    "en": "As another outlet reported earlier:",
    "fr": "Comme l'a rapporté un autre média :",
    "es": "Como informó otro medio:",
    "de": "Wie ein anderes Medium berichtete:",
}

Transform = Callable[[str, str, random.Random], str]
"""(text, language, rng) -> transformed text."""


def paragraphs(text: str) -> list[str]:
    """The blank-line separated paragraphs; a text in one block is cut into groups of three sentences."""
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    if len(parts) == 1:
        sentences = re.split(r"(?<=[.!?])\s+", parts[0])
        parts = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return parts


def join(parts: list[str]) -> str:
    return "\n\n".join(parts)


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def evenly_paragraphed(text: str) -> bool:
    parts = paragraphs(text)
    return len(parts) >= 5 and max(word_count(p) for p in parts) <= 0.3 * word_count(text)


def with_boilerplate(text: str, lang: str, rng: random.Random, outlet: int | None = None) -> str:
    outlets = OUTLETS[lang]
    chosen = outlets[outlet % len(outlets)] if outlet is not None else rng.choice(outlets)
    return join(chosen["header"] + paragraphs(text) + chosen["footer"])


def with_credit(text: str, lang: str, rng: random.Random) -> str:
    credit = rng.choice(CREDITS[lang])
    parts = paragraphs(text)
    return join([credit, *parts] if rng.random() < 0.25 else [*parts, credit])


def lead(text: str, rng: random.Random) -> str:
    """The first 1 to 3 paragraphs, more if needed to reach LEAD_MIN_WORDS words."""
    parts = paragraphs(text)
    keep = rng.randint(1, max(1, min(3, len(parts) - 1)))
    while keep < len(parts) and word_count(join(parts[:keep])) < LEAD_MIN_WORDS:
        keep += 1
    return join(parts[:keep])


def reorder_swap(text: str, rng: random.Random) -> str:
    parts = paragraphs(text)
    if len(parts) < 3:
        return join(parts[::-1])
    i, j = rng.sample(range(1, len(parts)), 2)
    parts[i], parts[j] = parts[j], parts[i]
    return join(parts)


def reorder_shuffle(text: str, rng: random.Random) -> str:
    parts = paragraphs(text)
    shuffled = parts[:]
    while shuffled == parts and len(parts) > 1:
        rng.shuffle(shuffled)
    return join(shuffled)


def stealth_edit(text: str, rng: random.Random) -> str:
    """A handful of words changed: numbers nudged, words swapped for others of the text, one sentence cut."""
    text = re.sub(
        r"\d+", lambda m: str(int(m.group()) + rng.randint(1, 9)) if rng.random() < 0.5 else m.group(), text
    )
    tokens = text.split(" ")
    vocabulary = [t for t in tokens if t.isalpha() and len(t) > 3]
    for _ in range(4):
        i = rng.randrange(len(tokens))
        if tokens[i].isalpha():
            tokens[i] = rng.choice(vocabulary)
    parts = paragraphs(" ".join(tokens))
    p = rng.randrange(1, len(parts)) if len(parts) > 1 else 0
    sentences = re.split(r"(?<=[.!?»])\s+", parts[p])
    if len(sentences) > 1:
        del sentences[rng.randrange(len(sentences))]
        parts[p] = " ".join(sentences)
    return join(parts)


def extended(text: str, lang: str, rng: random.Random) -> str:
    return join([*paragraphs(text), rng.choice(UPDATES[lang])])


def reformatted(text: str) -> str:
    """Same words, other typography: the folded text is equal."""
    plain = text.replace("«", '"').replace("»", '"').replace("’", "'").replace("“", '"').replace("”", '"')
    return "\n".join(" ".join(p.split()) for p in paragraphs(plain)).upper()


POSITIVES: dict[str, Transform] = {
    "boilerplate_added": lambda t, lang, r: with_boilerplate(t, lang, r),
    "credit_line": with_credit,
    "lead_truncation": lambda t, lang, r: lead(t, r),
    "reorder_swap": lambda t, lang, r: reorder_swap(t, r),
    "reorder_shuffle": lambda t, lang, r: reorder_shuffle(t, r),
    "stealth_edit": lambda t, lang, r: stealth_edit(t, r),
    "extended": extended,
    "reformatted": lambda t, lang, r: reformatted(t),
    "boilerplate+credit": lambda t, lang, r: with_boilerplate(with_credit(t, lang, r), lang, r),
    "lead+credit": lambda t, lang, r: with_credit(lead(t, r), lang, r),
    "lead+boilerplate": lambda t, lang, r: with_boilerplate(lead(t, r), lang, r),
    "reorder+boilerplate+credit": lambda t, lang, r: with_boilerplate(
        with_credit(reorder_swap(t, r), lang, r), lang, r
    ),
    "edit+extended+credit": lambda t, lang, r: with_credit(extended(stealth_edit(t, r), lang, r), lang, r),
}
PAIRED_POSITIVES = ("boilerplate_removed", "boilerplate_swapped", "lead_vs_boilerplate")
"""Both sides transformed: the original is not in the pair."""


def paired_positive(kind: str, text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    outlets = rng.sample(range(len(OUTLETS[lang])), 2) if len(OUTLETS[lang]) > 1 else [0, 0]
    if kind == "boilerplate_removed":  # the original carried its outlet's boilerplate; the copy is clean
        return with_boilerplate(text, lang, rng, outlets[0]), with_credit(text, lang, rng)
    if kind == "boilerplate_swapped":  # two republishers, each with its own boilerplate
        return with_boilerplate(text, lang, rng, outlets[0]), with_boilerplate(
            with_credit(text, lang, rng), lang, rng, outlets[1]
        )
    # a teaser of the lead on one outlet, the whole story with boilerplate on another
    return with_boilerplate(text, lang, rng, outlets[0]), lead(text, rng)


def quoting(quoted: str, quoter: str, lang: str, rng: random.Random) -> str:
    """``quoter`` with one paragraph of ``quoted`` inserted as a quotation."""
    parts = paragraphs(quoter)
    borrowed = rng.choice(paragraphs(quoted))
    parts.insert(rng.randint(1, len(parts)), f"{QUOTE_INTRO[lang]} “{borrowed}”")
    return join(parts)


def build_pairs(
    texts: dict[str, str],
    topic_of: Callable[[str], str],
    language_of: Callable[[str], str],
    seed: int = SEED,
    per_text: int = 5,
    max_same_topic: int | None = None,
) -> list[dict[str, str | int]]:
    """Positive and negative pairs over ``texts`` (ids kept as references where a side is untouched).

    Each text gets ``per_text`` positive transformations, taken round-robin from all kinds so that every
    kind is equally represented. Negatives: every pair within a topic (``same_topic``; capped at
    ``max_same_topic`` if given), the same pairs dressed in the same outlet's boilerplate, a lead against
    another story of the topic, a story quoting a paragraph of another, a follow-up repeating two
    background paragraphs of the earlier story, two short leads in the same outlet's boilerplate, and
    pairs across topics (``other_topic``).
    """
    rng = random.Random(seed)
    ids = sorted(texts)
    kinds = [*POSITIVES, *PAIRED_POSITIVES]
    pairs: list[dict[str, str | int]] = []
    for n, text_id in enumerate(ids):
        text, lang = texts[text_id], language_of(text_id)
        for k in range(per_text):
            kind = kinds[(n * per_text + k) % len(kinds)]
            if kind in POSITIVES:
                pairs.append(
                    {"a": text_id, "b": POSITIVES[kind](text, lang, rng), "label": 1, "transform": kind}
                )
            else:
                a, b = paired_positive(kind, text, lang, rng)
                pairs.append({"a": a, "b": b, "label": 1, "transform": kind})

    by_topic: dict[str, list[str]] = {}
    for text_id in ids:
        by_topic.setdefault(topic_of(text_id), []).append(text_id)
    same_topic = [pair for group in by_topic.values() for pair in itertools.combinations(group, 2)]
    if max_same_topic is not None and len(same_topic) > max_same_topic:
        same_topic = rng.sample(same_topic, max_same_topic)
    for a, b in same_topic:
        lang = language_of(a)
        pairs.append({"a": a, "b": b, "label": 0, "transform": "neg:same_topic"})
        outlet = rng.randrange(len(OUTLETS[lang]))
        pairs.append(
            {
                "a": with_boilerplate(texts[a], lang, rng, outlet),
                "b": with_boilerplate(texts[b], lang, rng, outlet),
                "label": 0,
                "transform": "neg:same_topic_same_outlet",
            }
        )
    for a, b in rng.sample(same_topic, min(len(same_topic), len(ids) // 2)):
        pairs.append({"a": lead(texts[a], rng), "b": b, "label": 0, "transform": "neg:lead_vs_same_topic"})
    # a quotation or two background paragraphs of a short text (or of one with a few long paragraphs)
    # would be most of it: texts of five paragraphs or more, none longer than 30% of the words
    borrowing = [(a, b) for a, b in same_topic if evenly_paragraphed(texts[a])]
    for a, b in rng.sample(borrowing, min(len(borrowing), len(ids) // 2)):
        quoter = quoting(texts[a], texts[b], language_of(a), rng)
        pairs.append({"a": a, "b": quoter, "label": 0, "transform": "neg:quotes_a_paragraph"})
    for a, b in rng.sample(borrowing, min(len(borrowing), len(ids) // 2)):
        # a follow-up story that repeats two background paragraphs of the earlier one word for word
        earlier = paragraphs(texts[a])
        background = rng.sample(earlier[1:], min(2, len(earlier) - 1))
        pairs.append(
            {
                "a": a,
                "b": join([*paragraphs(texts[b]), *background]),
                "label": 0,
                "transform": "neg:reuses_background",
            }
        )
    for a, b in rng.sample(same_topic, min(len(same_topic), len(ids) // 4)):
        # two teasers on the same outlet: short leads wrapped in the same header and footer
        lang = language_of(a)
        outlet = rng.randrange(len(OUTLETS[lang]))
        pairs.append(
            {
                "a": with_boilerplate(lead(texts[a], rng), lang, rng, outlet),
                "b": with_boilerplate(lead(texts[b], rng), lang, rng, outlet),
                "label": 0,
                "transform": "neg:leads_same_outlet",
            }
        )
    others = [(a, b) for a, b in itertools.combinations(ids, 2) if topic_of(a) != topic_of(b)]
    for a, b in rng.sample(others, min(len(others), len(ids) // 2)):
        pairs.append({"a": a, "b": b, "label": 0, "transform": "neg:other_topic"})
    return pairs


def main() -> None:
    texts: dict[str, str] = json.loads((HERE / "texts.json").read_text(encoding="utf-8"))

    def topic_of(text_id: str) -> str:
        return text_id.rsplit("-", 1)[0]

    def language_of(text_id: str) -> str:
        return LANGUAGES.get(topic_of(text_id), "en")

    pairs = build_pairs(texts, topic_of, language_of)
    (HERE / "pairs.json").write_text(json.dumps(pairs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    positives = sum(int(p["label"]) for p in pairs)
    print(f"{len(pairs)} pairs: {positives} positive, {len(pairs) - positives} negative")


if __name__ == "__main__":
    main()
