"""Normalised index terms in every script, checked against a real FTS5 table built as the archive builds it."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator

import pytest

from monitor.query import parse, to_fts5
from monitor.textnorm import FTS5_TOKENIZE, Token, index_text, query_alternatives, tokens


def terms(text: str, language: str | None = None) -> list[str]:
    return [token.term for token in tokens(text, language)]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("马杜罗", "zh", ["马杜", "杜罗"]),
        ("马杜罗访问伊朗。", "zh", ["马杜", "杜罗", "罗访", "访问", "问伊", "伊朗"]),
        ("美", "zh", ["美"]),
        ("大地震が発生", "ja", ["大地", "地震", "震が", "が発", "発生"]),
        ("東京タワー", "ja", ["東京", "京タ", "タワ", "ワー"]),
        ("집회가 열렸다", "ko", ["집회", "회가", "열렸", "렸다"]),
        ("น้ำท่วม", "th", ["น้ำ", "ำท่", "ท่ว", "วม"]),
        ("والمقاومة الإسلامية", "ar", ["مقاومه", "اسلاميه"]),
        ("للمقاومة بالمدينة فالأمر كالبحر", "ar", ["مقاومه", "مدينه", "امر", "بحر"]),
        ("الله ال آل", "ar", ["له", "ال", "ال"]),  # the article goes only when two letters remain
        ("مُقَاوَمَـــة", "ar", ["مقاومه"]),  # diacritics and tatweel
        ("ایران کشور", "fa", ["ايران", "كشور"]),
        ("Москва ЁЛКА", "ru", ["москва", "ёлка"]),
        ("नई दिल्ली में बाढ़", "hi", ["नई", "दिल्ली", "में", "बाढ़"]),
        ("Floods flooded the U.S.", "en", ["flood", "flood", "the", "u", "s"]),
        ("Floods flooded", None, ["floods", "flooded"]),
        ("al-Assad's covid-19", "en", ["al", "assad", "s", "covid", "19"]),
        ("Bogotá Łódź Straße naïve", "es", ["bogota", "lodz", "strasse", "naive"]),
        ("Étudiants à Besançon", "fr", ["etudiants", "a", "besancon"]),
        ("iPhone手机 2024年", "zh", ["iphone", "手机", "2024", "年"]),
        ("ＡＢＣ ٢٠٢٤ ۱۴۰۳", None, ["abc", "2024", "1403"]),
        ("e\u0301cole infor\u00admation", "fr", ["ecole", "information"]),
        ("—!? … ---", None, []),
        ("İstanbul ISTANBUL", "tr", ["istanbul", "istanbul"]),
        ("ｶﾞｿﾘﾝ ガソリン", "ja", ["ガソ", "ソリ", "リン", "ガソ", "ソリ", "リン"]),
        ("ที่ได้รับ๒๕๖๗", "th", ["ที่ไ", "ได้", "ด้รั", "รับ", "2567"]),
    ],
)
def test_terms_per_script(text: str, language: str | None, expected: list[str]) -> None:
    assert terms(text, language) == expected
    assert index_text(text, language) == " ".join(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("马杜罗说", [(0, 2, "马杜"), (1, 3, "杜罗"), (2, 4, "罗说")]),
        ("ok 집회가", [(0, 2, "ok"), (3, 5, "집회"), (4, 6, "회가")]),
        ("น้ำท่วม", [(0, 3, "น้ำ"), (2, 5, "ำท่"), (3, 6, "ท่ว"), (5, 7, "วม")]),
        ("(والمقاومة)", [(4, 10, "مقاومة")]),
        ("Bogotá, U.S.", [(0, 6, "Bogotá"), (8, 9, "U"), (10, 11, "S")]),
        ("e\u0301cole", [(0, 6, "e\u0301cole")]),
    ],
)
def test_spans_map_back_to_the_original(text: str, expected: list[tuple[int, int, str]]) -> None:
    # a bigram's span covers its two characters with their marks
    got = [(token.start, token.end, text[token.start : token.end]) for token in tokens(text)]
    assert [(start, end) for start, end, _ in got] == [(start, end) for start, end, _ in expected]
    assert [original for _, _, original in got] == [original for _, _, original in expected]


@pytest.mark.parametrize(
    "text",
    [
        "马杜罗会见伊朗外长",
        "石川県で大きな地震があり",
        "대규모집회가열렸다",
        "ฝนตกหนักทำให้เกิดน้ำท่วมในหลายเขต",
        "ที่ได้รับผลกระทบ",
    ],
)
def test_the_fast_paths_agree_with_the_general_one(text: str) -> None:
    # a Latin letter glued in front sends the run through the general path, which splits it at the script change
    glued = tokens("x" + text)
    assert glued[0] == Token(0, 1, "x")
    assert [(token.start - 1, token.end - 1, token.term) for token in glued[1:]] == [
        (token.start, token.end, token.term) for token in tokens(text)
    ]


def test_token_is_a_frozen_slots_dataclass() -> None:
    token = tokens("maduro")[0]
    assert token == Token(0, 6, "maduro")
    assert not hasattr(token, "__dict__")
    with pytest.raises(AttributeError):
        token.term = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("floods", (("floods",), ("flood",))),
        ("flood", (("flood",),)),
        ("马杜罗", (("马杜", "杜罗"),)),
        ("al-Assad", (("al", "assad"),)),
        ("المقاومة", (("مقاومه",),)),
        ("مقاومة", (("مقاومه",),)),
        ("U.S.", (("u", "s"),)),
        ("---", ()),
    ],
)
def test_query_alternatives(word: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert query_alternatives(word) == expected


def test_a_bigram_never_starts_with_a_mark() -> None:
    for text in ("ที่ได้รับผลกระทบ", "ក្រុងភ្នំពេញ", "ມື້ນີ້", "မြန်မာ"):
        for token in tokens(text):
            assert not unicodedata.category(token.term[0]).startswith("M"), (text, token)


@pytest.fixture
def index() -> Iterator[sqlite3.Connection]:
    """An FTS5 table as the archive builds it: normalised title and text, the module's tokenizer."""
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(title, text, tokenize = {FTS5_TOKENIZE!r})")
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(docs, 'instance')")
    yield db
    db.close()


