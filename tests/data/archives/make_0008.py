"""Build ``archive-0008.db.gz``: a small archive written by monitor at schema 0008 (before the normalised
full-text index, migration 0009), kept so that tests can check an archive of that age is migrated.

It was built once from a checkout of that code (commit 12cf79d), never from the current one:

    git worktree add /tmp/main0008 12cf79d
    PYTHONPATH=/tmp/main0008/src .venv/bin/python tests/data/archives/make_0008.py tests/data/archives

Articles in nine scripts, one revised by a re-check, and one watch, through ``SQLiteArchive.commit_poll``.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.dedup import band_keys, content_hash
from monitor.models import Article, PollOutcome, Recheck, Source, Watch
from monitor.store import SQLiteArchive

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)

# (language, title, text): a sentence or two each, as the outlets write them
ARTICLES = [
    (
        "zh",
        "委内瑞拉总统会见伊朗外长",
        "委内瑞拉总统马杜罗周二在加拉加斯会见了伊朗外长，双方讨论了能源合作。",
    ),
    (
        "ja",
        "東北地方で強い地震",
        "気象庁によると、けさ東北地方で強い地震があり、津波の心配はないということです。",
    ),
    ("ko", "서울 도심에서 대규모 집회", "토요일 서울 도심에서 대규모 집회가 열려 시민들이 행진했다."),
    ("th", "น้ำท่วมหนักในภาคเหนือ", "ฝนตกหนักทำให้เกิดน้ำท่วมในหลายจังหวัดของภาคเหนือ ประชาชนต้องอพยพ"),
    ("ar", "بيان المقاومة في غزة", "أصدرت المقاومة الفلسطينية بيانا حول المفاوضات في القاهرة."),
    ("fa", "دیدار وزیر خارجه با همتای کویتی", "وزیر امور خارجه ایران در تهران با همتای کویتی خود دیدار کرد."),
    (
        "ru",
        "Переговоры в Стамбуле",
        "Делегации провели переговоры в Стамбуле и договорились о новой встрече.",
    ),
    ("hi", "दिल्ली में भारी बारिश", "दिल्ली में भारी बारिश के कारण कई इलाकों में जलभराव हो गया।"),
    ("en", "Floods hit the valley", "Heavy floods hit the valley on Monday after three days of rain."),
]


def article(n: int, language: str, title: str, text: str) -> Article:
    url = f"https://outlet.example/{language}/{n}.html"
    return Article(
        url=url,
        source="outlet",
        guid=f"g{n}",
        title=title,
        authors=(),
        published_at=T0 + timedelta(minutes=n),
        fetched_at=T0 + timedelta(minutes=n + 1),
        text=text,
        summary=None,
        language=language,
        image=None,
        extraction="page",
        content_hash=content_hash(text),
        urls=(url,),
        link=url,
        bands=tuple(band_keys(text)),
    )


def build(folder: Path) -> Path:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "archive-0008.db"
        archive = SQLiteArchive(path)
        archive.sync_sources(
            [Source(id="outlet", name="Outlet", url="https://outlet.example/feed", interval_s=900.0)]
        )
        archive.sync_watches([Watch(id="floods", query="floods", channels=("jsonl:alerts.jsonl",))])
        articles = [article(n, *row) for n, row in enumerate(ARTICLES)]
        ids = archive.commit_poll(
            PollOutcome(
                source="outlet", polled_at=T0 + timedelta(hours=1), articles=tuple(articles), status=200
            )
        ).inserted
        # the Russian article is edited: its first version goes to `revisions`
        ru = ARTICLES.index(next(row for row in ARTICLES if row[0] == "ru"))
        edited = article(ru, "ru", "Переговоры в Стамбуле продолжатся",
                         "Делегации провели переговоры в Стамбуле и договорились встретиться снова в декабре.")  # fmt: skip
        archive.commit_poll(
            PollOutcome(
                source="outlet",
                polled_at=T0 + timedelta(hours=2),
                rechecks=(Recheck(article_id=ids[ru], article=edited, checks=1),),
                status=200,
            )
        )
        archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        archive.db.execute("VACUUM")
        archive.close()
        target = folder / "archive-0008.db.gz"
        with (
            path.open("rb") as raw,
            target.open("wb") as out,
            gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed,
        ):
            shutil.copyfileobj(raw, packed)
        return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
