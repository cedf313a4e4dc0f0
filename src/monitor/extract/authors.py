"""Authors of one page, by evidence (pure).

Each place a page names its authors (JSON-LD, meta tags, ``rel=author``, ``itemprop=author``, the visible
byline) is one candidate of raw strings. :func:`clean_names` turns raw strings into person names (no "By",
no dates, no e-mails, no desk or site names, split on the separators publishers use), and
:func:`choose_authors` takes the most trusted source that still names someone after cleaning (issue 13).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from monitor.extract.evidence import Candidate, Choice, clean_text
from monitor.extract.page import NOT_CONTENT, PageDoc, element_text, ld_names, ld_types

AUTHOR_META = (
    "author",
    "article:author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
)
MAX_NAME_WORDS = 6
MAX_BYLINE_CHARS = 200

_LABEL_WORDS = (
    r"view|all|alles|posts?|articles?|artikel|alle|beitr[äa]ge?|ein|eine|more|mehr|stories|story|published|"
    r"posted|written|geschrieben|verfasst|veröffentlicht|erstellt|escrito|publicado|publié|écrit|rédigé|scritto|"
    r"pubblicato|reported|edited|compiled|text|texte|texto|words|photos?|fotos?|bilder?|pictures|photography|"
    r"video|interview|kommentar|a|an|un|una|uno|commentary|column|kolumne|analyse|analysis|opinion|meinung|"
    r"gastbeitrag|reportage|recherche|illustrations?|grafik"
)
_DESK_LABEL = r"redaktion|rédaction|redacción|redazione|mitarbeit|moderation|produktion|production"
_AND = r"(?:\s*[&+/,]\s*|\s+(?:und|and|et|y|e)\s+|\s+)"
_PREFIX = re.compile(
    rf"^(?:(?:{_LABEL_WORDS}|{_DESK_LABEL})\b(?:{_AND}(?:{_LABEL_WORDS}|{_DESK_LABEL})\b)*\s*:|"
    rf"(?:(?:{_LABEL_WORDS})\b{_AND}){{0,4}}(?:by|von|vom|par|por|door|av|af)\b|(?:a\s+cura\s+)?(?:di|de|da)\s|"
    r"(?:autor(?:in)?|authors?|auteur|autore|redakteur(?:in)?|reporter|text|texte|fotos?|bild|quelle|source|"
    r"escribe|escriben|escrito por|текст|автор|авторы|фото|источник|yazar|muhabir|"
    r"लेखक|بقلم|كتب|كتبت|إعداد|نویسنده|خبرنگار)\b|(?:作者|记者|記者|编辑|編輯|责任编辑|責任編輯|文)\s*[:：/／]|(?:本报|本報|新华社|新華社)?记者\s)"
    r"\s*[:：\-–—]?\s*",
    re.IGNORECASE,
)
"""A byline's label, in any source: ``By``, ``Von``, ``Alles von``, ``A cura di``, ``Interview:``,
``Text und Fotos:``, ``Texte et photos :``."""
_LABEL_ONLY = re.compile(
    rf"^(?:(?:{_LABEL_WORDS}|by|von|par|por|am|on|le|el|il|and|und|et|archives?|author|autor|about|über|the|der|die|das|"
    r"profile|profil|follow|folgen|contact|kontakt|email|e-mail|mail)\b[\s:.]*)+$",
    re.IGNORECASE,
)
_CONJUNCTION = r"(?:and|und|et|y|e|en|og|och|sowie)"
_SEPARATORS = re.compile(
    rf"\s*(?:,(?:\s*{_CONJUNCTION}\s)?|[;|&•·]|\s[/+–—-]\s|\s{_CONJUNCTION}\s|\sو\s?|،)\s*", re.IGNORECASE
)
_TRAILER = re.compile(r"(?:^|\s+)(?:aus|in|mit|with|from|con|avec|ist|is|est|è|war|was)\s.*$")
"""``Max Muster aus Berlin``, ``Jane Doe with AP``, ``Max Muster ist Redakteur``: a name ends where a
lower-case word leads on to a place, a helper or a bio."""
_INITIALS = re.compile(r"^([A-Z]{2,3})\s+(?=\w)")
"""``LP Luana Patriolino``: the initials an avatar shows, read with the name beside them."""
_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
"""``Max Muster/dpa``: a slash between words separates credits (not inside a URL, which is dropped whole)."""
_ASIDE = re.compile(r"\s*[(\[][^)\]]*[)\]]")
"""``Max Muster (dpa)``, ``Jane Doe [Berlin]``: what a byline adds in brackets is not the name."""
_ROLE_STEMS = re.compile(
    r"^[\w-]*(?:redakteur|redakteurin|korrespondent|korrespondentin|korrespondenten|experte|expertin|"
    r"reporter|reporterin|autor|autorin|kolumnist|kolumnistin|journalist|journalistin|mitarbeiter|"
    r"mitarbeiterin|volontär|volontärin|fotograf|fotografin|moderator|moderatorin)$"
)
_ROLE_WORDS = frozenset(
    {"editor", "correspondent", "contributor", "columnist", "writer", "journalist", "photographer",
     "producer", "analyst", "senior", "chief", "deputy", "managing", "political", "staff", "special",
     "freelance", "contributing", "associate", "executive", "foreign", "our", "unser", "unserem", "unserer",
     "unseren", "notre", "nuestro", "nuestra", "nostro", "nostra", "freier", "freie", "freien", "rédacteur",
     "rédactrice", "correspondant", "correspondante", "envoyé", "envoyée", "spécial", "spéciale", "redattore",
     "redattrice", "inviato", "inviata", "corrispondente", "corresponsal", "redactor", "redactora",
     "periodista", "giornalista", "enviado", "enviada", "especial", "stellvertretender", "stellvertretende",
     "leitender", "leitende", "ständiger", "ständige", "기자", "특파원", "객원기자", "記者", "特派員"}
)  # fmt: skip
"""Job titles written around a name (``Von unserem Redakteur Max Muster``, ``Focus-Online-Experte Max
Muster``, ``Senior Editor``): not part of it; a part that is a job title and nothing else names no one."""
_DEGREES = frozenset(
    {"phd", "ph.d.", "ph.d", "md", "m.d.", "dr", "dr.", "prof", "prof.", "msc", "m.sc.", "bsc", "ma", "mba",
     "mph", "rd", "rn", "cpt", "jr", "jr.", "sr", "sr.", "ll.m.", "dipl.", "mag.", "mag"}
)  # fmt: skip
_MONTHS = (
    r"jan|feb|m[aä]r|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz]|januar|februar|märz|juni|juli|oktober|"
    r"dezember|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
)
_DATE = re.compile(
    rf"\b\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{2,4}}\b|\b\d{{1,2}}:\d\d\b|\b\d{{1,2}}\.?\s+(?:{_MONTHS})\w*\.?(?:\s+\d{{4}})?|"
    rf"\b(?:{_MONTHS})\w*\.?\s+\d{{1,2}}\b|\b(?:19|20)\d\d\b",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    r"\b(?:updated?|aktualisiert|veröffentlicht|published|posted|am|on|le|el|il|mis à jour|"
    r"uhr|am|pm|gmt|utc|cet|cest|mez|mesz|ago|vor|stunden?|minuten?|hours?|minutes?)\b\.?",
    re.IGNORECASE,
)
_ZONES = re.compile(
    r"\b(?:[ECMP][SD]T|AK[SD]T|H[SD]T|[AE]E[SD]T|A[CW]ST|BST|IST|JST|KST|HKT|SGT|MSK|WIB|[CEW]ES?T|NZ[SD]T)\b"
)
"""The time zone of a byline's time (``Published 11:11 PM EST Nov 19, 2019``): upper case only, read only
where the part holds a date (``est`` and ``ist`` are words in French and German)."""
_WEEKDAYS = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|"
    r"jueves|viernes|sábado|domingo)\b,?",
    re.IGNORECASE,
)
_FOR_OUTLET = re.compile(
    r"\s+(?:[Ff]or|FOR|[Ff]ür|[Pp]our|[Pp]ara|per)\s+(?i:the\s+|die\s+|der\s+|le\s+|la\s+|el\s+)?[A-Z].*$"
)
"""``Jane Doe for The Daily Mail``: the outlet she wrote for is not part of her name."""
_SENTENCE = re.compile(r"\w{3,}[.!?]\s+\w+\s+\w+|\w{3,}[.!?]$")
MAX_PIECE_WORDS = 12
_DESK_WORDS = frozenset(
    {"staff", "desk", "team", "redaktion", "redaktionen", "newsroom", "editors", "editorial", "reports",
     "service", "services", "agencies", "agency", "wire", "online-redaktion", "onlineredaktion", "redazione",
     "rédaction", "redacción", "equipe", "équipe", "agenturen", "agentur", "agences", "agencias", "press",
     "presse", "news", "nachrichten", "noticias", "zeitung", "times", "media", "magazin", "magazine",
     "verlag", "gmbh", "inc", "inc.", "ltd", "llc", "blog", "tv", "radio", "fernsehen",
     "online", "новости", "агентство", "редакция", "haber", "haberler"}
)  # fmt: skip
_HANDLE = re.compile(r"(?:^|\s)@\w|\S+@\S+\.\w|\S[\[(]at[\])]\S|https?://|www\.", re.IGNORECASE)
_AGENCIES = frozenset(
    {"dpa", "afp", "ap", "apa", "reuters", "sda", "epd", "kna", "ddp", "efe", "ansa", "sid", "ats", "dapd",
     "xinhua", "upi", "pa", "aa", "irna", "tass", "keystone-sda", "awp", "red", "red.", "ots"}
)  # fmt: skip
_WIRES = (
    "the associated press", "associated press", "agence france-presse", "agence france presse",
    "deutsche presse-agentur", "press trust of india", "united press international", "reuters",
)  # fmt: skip
"""Wire services by their full names, glued after a reporter's name (``Tom Davies Associated Press``)."""
_PARTICLES = frozenset(
    {"von", "van", "vom", "der", "den", "del", "della", "de", "da", "dos", "das", "du", "la", "le", "di",
     "bin", "ibn", "al", "el", "ter", "ten", "zu", "zur", "op", "het", "y", "e"}
)  # fmt: skip
"""The lower-case words of a person's name (``Ursula von der Leyen``, ``Bashar al-Assad``)."""
GENERIC_AUTHORS = frozenset(
    {"staff", "admin", "administrator", "editor", "editors", "newsroom", "web desk", "webdesk", "desk",
     "agencies", "staff writer", "news desk", "online desk", "the editors", "redaktion", "editorial",
     "editorial team", "team", "unknown", "anonymous", "guest", "gast", "user", "redazione", "rédaction",
     "redacción", "editorial staff", "staff reporter", "online", "web", "wire", "no author", "wordpressadmin",
     "webmaster", "webadmin", "site admin", "superuser", "root", "default", "contributor", "contributors",
     "guest author", "gastautor"}
)  # fmt: skip
_ACCOUNTS = frozenset(
    {"admin", "administrator", "webmaster", "webadmin", "site admin", "siteadmin", "superuser", "root",
     "default", "wordpressadmin", "wpadmin", "user", "unknown", "no author", "none", "null", "test"}
)  # fmt: skip
"""A CMS's placeholder accounts: no credit a reader sees, unlike a desk ("Redaktion") or the site."""
_NOT_BYLINE_TAGS = frozenset({"meta", "link", "script", "style", "img", "body"})
_AUTHOR_PATH = re.compile(
    r"/(?:authors?|autor(?:en|in)?|auteurs?|autore|autori|reporters?|journalist(?:en|in|s)?|"
    r"redakteur(?:e|in)?|writers?|columnists?|kolumnist(?:en|in)?)/"
)
"""The path of a link to an author's page: ``/author/jane-doe``, ``/reporters/jose-de-la-cruz`` (lower
case, as the XPath it replaced: ``/AUTHOR/`` is rarely a profile)."""
MAX_BYLINE_LINE = 80
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’.-]*"
_NAME = (
    rf"{_NAME_WORD}(?:\s+(?:(?:de|da|van|von|der|den|del|la|le|di|du|dos|das)\s+){{0,2}}{_NAME_WORD}){{1,3}}"
)
_TEXT_BYLINE = re.compile(rf"^(?i:by|von|par|por)\s+({_NAME})")
"""``By Jane Doe``, ``von Max Muster am``: the name's words are capitalised (a lower-case word ends it)."""
_BYLINE_LABEL = (
    rf"(?i:(?:(?:{_LABEL_WORDS})\s+){{0,3}}(?:by|von|par|por|door)|geschrieben\s+von|verfasst\s+von|"
    r"escrito\s+por|[ée]crit\s+par|autor(?:in|a)?|authors?|auteure?|autore|text|texte|texto)"
)
_DATE_FOLLOWS = r"(?:\s+(?i:am|on|le|el|il|em|vom|du|del))?"
"""``Von R. R. am`` (the date in the next element): the word that leads on to the date ends the name."""
_LABELLED_LINE = re.compile(rf"^{_BYLINE_LABEL}\s*:?\s*(?:(?P<name>{_NAME}){_DATE_FOLLOWS})?\s*[,.]?$")
_NAME_LINE = re.compile(rf"^(?P<name>{_NAME})\s*[,.]?$")
"""A byline the page writes as plain text: ``Written by: Julie Mollins``, ``Eine Kolumne von Nils Pickert``,
or a label (``Autor``) whose next line is the name alone; the name is two to four capitalised words."""
_NOT_BYLINE = re.compile(
    r"bio|avatar|image|img|photo|comment|description|social|follow|more|label|prep|sep|by$|date|time", re.I
)
_SITE_SUFFIX = re.compile(r"\.(?:[a-z]{2,3}|co\.uk|com\.\w\w|info|online|media|news)$")


