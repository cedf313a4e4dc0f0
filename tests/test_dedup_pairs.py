"""Quality gate for the near-duplicate detector (issue 5, item 6) on the labelled pairs of tests/data/dedup.

A pair is judged a duplicate as the pipeline judges it: the two texts share a band key (an LSH candidate)
and ``duplicate_score`` reaches ``DUPLICATE_THRESHOLD``. The figures per threshold are printed by
``benchmarks/dedup.py``; the pairs are made by ``tests/data/dedup/make_pairs.py``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from monitor.dedup import DUPLICATE_THRESHOLD, band_keys, duplicate_score

DATA = Path(__file__).parent / "data" / "dedup"


@cache
def judged() -> list[tuple[str, int, bool]]:
    """(transform, label, judged duplicate) for every pair."""
    texts: dict[str, str] = json.loads((DATA / "texts.json").read_text(encoding="utf-8"))
    pairs = json.loads((DATA / "pairs.json").read_text(encoding="utf-8"))
    out = []
    for pair in pairs:
        a, b = texts.get(pair["a"], pair["a"]), texts.get(pair["b"], pair["b"])
        candidate = bool(set(band_keys(a)) & set(band_keys(b)))
        out.append(
            (pair["transform"], pair["label"], candidate and duplicate_score(a, b) >= DUPLICATE_THRESHOLD)
        )
    return out


def test_pair_set_is_balanced() -> None:
    labels = [label for _, label, _ in judged()]
    negatives = labels.count(0)
    assert len(labels) >= 300
    assert negatives >= len(labels) / 3
    hard = [t for t, label, _ in judged() if label == 0 and t != "neg:other_topic"]
    assert len(hard) > negatives / 2


def test_precision_and_recall_meet_the_targets() -> None:
    results = judged()
    tp = sum(1 for _, label, dup in results if label and dup)
    fp = sum(1 for _, label, dup in results if not label and dup)
    fn = sum(1 for _, label, dup in results if label and not dup)
    missed = sorted({t for t, label, dup in results if label and not dup})
    wrong = sorted({t for t, label, dup in results if not label and dup})
    assert tp / (tp + fp) >= 0.99, f"false positives in {wrong}"
    assert tp / (tp + fn) >= 0.95, f"missed copies in {missed}"


@pytest.mark.parametrize("transform", ["neg:same_topic", "neg:same_topic_same_outlet", "neg:other_topic"])
def test_other_stories_are_never_copies(transform: str) -> None:
    assert not [dup for t, _, dup in judged() if t == transform and dup]
