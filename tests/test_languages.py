"""Metadata, charsets and language detection on pages in several languages and legacy encodings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.extract import decode_html, extract_article
from monitor.extract.language import SAMPLE_CHARS, choose_language, detect_language, detect_scored
from monitor.models import Selectors
from monitor.store import iso

NOW = datetime(2026, 11, 28, tzinfo=UTC)

PAGES = {
    "es": {
        "title": "El Gobierno aprueba el plan de agua para las regiones del sur",
        "author": "Lucía Fernández",
        "body": [
            "El Consejo de Ministros aprobó este martes un plan de inversiones para garantizar el suministro de "
            "agua en las regiones del sur, afectadas por una sequía que dura ya tres años.",
            "El plan prevé la construcción de dos plantas desalinizadoras y la modernización de los canales de "
            "riego, con un presupuesto de 1.200 millones de euros hasta 2028.",
            "Las organizaciones agrarias celebraron el anuncio, aunque advirtieron de que las obras llegarán "
            "tarde para la campaña de este año y pidieron ayudas directas a los agricultores.",
        ],
        "charset": "utf-8",
    },
    "ru": {
        "title": "Правительство утвердило план по ремонту мостов в регионах",
        "author": "Ирина Соколова",
        "body": [
            "Правительство во вторник утвердило программу ремонта мостов в двадцати регионах страны, сообщили "
            "в министерстве транспорта.",
            "Программа рассчитана на пять лет и предусматривает ремонт более трёхсот мостов, построенных до "
            "1980 года, а также строительство новых переправ через крупные реки.",
            "Эксперты отмечают, что многие мосты находятся в аварийном состоянии, и призывают начать работы "
            "как можно скорее, не дожидаясь следующего года.",
        ],
        "charset": "windows-1251",
    },
    "zh": {
        "title": "城市地铁新线路本周正式开通运营",
        "author": "王晓明",
        "body": [
            "本市地铁新线路于本周一正式开通运营，全长二十八公里，共设十九座车站，连接城市东部和西部的主要居住区。",
            "市交通部门表示，新线路开通后，东西方向的通勤时间预计将缩短约二十分钟，高峰时段的发车间隔为三分钟。",
            "不少市民在开通首日前来乘坐，表示新线路大大方便了日常出行，同时希望尽快完善站点周边的公交接驳。",
        ],
        "charset": "gb18030",
    },
    "ja": {
        "title": "新しい図書館が駅前に開館",
        "author": "佐藤花子",
        "body": [
            "駅前に新しい市立図書館が開館し、初日から多くの市民が訪れた。蔵書は約三十万冊で、子ども向けの読書室も設けられた。",
            "市の担当者は、仕事帰りの利用者のために平日は午後九時まで開館すると説明し、電子書籍の貸し出しも始めると述べた。",
            "利用者からは、静かな学習スペースが増えてうれしいという声が上がる一方、駐車場の不足を心配する意見もあった。",
        ],
        "charset": "shift_jis",
    },
    # Persian as legacy windows-1256 pages wrote it (Arabic yeh: the codepage has no Persian one)
    "fa": {
        "title": "افتتاح کتابخانه عمومي جديد در مرکز شهر",
        "author": "مريم احمدي",
        "body": [
            "کتابخانه عمومي جديد شهر روز دوشنبه با حضور مسئولان شهري و گروهي از شهروندان افتتاح شد و از امروز "
            "براي همه علاقه‌مندان باز است.",
            "اين کتابخانه بيش از صد هزار جلد کتاب دارد و بخش ويژه‌اي براي کودکان و نوجوانان در آن در نظر گرفته "
            "شده است.",
            "مدير کتابخانه گفت که ساعات کار در روزهاي امتحانات دانشجويان تا نيمه‌شب تمديد خواهد شد.",
        ],
        "charset": "windows-1256",
    },
}


def page_bytes(lang: str, *, declare: bool = True, jsonld: bool = True) -> bytes:
    page = PAGES[lang]
    body = "".join(f"<p>{p}</p>" for p in page["body"])
    meta = f'<meta charset="{page["charset"]}">' if declare else ""
    ld = (
        f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{page["title"]}", '
        f'"author": {{"@type": "Person", "name": "{page["author"]}"}}, '
        '"datePublished": "2024-05-06T09:30:00+03:00", "articleSection": "Sociedad", "keywords": ["uno", "dos"]}'
        "</script>"
    )
    html = (
        f"<html lang='{lang if declare else ''}'><head>{meta}<title>{page['title']} | Diario</title>"
        f"{ld if jsonld else ''}</head><body><nav><a href='/'>Inicio</a></nav><article><h1>{page['title']}</h1>"
        f"{body}</article><footer>2024</footer></body></html>"
    )
    return html.encode(str(page["charset"]))


@pytest.mark.parametrize("lang", sorted(PAGES))
def test_metadata_in_several_languages_and_legacy_encodings(lang: str) -> None:
    page = extract_article(page_bytes(lang), url=f"https://diario.example/{lang}/1", now=NOW)
    want = PAGES[lang]
    assert page.title == want["title"]
    assert page.authors == (want["author"],)
    assert iso(page.published_at) == "2024-05-06T06:30:00Z"
    assert page.language == lang
    assert page.section == "Sociedad" and page.keywords == ("uno", "dos")
    for paragraph in want["body"]:
        assert paragraph in page.text


@pytest.mark.parametrize("lang", ["ru", "zh", "ja", "fa"])
def test_legacy_encodings_decode_without_any_declaration(lang: str) -> None:
    text = decode_html(page_bytes(lang, declare=False), None)
    assert PAGES[lang]["body"][0] in text


@pytest.mark.parametrize("lang", ["ru", "fa"])
def test_a_lying_latin1_header_does_not_make_mojibake(lang: str) -> None:
    text = decode_html(page_bytes(lang, declare=False), "iso-8859-1")
    assert PAGES[lang]["body"][1] in text


def test_meta_charset_after_the_first_kilobyte() -> None:
    filler = "<script>" + "var x = 1;" * 500 + "</script>"
    html = f"<html><head>{filler}<meta charset='windows-1251'></head><body><p>Привет, мир</p></body></html>"
    assert "Привет, мир" in decode_html(html.encode("windows-1251"), None)


@pytest.mark.parametrize("lang", sorted(PAGES))
def test_language_is_detected_when_undeclared(lang: str) -> None:
    page = extract_article(page_bytes(lang, declare=False, jsonld=False), url="https://x.example/a", now=NOW)
    assert page.language == lang


@pytest.mark.parametrize("text", ["", "12 345 678 — 2024", "OK", "https://example.org/a?b=c"])
def test_text_in_no_language_has_none(text: str) -> None:
    assert detect_language(text) is None


def test_source_selectors_override_the_generic_extractor() -> None:
    html = (
        "<html><body><div class='headline'>Real headline</div><h1>Site banner</h1>"
        "<div class='story'><p>First paragraph of the story.</p><div class='ad'>Buy now!</div>"
        "<p>Second paragraph.</p></div><span class='who'>Ana Ruiz</span>"
        "<span class='when' data-x='1'>2024-03-02T10:00:00Z</span><p>Unrelated footer text.</p></body></html>"
    )
    selectors = Selectors(title=".headline", body=".story", authors=".who", published=".when", drop=(".ad",))
    page = extract_article(html, url="https://x.example/a", now=NOW, selectors=selectors)
    assert page.title == "Real headline"
    assert page.text == "First paragraph of the story.\n\nSecond paragraph."
    assert page.authors == ("Ana Ruiz",) and iso(page.published_at) == "2024-03-02T10:00:00Z"


# One sentence as a feed-only article gives it: every script monitor's sources write in (issue 13)
SENTENCES = [
    ("zh", "马杜罗周日在加拉加斯发表讲话。"),
    ("zh", "外交部发言人表示，中方坚决反对单边制裁。"),
    ("ja", "東京で震度五弱の地震があり、新幹線が一時運転を見合わせた。"),
    ("ja", "日銀は金融政策の現状維持を決めた。"),
    ("ko", "서울 도심에서 대규모 집회가 열렸다."),
    ("ko", "한국은행이 기준금리를 동결했다."),
    ("th", "นายกรัฐมนตรีเดินทางไปเชียงใหม่เมื่อวานนี้"),
    ("th", "ราคาน้ำมันปรับขึ้นเป็นสัปดาห์ที่สาม"),
    ("ar", "قال الرئيس إن الحكومة ستواصل دعم المقاومة."),
    ("ar", "وصل وزير الخارجية إلى دمشق في زيارة رسمية."),
    ("fa", "رئیس جمهور گفت که دولت از مردم حمایت می‌کند."),
    ("fa", "وزیر امور خارجه امروز به مسکو سفر کرد."),
    ("ru", "Президент заявил, что правительство продолжит реформы."),
    ("ru", "Центробанк сохранил ключевую ставку."),
    ("hi", "प्रधानमंत्री ने कहा कि सरकार किसानों की मदद करेगी।"),
    ("hi", "दिल्ली में आज भारी बारिश हुई।"),
    ("en", "The president said the government will continue its reforms."),
    ("en", "The central bank kept interest rates unchanged."),
]


@pytest.mark.parametrize(("lang", "sentence"), SENTENCES)
def test_one_sentence_in_each_script_has_its_language(lang: str, sentence: str) -> None:
    detected = detect_scored(sentence)
    assert detected is not None and detected[0] == lang
    assert 0.0 < detected[1] <= 1.0


@pytest.mark.parametrize(("lang", "sentence"), SENTENCES)
def test_a_feed_only_article_of_one_sentence_gets_its_language(lang: str, sentence: str) -> None:
    assert choose_language([], detected=detect_scored(sentence)).value == lang


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("ja", "政府、新型コロナ対策を決定"),  # a kanji-heavy headline: its few kana make it Japanese
        ("ja", "円安が進み、輸入物価が上昇している。"),
        ("zh", "日本政府决定放宽新冠防疫措施。"),  # Chinese about Japan: no kana
        ("zh", "香港特區政府宣布放寬入境檢疫措施。"),  # traditional characters
    ],
)
def test_japanese_is_not_chinese(lang: str, sentence: str) -> None:
    assert (detect_scored(sentence) or ("",))[0] == lang


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("fa", "مجلس لایحه بودجه سال آینده را تصویب کرد."),
        ("ar", "أقر البرلمان مشروع قانون الموازنة للعام المقبل."),
        ("fa", "این کتاب به زبان فارسی ترجمه شده است."),
        ("ar", "تمت ترجمة هذا الكتاب إلى اللغة العربية."),
        ("ur", "کراچی میں آج شدید بارش ہوئی۔"),
    ],
)
def test_persian_is_not_arabic(lang: str, sentence: str) -> None:
    assert (detect_scored(sentence) or ("",))[0] == lang


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("ru", "Цены на бензин выросли за неделю на два процента."),
        ("uk", "Президент заявив, що уряд продовжить реформи."),
        ("bg", "Президентът заяви, че правителството ще продължи реформите."),
    ],
)
def test_russian_is_told_from_other_cyrillic(lang: str, sentence: str) -> None:
    assert (detect_scored(sentence) or ("",))[0] == lang


def test_korean_with_english_names_is_korean() -> None:
    detected = detect_scored("삼성전자는 오늘 Galaxy S25 시리즈를 공개했다고 밝혔다.")
    assert detected is not None and detected[0] == "ko"


def test_regional_labels_fold_into_their_language() -> None:
    # py3langid splits this sentence between ar, ary (Moroccan) and arz (Egyptian): 0.73 / 0.18 / 0.08
    detected = detect_scored("قال الرئيس إن الحكومة ستواصل دعم المقاومة.")
    assert detected is not None and detected[0] == "ar" and detected[1] > 0.95


def test_detection_reads_a_sample_of_the_text() -> None:
    text = GERMAN_PARAGRAPH * 3 + " " + "The rest of this long page is written in English. " * 200
    assert len(GERMAN_PARAGRAPH * 3) >= SAMPLE_CHARS
    assert (detect_scored(text) or ("",))[0] == "de"


GERMAN_PARAGRAPH = (
    "Am Montag hat der Stadtrat beschlossen, das Schwimmbad im Sommer länger zu öffnen. Die Bürgerinnen und "
    "Bürger hatten sich in einer Umfrage mehrheitlich dafür ausgesprochen, und die Verwaltung rechnet mit "
    "zusätzlichen Kosten von rund 40.000 Euro, die aus den Rücklagen bezahlt werden sollen. "
    "Die Opposition kritisierte, dass die Entscheidung ohne Debatte im Ausschuss gefallen sei. "
)