# candidates ------------------------------------------------------------------------------------------
def author_candidates(doc: PageDoc) -> tuple[Candidate[tuple[str, ...]], ...]:
    """Raw author strings, one candidate per source, most trusted first."""
    found: list[Candidate[tuple[str, ...]]] = []

    def add(names: Iterable[str | None], source: str) -> None:
        kept = tuple(dict.fromkeys(n for n in names if n))
        if kept and not any(c.source == source for c in found):
            found.append(Candidate(kept, source))

    add(_ld_people(doc, doc.article_ld.get("author")), "json-ld:author")
    add(_ld_people(doc, doc.article_ld.get("creator")), "json-ld:creator")
    for obj in doc.json_ld:
        if obj is not doc.article_ld and "author" in obj:
            add(_ld_people(doc, obj.get("author")), "json-ld:other:author")
    for key in AUTHOR_META:
        values = [v for k, v in doc.meta_all(key) if not (k == "article:author" and "://" in v)]
        add(values, f"meta:{key}")
    add((element_text(e) for e in _rel_author_links(doc) if not doc.in_teaser(e)), "rel=author")
    add(_itemprop_authors(doc), "itemprop:author")
    add(_byline_texts(doc), "byline")
    add(_author_links(doc), "link:author")
    add(_headline_byline(doc), "text:byline")
    add(_labelled_byline(doc), "text:label")
    add(_ld_people(doc, doc.article_ld.get("author"), organisations=True), "json-ld:author:organization")
    return tuple(found)


