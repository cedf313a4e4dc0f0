"""Search in every script (issue 13): through the real store and `monitor search`, a one-word query in each
script finds its article and nothing else; normalisation on both sides; everyday punctuation is no syntax
error; snippets and highlights come from the original text; edits re-index; watches match any script."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from monitor import Archive
from monitor.dedup import band_keys, content_hash
from monitor.models import (
    Article,
    ArticleFields,
    PollOutcome,
    Recheck,
    Reextraction,
    SearchQuery,
    Watch,
    field_names,
)
from monitor.store import SQLiteArchive
from test_fts_index import hits as found
from test_fts_index import open_archive
from tests.support.newssite import write_config

if TYPE_CHECKING:
    from conftest import MonitorCLI

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)

# key (the language, before any "-"): (title, text), each written as its outlet writes it
ARTICLES: dict[str, tuple[str, str]] = {
    "zh": (
        "委内瑞拉总统会见伊朗外长",
        "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。",
    ),
    "ja": (
        "東北地方で強い地震",
        "気象庁によると、けさ東北地方で強い地震があり、津波の心配はないということです。",
    ),
    "ko": ("서울 도심에서 대규모 행진", "토요일 서울 도심에서 대규모 집회가 열려 시민들이 행진했다."),
    "th": ("ฝนตกหนักในภาคเหนือ", "ฝนตกหนักทำให้เกิดน้ำท่วมในหลายจังหวัดของภาคเหนือ ประชาชนต้องอพยพ"),
    "ar": ("بيان في غزة", "أصدرت المقاومة الفلسطينية بيانا حول المفاوضات في القاهرة."),
    "fa": ("دیدار وزیر خارجه", "وزیر امور خارجه ایران در تهران با همتای کویتی خود دیدار کرد."),
    "ru": ("Встреча в Стамбуле", "Делегации провели Переговоры в Стамбуле и договорились о новой встрече."),
    "hi": ("दिल्ली में मौसम", "दिल्ली में भारी बारिश के कारण कई इलाकों में जलभराव हो गया।"),
    "en": ("Valley news", "Heavy floods hit the valley on Monday after three days of rain."),
    "es": ("Noticias de Colombia", "El alcalde de Bogotá anunció nuevas medidas de transporte."),
    "en-punct": (
        "Syria statement",
        "Bashar al-Assad's office said the U.S. response to covid-19 had been slow.",
    ),
}
LANGUAGE = {key: key.split("-")[0] for key in ARTICLES}

# a one-word query per script, and the article it must find (alone)
ONE_WORD = [
    ("马杜罗", "zh"),  # Chinese: overlapping bigrams, a word inside a run of Han
    ("地震", "ja"),  # Japanese: Han and kana in one run
    ("집회", "ko"),  # Korean: the particle glued to the word (집회가)
    ("น้ำท่วม", "th"),  # Thai: no spaces between words
    ("مقاومة", "ar"),  # Arabic: without the article (the text writes المقاومة)
    ("كويتي", "fa"),  # Persian written with Arabic kaf and yeh finds ک and ی
    ("переговоры", "ru"),  # Cyrillic case folding
    ("बारिश", "hi"),  # Devanagari with its vowel signs
    ("flood", "en"),  # English stems: flood finds floods
    ("Bogota", "es"),  # Latin accents fold
    ("BOGOTÁ", "es"),
]
PUNCTUATION = ["al-Assad", "covid-19", "U.S.", "Assad's"]


def url(key: str) -> str:
    return f"https://outlet.example/{key}.html"


def article(key: str, n: int, *, title: str | None = None, text: str | None = None) -> Article:
    language = LANGUAGE[key]
    default_title, default_text = ARTICLES[key]
    body = text or default_text
    return Article(
        url=url(key),
        source="outlet",
        guid=key,
        title=title or default_title,
        authors=(),
        published_at=T0 + timedelta(minutes=n),
        fetched_at=T0 + timedelta(minutes=n + 1),
        text=body,
        summary=None,
        language=language,
        image=None,
        extraction="page",
        content_hash=content_hash(body),
        urls=(url(key),),
        link=url(key),
        bands=tuple(band_keys(body)),
    )


def commit(archive: SQLiteArchive, *articles: Article, rechecks: tuple[Recheck, ...] = ()) -> list[int]:
    outcome = PollOutcome(
        source="outlet", polled_at=T0 + timedelta(hours=1), articles=articles, rechecks=rechecks, status=200
    )
    return archive.commit_poll(outcome).inserted


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, int]]]:
    """An archive of one article per script, and a config pointing at it."""
    folder = tmp_path_factory.mktemp("scripts")
    path = folder / "a.db"
    archive = open_archive(path)
    ids = commit(archive, *(article(key, n) for n, key in enumerate(ARTICLES)))
    archive.close()
    config = folder / "c.yaml"
    write_config(config, [{"id": "outlet", "feed": "https://outlet.example/feed"}], archive=path)
    yield config, path, dict(zip(ARTICLES, ids, strict=True))


@pytest.mark.parametrize(("query", "key"), ONE_WORD)
def test_a_one_word_query_finds_its_article_and_nothing_else(
    built: tuple[Path, Path, dict[str, int]], query: str, key: str
) -> None:
    _, path, _ = built
    archive = SQLiteArchive(path, readonly=True)
    try:
        assert found(archive, query) == [url(key)]
    finally:
        archive.close()


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("المقاومة", "ar"),  # the article form finds it too
        ("والمقاومة", "ar"),  # a clitic before the article is stripped as well
        ("كويتى", "fa"),  # alef maqsura as yeh
        ("كُويتي", "fa"),  # diacritics ignored
        ("کویتی", "fa"),  # as written
        ("floods", "en"),
        ("flooding", "en"),  # the same stem
        ("ПЕРЕГОВОРЫ", "ru"),
        ("馬杜罗", None),  # a different character is a different word
        ("杜罗周", "zh"),  # any run of two or more characters inside the text
        ("罗加", None),  # never across unrelated positions
        ("집회가", "ko"),
        ("title:地震", "ja"),
        ("text:地震", "ja"),
        ("title:马杜罗", None),  # only in the text
        ("马杜罗 AND 伊朗", "zh"),
        ("马杜罗 NOT 伊朗", None),
        ('"heavy floods"', "en"),
        ('"floods heavy"', None),
        ("flo*", "en"),
        ("مقاوم*", "ar"),
    ],
)
def test_normalisation_on_both_sides(
    built: tuple[Path, Path, dict[str, int]], query: str, key: str | None
) -> None:
    _, path, _ = built
    archive = SQLiteArchive(path, readonly=True)
    try:
        assert found(archive, query) == ([url(key)] if key else [])
    finally:
        archive.close()


@pytest.mark.parametrize("query", PUNCTUATION)
def test_words_with_inner_punctuation_are_phrases_through_the_cli(
    built: tuple[Path, Path, dict[str, int]], query: str, monitor_cli: MonitorCLI
) -> None:
    config, _, ids = built
    code, out, err = monitor_cli(config, "search", query, "--format", "jsonl")
    assert code == 0, err
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids["en-punct"]]


def test_snippets_and_highlights_come_from_the_original_text(
    built: tuple[Path, Path, dict[str, int]],
    monitor_cli: MonitorCLI,
) -> None:
    config, _, _ = built
    code, out, _ = monitor_cli(config, "search", "马杜罗", "--highlight", "--format", "jsonl")
    assert code == 0
    (hit,) = [json.loads(line) for line in out.splitlines()]
    assert hit["snippet"] == "委内瑞拉总统[马杜罗]周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。"
    code, out, _ = monitor_cli(config, "search", "flood", "--highlight", "--format", "jsonl")
    assert json.loads(out)["snippet"] == "Heavy [floods] hit the valley on Monday after three days of rain."
    code, out, _ = monitor_cli(config, "search", "مقاومة", "--highlight", "--format", "jsonl")
    assert "[المقاومة]" in json.loads(out)["snippet"]
    code, out, _ = monitor_cli(config, "search", "covid-19", "--highlight", "--format", "jsonl")
    assert "[covid]-[19]" in json.loads(out)["snippet"]
    # without --highlight, the same snippet, unmarked; a match in the title only shows the title
    code, out, _ = monitor_cli(config, "search", "title:Syria", "--format", "jsonl")
    assert json.loads(out)["snippet"] == "Syria statement"


def test_a_long_text_is_cut_around_its_match(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.db")
    words = " ".join(f"word{n}" for n in range(200))
    text = f"{words} the harbour was closed {words}"
    commit(archive, article("en", 0, text=text))
    (hit,) = archive.search(SearchQuery(query="harbour", highlight=("<", ">")))
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "the <harbour> was closed" in hit.snippet
    assert 25 <= len(hit.snippet.split()) <= 35
    archive.close()


def test_a_query_syntax_error_exits_2_naming_the_position(
    built: tuple[Path, Path, dict[str, int]], monitor_cli: MonitorCLI
) -> None:
    config, _, _ = built
    code, _, err = monitor_cli(config, "search", "maduro AND (iran")
    assert code == 2
    assert "position" in err or "column" in err or "12" in err, err
    code, _, err = monitor_cli(config, "stats", "--by", "source", "maduro OR")
    assert code == 2
    code, _, err = monitor_cli(config, "export", "(maduro")
    assert code == 2


def test_stats_export_count_and_the_api_use_the_same_language(
    built: tuple[Path, Path, dict[str, int]],
    monitor_cli: MonitorCLI,
) -> None:
    config, path, ids = built
    code, out, _ = monitor_cli(config, "stats", "--by", "lang", "马杜罗 OR مقاومة", "--format", "json")
    assert code == 0
    assert sorted((row["key"], row["count"]) for row in json.loads(out)) == [("ar", 1), ("zh", 1)]
    code, out, _ = monitor_cli(config, "export", "집회 OR 地震")
    assert sorted(json.loads(line)["id"] for line in out.splitlines()) == sorted([ids["ko"], ids["ja"]])
    code, out, _ = monitor_cli(config, "search", "Bogota", "--count")
    assert out.strip() == "1"
    with Archive(path) as api:
        assert [hit.id for hit in api.search("马杜罗")] == [ids["zh"]]
        assert api.count("al-Assad") == 1
        assert [record["id"] for record in api.articles("كويتي")] == [ids["fa"]]
        assert api.stats("source", query="flood") == [{"key": "outlet", "count": 1}]
        assert [hit.id for hit in api.search("马杜罗 OR flood", sort="rank")] != []


def reextracted(archive: SQLiteArchive, article_id: int, **changes: object) -> Reextraction:
    """A re-extraction of an archived article that changes these fields only."""
    stored = archive.get_article(str(article_id))
    current = ArticleFields(**{name: getattr(stored, name) for name in field_names(ArticleFields)})
    return Reextraction(article_id, replace(current, **changes), frozenset(changes))


def test_an_edit_reindexes_the_article(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.db")
    (zh,) = commit(archive, article("zh", 0))
    assert found(archive, "马杜罗") == [url("zh")]
    # a re-check finds the text rewritten: the new words are found, the old are not
    edited = article("zh", 0, text="委内瑞拉副总统罗德里格斯周二在加拉加斯会见了伊朗外长。")
    commit(archive, rechecks=(Recheck(article_id=zh, article=edited, checks=1),))
    assert found(archive, "罗德里格斯") == [url("zh")]
    assert found(archive, "马杜罗") == []
    # re-extraction changes the title and the language: the index follows both
    (en,) = commit(archive, article("en", 1))
    assert found(archive, "flood") == [url("en")]
    archive.apply_reextraction(
        [reextracted(archive, zh, title="新的标题：地震"), reextracted(archive, en, language="de")],
        version="test",
    )
    assert found(archive, "title:地震") == [url("zh")]
    assert found(archive, "flood") == []  # no longer English: no stems
    assert found(archive, "floods") == [url("en")]
    archive.close()


def test_watches_match_queries_in_any_script(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.db")
    archive.sync_watches(
        [
            Watch(id="resistance", query="مقاومة", channels=("jsonl:a.jsonl",)),
            Watch(id="maduro", query="马杜罗 OR Maduro", channels=("jsonl:b.jsonl",)),
            Watch(id="assad", query="al-Assad NOT covid", channels=("jsonl:c.jsonl",)),
        ]
    )
    ids = commit(archive, *(article(key, n) for n, key in enumerate(("ar", "zh", "en-punct", "en"))))
    alerts = archive.pending_alerts(T0 + timedelta(days=1))
    assert sorted((alert.watch, alert.article_id) for alert in alerts) == [
        ("maduro", ids[1]),
        ("resistance", ids[0]),
    ]
    by_watch = {alert.watch: alert for alert in alerts}
    assert "المقاومة" in by_watch["resistance"].snippet  # cut from the original text
    # a revision brings a new match, in the poll's transaction
    edited = article("en", 3, text="Heavy floods hit the valley; Maduro sent help.")
    commit(archive, rechecks=(Recheck(article_id=ids[3], article=edited, checks=1),))
    matched = {(alert.watch, alert.article_id) for alert in archive.pending_alerts(T0 + timedelta(days=1))}
    assert ("maduro", ids[3]) in matched
    archive.close()


def test_search_watch_combines_with_a_non_latin_query(tmp_path: Path, monitor_cli: MonitorCLI) -> None:
    path = tmp_path / "a.db"
    archive = open_archive(path)
    commit(archive, *(article(key, n) for n, key in enumerate(("ar", "zh", "fa"))))
    archive.close()
    config = tmp_path / "c.yaml"
    write_config(config, [{"id": "outlet", "feed": "https://outlet.example/feed"}], archive=path)
    data = yaml.safe_load(config.read_text())
    data["watches"] = [{"id": "gulf", "query": "كويتي OR مقاومة", "notify": [{"jsonl": "x.jsonl"}]}]
    config.write_text(yaml.safe_dump(data, allow_unicode=True))
    code, out, err = monitor_cli(config, "search", "--watch", "gulf", "وزير", "--format", "jsonl")
    assert code == 0, err
    assert [json.loads(line)["url"] for line in out.splitlines()] == [url("fa")]
    code, _, err = monitor_cli(config, "search", "--watch", "gulf", "(وزير")
    assert code == 2


def test_collapse_keeps_the_snippet_of_the_matching_copy(tmp_path: Path) -> None:
    archive = open_archive(tmp_path / "a.db")
    original = article("zh", 0)
    copy = replace(article("zh", 5), url="https://mirror.example/zh.html", urls=("https://mirror.example/zh.html",),
                   link="https://mirror.example/zh.html", guid="copy")  # fmt: skip
    commit(archive, original, copy)
    hits = archive.search(SearchQuery(query="马杜罗", collapse=True, highlight=("[", "]")))
    assert len(hits) == 1 and hits[0].copies == 1 and "[马杜罗]" in hits[0].snippet
    archive.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [("maduro AND (iran", "position 11 is never closed"), ("... --", "has no words to search for")],
)
def test_a_watch_that_cannot_be_searched_is_a_config_error(
    tmp_path: Path, query: str, message: str, monitor_cli: MonitorCLI
) -> None:
    config = tmp_path / "c.yaml"
    write_config(config, [{"id": "outlet", "feed": "http://127.0.0.1:9/feed"}], archive=tmp_path / "a.db")
    data = yaml.safe_load(config.read_text())
    data["watches"] = [{"id": "w", "query": query, "notify": [{"jsonl": "x.jsonl"}]}]
    config.write_text(yaml.safe_dump(data))
    code, _, err = monitor_cli(config, "run", "--once")
    assert code != 0 and "watches[0].query" in err and message in err, err