ARTICLES: dict[str, tuple[str, str, str]] = {
    # name: (language, title, text)
    "zh": ("zh", "马杜罗会见伊朗外长", "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长。"),
    "ja": ("ja", "能登半島で地震", "石川県で大きな地震があり、多くの住宅が倒壊した。"),
    "ko": ("ko", "서울 도심 집회", "주말 서울 도심에서 대규모 집회가 열렸다."),
    "th": ("th", "น้ำท่วมกรุงเทพ", "ฝนตกหนักทำให้เกิดน้ำท่วมในหลายเขตของกรุงเทพมหานคร"),
    "ar": ("ar", "بيان المقاومة", "أعلنت المقاومة الإسلامية في لبنان عن عملية جديدة."),
    "fa": ("fa", "نشست خبری", "سخنگوی وزارت امور خارجه ايران درباره كشور همسايه سخن گفت."),
    "ru": ("ru", "Новости Москвы", "В Москве прошёл митинг против повышения цен."),
    "hi": ("hi", "दिल्ली में बाढ़", "भारी बारिश के बाद दिल्ली के कई इलाकों में पानी भर गया।"),
    "en": ("en", "Floods in Valencia", "The river flooded the old town after days of rain."),
    "es": ("es", "Protestas en Bogotá", "Miles de estudiantes marcharon por el centro de la capital."),
    "fr": ("fr", "Grève à Besançon", "Les étudiants ont manifesté devant la préfecture."),
    "de": ("de", "Zeitungen berichten", "Die Hochwasser haben mehrere Dörfer erreicht."),
}


def build(db: sqlite3.Connection) -> dict[int, str]:
    names = {}
    for rowid, (name, (language, title, text)) in enumerate(ARTICLES.items(), start=1):
        db.execute(
            "INSERT INTO docs (rowid, title, text) VALUES (?, ?, ?)",
            [rowid, index_text(title, language), index_text(text, language)],
        )
        names[rowid] = name
    return names


def search(db: sqlite3.Connection, names: dict[int, str], query: str) -> list[str]:
    rows = db.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rowid", [to_fts5(parse(query))])
    return [names[row[0]] for row in rows]