def _ld_people(doc: PageDoc, value: Any, *, organisations: bool = False) -> list[str]:
    """JSON-LD names, with ``{"@id": ...}`` references resolved to the object of that id (Yoast's graph):
    those typed as a person or untyped, or with ``organisations`` those typed as an organisation (a
    credit, less trusted than any byline: ``{"@type": "Organization", "name": "Example Verlag"}``)."""
    if isinstance(value, list):
        return [name for item in value for name in _ld_people(doc, item, organisations=organisations)]
    if isinstance(value, dict) and "name" not in value and isinstance(value.get("@id"), str):
        value = next((obj for obj in doc.json_ld if obj.get("@id") == value["@id"] and "name" in obj), None)
    is_organisation = isinstance(value, dict) and any("Organization" in kind for kind in ld_types(value))
    return ld_names(value) if is_organisation == organisations else []


def _rel_author_links(doc: PageDoc) -> list[Any]:
    """``//a[@rel="author"]``, read from the page's links (:meth:`PageDoc.elements`) instead of another walk
    of the whole page (~0.25 ms) when the tree is its document's root (else the XPath finds more)."""
    if not doc.from_root:
        return doc.xpath('//a[@rel="author"]')
    return [element for element in doc.elements("a") if element.get("rel") == "author"]


