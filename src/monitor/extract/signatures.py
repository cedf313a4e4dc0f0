"""Reporters a Korean, Chinese or Japanese article names in its text rather than in its markup (issue 13,
D67): read from the extracted body, after the metadata, so that a sidebar's or a teaser's signature never
counts. Pure; :func:`monitor.extract.decide.with_detection` adds what it finds as the least trusted author
source."""

from __future__ import annotations

import re

from monitor.extract.authors import MAX_BYLINE_LINE

_HANGUL_NAME = r"[가-힣]{2,4}"
_KO_ROLE = r"(?:선임기자|객원기자|전문기자|수습기자|기자|특파원|칼럼니스트|논설위원|편집위원|통신원)"
_KO_SIGNATURE = re.compile(
    rf"^(?:(?P<before>{_HANGUL_NAME})\s*{_KO_ROLE}|{_KO_ROLE}\s+(?P<after>{_HANGUL_NAME}))"
    r"(?:\s+[\w.+-]+@[\w-]+(?:\.[\w-]+)+)?\s*$"
)
"""A Korean article's signature line: ``홍길동 기자 hong@example.com``, ``칼럼니스트 박생강``."""
_KO_DATELINE = re.compile(rf"^[(\[][^()\[\]]{{1,40}}[)\]]\s*(?P<before>{_HANGUL_NAME})\s*{_KO_ROLE}\s*=")
"""The dateline a Korean wire story opens with: ``(서울=연합뉴스) 홍길동 기자 =``."""
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
_ZH_DATELINE = re.compile(r"^[^（(\n]{0,30}?[电電]\s*[（(]\s*[记記]者\s*(?P<inside>[^（()）\n]{2,60})[）)]")
"""The dateline a Chinese wire story opens with: ``新华社北京11月30日电（记者张三、李四）``,
``本报上海电（记者 王五 通讯员 赵六）``: the reporters named before a correspondent, an intern or a
photographer."""
_ZH_NOT_REPORTER = ("通讯员", "通訊員", "实习生", "實習生", "摄影", "攝影", "编辑", "編輯")
_JA_DATELINE = re.compile(r"^[【\[［]\s*(?P<inside>[^】\]］\n]{3,80})[】\]］]")
"""The dateline a Japanese newspaper story opens with: ``【ワシントン＝山田太郎】``,
``【ロンドン＝山田太郎、パリ＝佐藤花子】`` (not ``【北京＝共同】``, an agency)."""
_JA_NAME = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff々]{2,6}")
_JA_AGENCIES = frozenset(
    {"共同", "共同通信", "時事", "時事通信", "ロイター", "ブルームバーグ", "新華社", "聯合", "ＡＦＰ",
     "ＡＰ", "AFP", "AP", "ＡＦＰ時事", "AFP時事", "本社", "本紙"}
)  # fmt: skip
SIGNATURE_LINES = 8
"""The signature is looked for among the text's last lines (a copyright notice and a photo credit follow)."""


def signature_authors(text: str) -> tuple[str, ...]:
    """The reporters a Korean, Chinese or Japanese article names in its text rather than in its markup: a
    Korean signature line of its own among the last ``SIGNATURE_LINES`` lines, or the Korean, Chinese or
    Japanese dateline that opens the text; () otherwise. Read from the extracted body (after the
    metadata), so that a sidebar's or a teaser's signature never counts."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ()
    if match := _KO_DATELINE.match(lines[0]):
        return (match["before"],)
    if match := _JA_DATELINE.match(lines[0]):
        places = [
            part.partition("＝" if "＝" in part else "=") for part in re.split(r"[、，,]", match["inside"])
        ]
        named = [name.strip() for _, sign, name in places if sign and name.strip()]
        if named and all(_JA_NAME.fullmatch(name) and name not in _JA_AGENCIES for name in named):
            return tuple(dict.fromkeys(named))
    if match := _ZH_DATELINE.match(lines[0]):
        names: list[str] = []
        for token in re.split(r"\s*[、，,\s]\s*", match["inside"].strip()):
            if token.startswith(_ZH_NOT_REPORTER) or not _HAN_NAME.fullmatch(token):
                break
            names.append(token)
        return tuple(dict.fromkeys(names))
    for line in reversed(lines[-SIGNATURE_LINES:]):
        if len(line) <= MAX_BYLINE_LINE and (match := _KO_SIGNATURE.match(line)):
            return (match["before"] or match["after"],)
    return ()
