"""Pages and feeds whose charset declarations lie or are missing, or that arrive gzip'd without a
``Content-Encoding``: the archive must hold the right Unicode."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.newssite import NewsServer

from .conftest import Poll, poll_once

TEXTS = {
    "ru": (
        "Правительство объявило новые меры поддержки экономики",
        [
            "Правительство страны во вторник объявило о новом пакете мер поддержки малого и среднего бизнеса.",
            "По словам министра финансов, программа рассчитана на три года и затронет более миллиона предприятий.",
            "Эксперты считают, что снижение налоговой нагрузки поможет сохранить рабочие места в регионах.",
            "Оппозиция раскритиковала план, назвав его недостаточным на фоне роста цен на продукты и топливо.",
        ],
    ),
    "zh": (
        "国务院发布新的经济政策支持中小企业",
        [
            "国务院今天发布了一系列新的经济政策，旨在支持中小企业的发展和扩大就业。",
            "财政部长在新闻发布会上表示，这些措施将在未来三年内逐步实施，涉及减税和降低贷款成本。",
            "专家认为，新政策有助于稳定市场信心，但地方政府的执行情况仍然是关键。",
            "一些企业家对记者说，他们希望审批程序能够进一步简化，以便尽快获得资金支持。",
        ],
    ),
    "ja": (
        "政府が新たな経済対策を発表した",
        [
            "政府は火曜日、中小企業を支援するための新たな経済対策を発表しました。",
            "財務大臣によると、この計画は三年間にわたって実施され、百万社以上の企業が対象となります。",
            "専門家は、税負担の軽減が地方の雇用を守るのに役立つと指摘しています。",
            "一方で野党は、物価の上昇に比べて対策が不十分だと批判しました。",
        ],
    ),
    "fr": (
        "Le président annonce une réforme économique à Marseille",
        [
            "Le président de la République a présenté mardi à Marseille une réforme économique très attendue.",
            "Selon le ministre des Finances, le programme s'étalera sur trois ans et concernera près d'un million d'entreprises.",
            "Les économistes estiment que la baisse des charges aidera à préserver l'emploi dans les régions.",
            "L'opposition a jugé le plan insuffisant face à la hausse des prix de l'énergie et de l'alimentation.",
        ],
    ),
}
ENCODING = {"ru": "windows-1251", "zh": "gb2312", "ja": "shift_jis", "fr": "iso-8859-1"}

# (case id, language, bytes' real encoding, HTTP charset or None, in-document declaration or None)
PAGES = [
    ("ru-1251-sent-as-utf8", "ru", "windows-1251", "utf-8", None),
    ("ru-1251-undeclared", "ru", "windows-1251", None, None),
    ("ru-1251-meta-says-latin1", "ru", "windows-1251", None, "iso-8859-1"),
    ("zh-gb2312-sent-as-latin1", "zh", "gb2312", "iso-8859-1", None),
    ("zh-gb2312-undeclared", "zh", "gb2312", None, None),
    ("ja-sjis-sent-as-utf8", "ja", "shift_jis", "utf-8", "utf-8"),
    ("ja-sjis-undeclared", "ja", "shift_jis", None, None),
    ("fr-latin1-sent-as-utf8", "fr", "iso-8859-1", "utf-8", None),
    ("fr-latin1-undeclared", "fr", "iso-8859-1", None, None),
    ("ru-utf8-sent-as-latin1", "ru", "utf-8", "iso-8859-1", "iso-8859-1"),
    ("fr-utf8-sent-as-latin1", "fr", "utf-8", "iso-8859-1", None),
    ("zh-utf8-gzip-without-content-encoding", "zh", "utf-8", "utf-8", None),
]
# (case id, language, bytes' real encoding, HTTP charset or None, XML declaration or None)
FEEDS = [
    ("feed-utf8-sent-as-latin1", "ru", "utf-8", "iso-8859-1", "utf-8"),
    ("feed-1251-sent-as-utf8", "ru", "windows-1251", "utf-8", None),
    ("feed-1251-declared-utf8", "ru", "windows-1251", None, "utf-8"),
    ("feed-gb2312-undeclared", "zh", "gb2312", None, None),
    ("feed-sjis-sent-as-utf8", "ja", "shift_jis", "utf-8", None),
    ("feed-latin1-undeclared", "fr", "iso-8859-1", None, None),
    ("feed-1251-correct", "ru", "windows-1251", "windows-1251", "windows-1251"),
    ("feed-1251-gzip-without-content-encoding", "ru", "windows-1251", None, "windows-1251"),
]
GZIPPED = {"zh-utf8-gzip-without-content-encoding", "feed-1251-gzip-without-content-encoding"}
"""Served as gzip bytes under a text type with no ``Content-Encoding`` (a misconfigured server, a .gz file)."""


def _served(case: str, body: bytes) -> bytes:
    return gzip.compress(body) if case in GZIPPED else body


def _page(language: str, declared: str | None) -> str:
    title, paragraphs = TEXTS[language]
    meta = f'<meta charset="{declared}">' if declared else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


def _feed(language: str, declared: str | None, link: str) -> str:
    title, paragraphs = TEXTS[language]
    head = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    return (
        f'{head}<rss version="2.0"><channel><title>{title}</title><item><title>{title}</title>'
        f"<link>{link}</link><guid>{link}</guid><description>{paragraphs[0]}</description></item></channel></rss>"
    )


def _content_type(base: str, charset: str | None) -> str:
    return f"{base}; charset={charset}" if charset else base


@dataclass
class World:
    poll: Poll


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with NewsServer() as server:
        items = []
        for case, language, encoding, http, declared in PAGES:
            server.add(
                f"/pages/{case}",
                _served(case, _page(language, declared).encode(encoding)),
                content_type=_content_type("text/html", http),
            )
            items.append(
                f"<item><title>{case}</title><link>{server.url(f'/pages/{case}')}</link><guid>{case}</guid></item>"
            )
        server.add(
            "/pages.xml",
            f"<rss version='2.0'><channel><title>Pages</title>{''.join(items)}</channel></rss>",
            content_type="application/rss+xml; charset=utf-8",
        )
        sources: list[dict[str, object]] = [{"id": "pages", "feed": server.url("/pages.xml")}]
        for case, language, encoding, http, declared in FEEDS:
            link = server.url(f"/feeds/{case}/story")
            server.add(
                f"/feeds/{case}.xml",
                _served(case, _feed(language, declared, link).encode(encoding)),
                content_type=_content_type("application/rss+xml", http),
            )
            sources.append({"id": case, "feed": server.url(f"/feeds/{case}.xml"), "fetch_articles": False})
        yield World(poll_once(server, tmp_path_factory.mktemp("charsets"), sources))


@pytest.mark.parametrize(("case", "language"), [(case, language) for case, language, *_ in PAGES])
def test_a_page_with_a_lying_charset_is_stored_as_the_right_unicode(
    world: World, case: str, language: str
) -> None:
    (article,) = [a for a in world.poll.articles("pages") if a.feed_title == case]
    title, paragraphs = TEXTS[language]
    assert article.extraction == "page"
    assert article.title == title
    for paragraph in paragraphs:
        assert paragraph in article.text, (case, article.text[:300])


@pytest.mark.parametrize(("case", "language"), [(case, language) for case, language, *_ in FEEDS])
def test_a_feed_with_a_lying_charset_is_stored_as_the_right_unicode(
    world: World, case: str, language: str
) -> None:
    row = world.poll.source(case)
    assert row.last_error is None, row.last_error
    (article,) = world.poll.articles(case)
    title, paragraphs = TEXTS[language]
    assert (article.title, article.text) == (title, paragraphs[0])