def _author_links(doc: PageDoc) -> list[str | None]:
    """Links to an author's page (``/author/jane-doe``), outside teasers: the first group of them."""
    names: list[str | None] = []
    parent = None
    for element in _author_link_elements(doc):
        if doc.in_teaser(element) or (parent is not None and element.getparent() is not parent):
            continue
        if text := element_text(element):
            names.append(text)
            parent = element.getparent()
    return names


def _author_link_elements(doc: PageDoc) -> Iterator[Any]:
    """The links whose ``href`` is an author's page (``_AUTHOR_PATH``), in document order, from the page's
    links (:meth:`PageDoc.elements`) rather than another walk of the page."""
    for element in doc.elements("a"):
        href = element.get("href")
        if href and _AUTHOR_PATH.search(href):
            yield element


def _headline_byline(doc: PageDoc) -> list[str]:
    """A "By Jane Doe" line standing just below the headline, in no marked element."""
    for line in doc.after_headline:
        if len(line) <= MAX_BYLINE_LINE and (match := _TEXT_BYLINE.match(line)):
            return [match[1]]
    return []


def _labelled_byline(doc: PageDoc) -> list[str]:
    """A labelled byline anywhere in the page outside teasers (the first): ``Written by: Jane Doe`` on one
    line, or a label line (``Autor``, ``By``) followed by a line that is a name and nothing else."""
    sites = {key for name in site_names_of(doc) for key in _site_keys(name)}
    label_seen = False
    for text, parent in _body_texts(doc.tree):
        line = " ".join(text.split())
        if not line:
            continue
        if len(line) > MAX_BYLINE_LINE:
            label_seen = False
            continue
        match = _NAME_LINE.match(line) if label_seen else None
        label_seen = False
        if match is None and (labelled := _LABELLED_LINE.match(line)):
            match = labelled if labelled["name"] else None
            label_seen = match is None
        if match is None or sites.intersection(_site_keys(match["name"])) or doc.in_teaser(parent):
            continue
        if any(ancestor.tag == "blockquote" for ancestor in parent.iterancestors()):
            continue  # ``Posted by`` an embedded post or a quoted letter: not this page's byline
        return [match["name"]]
    return []