def test_the_tokenizer_reads_back_exactly_the_terms(index: sqlite3.Connection) -> None:
    build(index)
    for rowid, (language, title, text) in enumerate(ARTICLES.values(), start=1):
        for column, value in (("title", title), ("text", text)):
            stored = index.execute(
                "SELECT term FROM vocab WHERE doc = ? AND col = ? ORDER BY offset", [rowid, column]
            ).fetchall()
            assert [row[0] for row in stored] == terms(value, language), (rowid, column)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("马杜罗", ["zh"]),
        ("伊朗", ["zh"]),
        ("地震", ["ja"]),
        ("집회", ["ko"]),  # the article writes 집회가
        ("น้ำท่วม", ["th"]),
        ("กรุงเทพ", ["th"]),
        ("مقاومة", ["ar"]),  # the article writes المقاومة
        ("والمقاومة", ["ar"]),
        ("ایران", ["fa"]),  # Farsi yeh; the article writes Arabic yeh
        ("کشور", ["fa"]),  # keheh; the article writes kaf
        ("митинг", ["ru"]),
        ("МОСКВЕ", ["ru"]),
        ("दिल्ली", ["hi"]),
        ("flood", ["en"]),  # the article has Floods and flooded
        ("floods", ["en"]),
        ("flooding", ["en"]),
        ("Bogota", ["es"]),
        ("bogotá", ["es"]),
        ("etudiants", ["fr"]),
        ("Zeitungen", ["de"]),  # the English stem of the query does not lose the German word
        ("Dörfer", ["de"]),
        ("title:flood", ["en"]),
        ("text:flood", ["en"]),
        ("title:river", []),
    ],
)
def test_a_one_word_query_finds_its_article_and_no_other(
    index: sqlite3.Connection, query: str, expected: list[str]
) -> None:
    names = build(index)
    assert search(index, names, query) == expected


def test_cjk_query_does_not_match_characters_far_apart(index: sqlite3.Connection) -> None:
    index.execute(
        "INSERT INTO docs (rowid, title, text) VALUES (1, '', ?)",
        [index_text("马来西亚总理说，杜拜的罗马人很多。地方官员说：地铁震动。")],
    )
    assert index.execute(
        "SELECT count(*) FROM docs WHERE docs MATCH ?", [to_fts5(parse("马杜罗"))]
    ).fetchone() == (0,)
    assert index.execute(
        "SELECT count(*) FROM docs WHERE docs MATCH ?", [to_fts5(parse("地震"))]
    ).fetchone() == (0,)
    assert index.execute(
        "SELECT count(*) FROM docs WHERE docs MATCH ?", [to_fts5(parse("地铁"))]
    ).fetchone() == (1,)


def test_a_single_cjk_character_finds_the_words_it_starts(index: sqlite3.Connection) -> None:
    index.execute("INSERT INTO docs (rowid, title, text) VALUES (1, '', ?)", [index_text("美国宣布")])
    index.execute("INSERT INTO docs (rowid, title, text) VALUES (2, '', ?)", [index_text("中 美")])
    found = index.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [to_fts5(parse("美"))]).fetchall()
    assert found == [(1,), (2,)]


def test_punctuated_words_find_their_text(index: sqlite3.Connection) -> None:
    text = "Al-Assad's forces and the U.S. envoy discussed COVID-19 by e-mail."
    index.execute("INSERT INTO docs (rowid, title, text) VALUES (1, '', ?)", [index_text(text, "en")])
    for query in ("al-Assad", "Assad's", "U.S.", "covid-19", "e-mail", '"U.S. envoy"', "al-Ass*"):
        hits = index.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [to_fts5(parse(query))]).fetchall()
        assert hits == [(1,)], query
    assert (
        index.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [to_fts5(parse("covid-20"))]).fetchall()
        == []
    )


def test_every_script_round_trips_through_the_tokenizer(index: sqlite3.Connection) -> None:
    # one term for every letter, digit and mark-carrying character the normaliser can emit
    sample = "".join(chr(code) for code in range(0x80, 0x3000) if chr(code).isalnum())
    expected = terms(sample)
    index.execute("INSERT INTO docs (rowid, title, text) VALUES (1, '', ?)", [" ".join(expected)])
    stored = index.execute("SELECT term FROM vocab WHERE doc = 1 ORDER BY offset").fetchall()
    assert [row[0] for row in stored] == expected