def _body_texts(tree: Any) -> Iterator[tuple[str, Any]]:
    """The text nodes of ``//body//text()`` in document order, each with the element lxml names as its
    parent (the one whose text or tail it is), but those of scripts and styles and those of whitespace
    alone (half of a page's, which the caller would skip); produced lazily, as the
    caller stops at the first byline, where the XPath built every text node and its parent first."""
    for body in tree.iter("body"):
        for event, element in etree.iterwalk(body, events=("start", "end", "comment", "pi")):
            # at its end, an element's tail (a comment's too) is a text of its parent, unless it is the body
            text = element.text if event == "start" else None if element is body else element.tail
            if text and not text.isspace() and element.tag not in NOT_CONTENT:
                yield text, element


def _itemprop_authors(doc: PageDoc) -> list[str | None]:
    names: list[str | None] = []
    for element in doc.itemprop("author"):
        if doc.in_teaser(element):
            continue
        inner = element.xpath('.//*[@itemprop="name"]')
        if inner:
            names.extend(clean_text(e.get("content")) or element_text(e) for e in inner)
        else:
            names.append(clean_text(element.get("content")) or element_text(element))
    return names


def _byline_texts(doc: PageDoc) -> list[str]:
    """The visible byline: the first element marked byline/author outside teasers and comments (its
    whole text: labels and dates are cleaned off later), with the marked elements beside it."""
    chosen: list[Any] = []
    for element in _marked_bylines(doc.tree):
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _NOT_BYLINE.search(marks) or doc.in_teaser(element):
            continue
        if any(ancestor in chosen for ancestor in element.iterancestors()):
            continue
        if chosen and element.getparent() is not chosen[0].getparent():
            break
        text = element_text(element)
        if text and len(text) <= MAX_BYLINE_CHARS:
            chosen.append(element)
    return [text for element in chosen if (text := _pieces(element))]


def _marked_bylines(tree: Any) -> Iterator[Any]:
    """The elements whose class holds "yline", "uthor", "utor" or "uteur", or whose id or ``data-testid``
    holds "yline" (case-sensitive: marks are rarely upper-case), in document order: what the XPath
    ``//*[contains(@class,'yline') or ...][not(self::meta or ...)]`` found, in one Python pass (0.47 ms a
    page instead of 1.24), produced lazily: the caller mostly stops at the first byline."""
    for element in tree.iter(etree.Element):
        marks = element.get("class")
        if (
            (marks and ("yline" in marks or "uthor" in marks or "utor" in marks or "uteur" in marks))
            or "yline" in (element.get("id") or "")
            or "yline" in (element.get("data-testid") or "")
        ) and element.tag not in _NOT_BYLINE_TAGS:
            yield element


def _pieces(element: Any) -> str | None:
    """A byline's text with its parts kept apart (``Von | Patrick Czerny | -``): a label, a name and a
    handle in separate elements must not run together into one name."""
    parts = [clean_text(element.text)]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in NOT_CONTENT:
            parts.append(element_text(child))
        parts.append(clean_text(child.tail))
    return clean_text(" | ".join(p for p in parts if p))


# cleaning --------------------------------------------------------------------------------------------
def clean_names(raw: Sequence[str], *, site_names: Sequence[str] = ()) -> tuple[str, ...]:
    """Person names from raw author strings, in order, without duplicates (case-insensitive): no "By",
    dates, e-mails, handles or degrees; no site, desk or agency names."""
    return _clean(raw, site_names=site_names, people_only=True)


def _clean(raw: Sequence[str], *, site_names: Sequence[str], people_only: bool) -> tuple[str, ...]:
    """People (split on the separators, no organisations) or, with ``people_only=False``, the page's
    credit as written (a desk, the site, an agency: split only where the page separates parts)."""
    sites = {key for s in site_names if s for key in _site_keys(s)}
    names: list[str] = []
    seen: set[str] = set()
    found = [
        name
        for value in raw
        for piece in value.split("|")
        for name in _piece_names(piece, sites, people_only)
    ]
    if people_only:
        found = [name for name in found if _is_person(name, sites)]
        if any(" " in name for name in found):  # ``Von Max Muster, Berlin``, ``Disko | Max Muster``:
            found = [name for name in found if " " in name]  # a dateline or a rubric beside a name
    for name in found:
        if (key := name.casefold()) not in seen:
            seen.add(key)
            names.append(name)
    return tuple(names)


def _piece_names(piece: str, sites: set[str], people_only: bool) -> Iterator[str]:
    if _SENTENCE.search(piece) or len(piece.split()) > MAX_PIECE_WORDS:
        return  # an author's bio or a teaser, not a byline
    if not people_only:
        if (name := _clean_part(piece)) is not None and not _is_account(name):
            yield name
        return
    text = _strip_prefix(piece)
    if sites.intersection(_site_keys(text)):
        return  # the site's name (``Jobs & Hire``) is not two people
    if "," in text and sites.intersection(_site_keys(text.split(",", 1)[0])):
        return  # the site and its address (``example.de, Frankfurt, Germany``): no person
    if not _HANDLE.search(text):
        text = _SLASH.sub(" / ", _ASIDE.sub("", text))
    for part in _SEPARATORS.split(text):
        if (name := _clean_part(part)) is not None:
            name = _without_role(_without_site(_without_initials(_TRAILER.sub("", name)), sites), sites)
            if name:
                yield name


def _is_account(name: str) -> bool:
    """A placeholder account (``admin``, ``jdadmin``, ``Administrator``), not a credit."""
    folded = name.casefold()
    return folded in _ACCOUNTS or (" " not in folded and folded.endswith("admin"))


def _without_site(name: str, sites: set[str]) -> str:
    """``Example News Jane Doe``, ``Jane Doe USA TODAY``, ``Tom Davies Associated Press``: the site's name
    (or a wire's) glued before or after a person's is not part of it; the site's name and one word
    (``CNN Business``) is one of its sections, no one."""
    folded = name.casefold()
    for site in sites:
        if folded.startswith(site + " "):
            rest = name[len(site) :].split()
            if len(rest) >= 2:
                return " ".join(rest)
            if len(rest) == 1 and not rest[0][:1].islower():
                return ""
    for outlet in (*sites, *_WIRES):
        if folded.endswith(" " + outlet) and len(rest := name[: -len(outlet)].split()) >= 2:
            return " ".join(rest)
    return name


def _without_initials(name: str) -> str:
    match = _INITIALS.match(name)
    rest = name[match.end() :] if match else ""
    return rest if match and "".join(w[0] for w in rest.split()).upper() == match[1] else name


def _without_role(name: str, sites: set[str]) -> str | None:
    """The name without the job titles around it; None for a job title at an outlet (``AP Auto Writer``,
    ``CNN Editor-at-large``: the part after a reporter's name that says what she is and where)."""
    words = name.split()
    while words and _is_role(words[0]):
        words.pop(0)
    titled = False
    while words and _is_role(words[-1]):
        words.pop()
        titled = True
    if titled and words and (words[0].casefold() in _AGENCIES or words[0].casefold() in sites):
        return None
    return " ".join(words) or None


def _is_role(word: str) -> bool:
    folded = word.casefold().strip(",.:")
    if folded.endswith(("-at-large", "-in-chief")):
        folded = folded.split("-", 1)[0]
    return folded in _ROLE_WORDS or _ROLE_STEMS.match(folded) is not None


def _is_person(name: str, sites: set[str]) -> bool:
    words = name.casefold().split()
    if sites & set(_site_keys(name)) or name.casefold() in _AGENCIES:
        return False
    if len(words) >= 2 and any(site.startswith(" ".join(words) + " ") for site in sites):
        return False  # the site's name without its edition (``Business Insider`` of ``... Deutschland``)
    if len(words) == 1 and "." in name and _SITE_SUFFIX.search(words[0]):
        return False  # a domain (``stol.it``): some site's name
    if _DESK_WORDS.intersection(words) or name.casefold() in GENERIC_AUTHORS or _is_account(name):
        return False
    if words[0] == "the" or _in_lower_case(name):
        return False  # ``The Russian``, ``Syrian defense ministries``: a phrase, not a person's name
    # an abbreviation (``LN``, ``det``): an outlet's or an editor's short sign, not a name; a name in a
    # script without case (``王小明``) is written in two or three characters
    return not (len(words) == 1 and len(name) <= 3 and any(ch.isupper() or ch.islower() for ch in name))


def _in_lower_case(name: str) -> bool:
    """A capitalised name with a lower-case word of four letters or more that is no particle of a name
    (``von``, ``al-``): words of a phrase (``defense ministries``). A name all in lower case (a login, or
    one written so) is not one."""
    words = name.split()
    if not any(word[:1].isupper() for word in words):
        return False
    return any(
        word[:1].islower() and len(word) >= 4 and word.split("-", 1)[0].casefold() not in _PARTICLES
        for word in words
    )


def _strip_prefix(value: str) -> str:
    text = " ".join(value.split()).strip(" ,;|:-–—")
    for _ in range(2):
        text = _PREFIX.sub("", text, count=1).strip(" ,;|:-–—")
    return text


def _clean_part(part: str) -> str | None:
    text = _strip_prefix(part)
    if not text or _HANDLE.search(text):
        return None
    if _DATE.search(text):  # and the label before the date: ``Posted on 3 May 2020 by admin``
        text = _strip_prefix(_ZONES.sub(" ", _DATE_WORDS.sub(" ", _DATE.sub(" ", text))))
    text = _WEEKDAYS.sub(" ", _FOR_OUTLET.sub("", text))
    text = " ".join(text.split()).strip(" ,;|:-–—()[]\"'“”„«»")
    if not text or _LABEL_ONLY.match(text) or text.casefold() in _DEGREES:
        return None
    words = text.split()
    if len(words) >= 4 and len(words) % 2 == 0 and words[: len(words) // 2] == words[len(words) // 2 :]:
        text = " ".join(words[: len(words) // 2])  # a name written twice (a layout's long and short form)
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    if letters == 0 or (digits and " " in text) or digits > letters or len(text.split()) > MAX_NAME_WORDS:
        return None  # digits only in a one-word handle (``c1ph4``); else a reading time, a date, a count
    return text


@lru_cache(maxsize=4096)
def _site_keys(name: str) -> tuple[str, ...]:
    """A site's name as it may be written: ``Spektrum.de``, ``spektrum``, ``L’Opinion``, ``www.x.ch``
    (memoised: a source's few names come back on every page, and every candidate name is tried)."""
    key = name.casefold().replace("’", "'").strip()
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", key).rstrip("/")
    bare = _SITE_SUFFIX.sub("", key)
    return tuple(
        dict.fromkeys(k for k in (key, bare, re.sub(r"[^\w]", "", key), re.sub(r"[^\w]", "", bare)) if k)
    )


def site_names_of(doc: PageDoc) -> tuple[str, ...]:
    """The names the page gives its site (``og:site_name``, the JSON-LD publisher, the application name)
    and its host, for telling the outlet from its authors."""
    names = [
        value for _, value in doc.meta_all("og:site_name", "application-name", "apple-mobile-web-app-title")
    ]
    names += ld_names(doc.article_ld.get("publisher"))
    host = urlsplit(doc.url or "").hostname or ""
    if host:
        names.append(host.removeprefix("www."))
    return tuple(dict.fromkeys(names))


# choice ----------------------------------------------------------------------------------------------
def choose_authors(
    page: Sequence[Candidate[tuple[str, ...]]],
    *,
    site_names: Sequence[str] = (),
    feed_authors: Sequence[str] = (),
) -> Choice[tuple[str, ...]]:
    """The first source, in order of trust, that names a person after cleaning; else the feed's authors;
    else the credit the page gives (a desk, the site, an agency) when it credits no person: a reader sees
    "Redaktion" as the byline, and an empty field would hide that the page credits no one by name."""
    candidates = tuple(page)
    feed = Candidate(tuple(feed_authors), "feed:authors") if feed_authors else None
    considered = candidates + ((feed,) if feed is not None else ())
    named = [(c, names) for c in candidates if (names := clean_names(c.value, site_names=site_names))]
    if named:
        # a CMS account (``gabor_munier``, ``nils``) gives way to a source that writes a name
        first, names = next(((c, n) for c, n in named if not all(map(_is_handle, n))), named[0])
        names = _completed(names, [other for _, other in named])
        keys = {n.casefold() for n in names}
        agreeing = [c.source for c, other in named if c is not first and keys & {n.casefold() for n in other}]
        reason = "agreed by " + ", ".join(agreeing) if agreeing else "the most trusted source naming a person"
        if first is not named[0][0]:
            reason += f" ({named[0][0].source} gives a login)"
        return Choice(names, first.source, considered, reason)
    if feed is not None and (names := clean_names(feed.value, site_names=site_names)):
        return Choice(names, feed.source, considered, "the page names no person")
    credits = [
        (c, credit) for c in candidates if (credit := _clean(c.value, site_names=(), people_only=False))
    ]
    if credits:  # the credit most of the page's sources give, the most trusted of those
        votes = Counter(frozenset(n.casefold() for n in credit) for _, credit in credits)
        candidate, credit = max(credits, key=lambda pair: votes[frozenset(n.casefold() for n in pair[1])])
        return Choice(credit, candidate.source, considered, "the page credits no person: its credit")
    return Choice((), None, considered, None)


def _is_handle(name: str) -> bool:
    """A login rather than a name: one word with an underscore or a digit, or all in lower case."""
    return " " not in name and (name.islower() or "_" in name or any(ch.isdigit() for ch in name))


def _completed(names: tuple[str, ...], others: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """A first name alone (``Henry``) completed by another source's name that starts with it."""
    full = [n for other in others for n in other if " " in n]
    return tuple(
        dict.fromkeys(
            next((f for f in full if f.casefold().startswith(n.casefold() + " ")), n) if " " not in n else n
            for n in names
        )
    )
