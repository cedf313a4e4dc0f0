"""One parsed article page, read-only, for the metadata rules (pure).

The page is parsed once with lxml (trafilatura's ``load_html``); the metadata rules read it here first, and
the body extraction gets the same tree afterwards (trafilatura prunes it in place). Lookups that several
rules share (meta tags, JSON-LD objects, headings) are computed once per page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from typing import Any, TypeVar, cast

import lxml.html
from lxml import etree

from monitor.extract.evidence import clean_text

_TEASER_WORDS = frozenset(
    {"related", "teaser", "teasers", "recommended", "recommendations", "recommend", "sidebar", "aside",
     "widget", "widgets", "popular", "trending", "latest", "promo", "comments", "comment", "footer", "nav",
     "navigation", "menu", "carousel", "slider", "newsletter", "ticker", "rail", "more", "also", "readmore"}
)  # fmt: skip
ARTICLE_TYPES = re.compile(r"(Article|BlogPosting|Report|NewsArticle|LiveBlogPosting|Posting)$")
NOT_CONTENT = frozenset({"script", "style", "noscript", "template"})
"""Elements whose text no reader sees."""
AFTER_HEADLINE_CHARS = 300
INDEXED_TAGS = ("meta", "script", "link", "title", "h1", "h2", "time", "p", "a")
"""The tags whose elements :meth:`PageDoc.elements` serves from one walk of the page (``a``: the author
rules' ``rel=author`` and author-page links, the credited source's link)."""
_T = TypeVar("_T")


def element_text(element: Any) -> str | None:
    """The visible text of an element (scripts and styles skipped), entities decoded, whitespace folded."""
    return clean_text(" ".join(_itertext(element)))


def _itertext(element: Any) -> Iterator[str]:
    if isinstance(element.tag, str) and element.tag not in NOT_CONTENT and element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag not in NOT_CONTENT:
            yield from _itertext(child)
        if child.tail:
            yield child.tail


@lru_cache(maxsize=1)
def _html_parser() -> etree.HTMLParser:
    """trafilatura's parser settings, with lxml's C-level element classes instead of lxml.html's Python
    callback, which ran for every element Python touched (~5,000 a page: trafilatura, readability and the
    metadata rules each walk the tree). Every element is an ``HtmlElement``; lxml.html's form-element
    subclasses (whose form helpers nothing here uses) are not made."""
    parser = etree.HTMLParser(
        collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
    )
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


def parse_html(html: str | bytes) -> Any:
    """The page's lxml tree, as trafilatura's ``load_html`` makes it (same decoding, repairs, fallbacks and
    rejection of what is not HTML), with :func:`_html_parser`; None when it is not HTML."""
    from trafilatura.utils import decode_file, is_dubious_html

    text = decode_file(html)
    beginning = text[:50].lower()
    text = _repaired(text, beginning)
    tree = None
    from_bytes = False
    try:
        tree = lxml.html.fromstring(text, parser=_html_parser())
    except ValueError:  # "Unicode strings with encoding declaration are not supported"
        tree = _parse_bytes(text)
        from_bytes = True
    except Exception:  # trafilatura's load_html logs and gives up as well
        tree = None
    if (tree is None or len(tree) < 1) and not from_bytes:
        tree = _parse_bytes(text)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


@lru_cache(maxsize=1)
def _not_xml_characters() -> tuple[str, ...]:
    """The characters trafilatura's repair removes (XML forbids them), read from its own pattern once."""
    from trafilatura.utils import INVALID_XML_CHARS

    return tuple(char for char in map(chr, range(0x10000)) if INVALID_XML_CHARS.match(char))


def _repaired(text: str, beginning: str) -> str:
    """trafilatura's ``repair_faulty_html``, whose regex over the whole page for the characters XML forbids
    (~0.45 ms a page; one page in 480 has one) runs only when ``str``'s own search finds one (~0.15 ms)."""
    from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, repair_faulty_html

    if any(char in text for char in _not_xml_characters()):
        return repair_faulty_html(text, beginning)
    # what repair_faulty_html does to a page without them
    if "doctype" in beginning:
        first_line, _, rest = text.partition("\n")
        text = DOCTYPE_TAG.sub("", first_line, count=1) + "\n" + rest
    for line in text[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            return FAULTY_HTML.sub(r"\1>", text, count=1)
    return text


def _parse_bytes(text: str) -> Any:
    try:
        return lxml.html.fromstring(text.encode("utf8", "surrogatepass"), parser=_html_parser())
    except Exception:  # as trafilatura's fromstring_bytes
        return None


def following_texts(element: Any) -> Iterator[tuple[str, Any]]:
    """The text nodes after ``element`` in document order (XPath's ``following::text()``), each with the
    element lxml names as its parent (the element whose ``text`` or ``tail`` it is), produced lazily:
    the XPath builds all of them, and a proxy for each parent, before the caller takes the first few."""
    node = element
    while node is not None:
        if node.tail:
            yield node.tail, node
        for sibling in node.itersiblings():
            yield from _subtree_texts(sibling)
        node = node.getparent()


def _subtree_texts(element: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(element.tag, str) and element.text:
        yield element.text, element
    for child in element:
        yield from _subtree_texts(child)
    if element.tail:
        yield element.tail, element


class PageDoc:
    """A parsed page and its URL, with the lookups the metadata rules share."""

    def __init__(self, tree: Any, url: str | None = None, *, content_language: str | None = None) -> None:
        self.tree = tree
        self.url = url
        self.content_language = content_language
        """The ``Content-Language`` response header, when the caller has it."""
        self._once: dict[Callable[[PageDoc], Any], Any] = {}

    def once(self, rule: Callable[[PageDoc], _T]) -> _T:
        """``rule(self)``, computed once for this page: for a rule of another module whose result several
        fields read (the site's names strip the title and are evidence of their own)."""
        if rule not in self._once:
            self._once[rule] = rule(self)
        return cast(_T, self._once[rule])

    @classmethod
    def parse(cls, html: str | bytes, url: str | None = None) -> PageDoc | None:
        tree = parse_html(html)
        return None if tree is None else cls(tree, url)

    # elements ----------------------------------------------------------------------------------------
    @cached_property
    def _by_tag(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {tag: [] for tag in INDEXED_TAGS}
        for element in self.tree.iter(*INDEXED_TAGS):
            found[element.tag].append(element)
        return found

    def elements(self, tag: str) -> list[Any]:
        """``tree.iter(tag)`` for one of ``INDEXED_TAGS`` (in document order), from one walk of the page
        for all of them: each ``iter`` or XPath walks all of the page's ~5,000 elements again (~0.15 ms)."""
        return self._by_tag[tag]

    @cached_property
    def from_root(self) -> bool:
        """Whether the tree is its document's root, so that an XPath ``//tag`` finds what
        :meth:`elements` holds (lxml.html gives a fragment's element for a page without ``<html>``)."""
        return bool(self.tree.getroottree().getroot() is self.tree)

    # meta tags ---------------------------------------------------------------------------------------
    @cached_property
    def metas(self) -> list[tuple[str, str]]:
        """``(key, content)`` of every ``<meta>`` with content, key lower-cased from ``property``, ``name``,
        ``itemprop`` or ``http-equiv``, in document order."""
        found: list[tuple[str, str]] = []
        for tag in self.elements("meta"):
            key = tag.get("property") or tag.get("name") or tag.get("itemprop") or tag.get("http-equiv")
            value = clean_text(tag.get("content"))
            if key and value:
                found.append((key.strip().lower(), value))
        return found

    def meta(self, *names: str) -> str | None:
        """The first meta value among ``names``, in the order the names are given."""
        for name in names:
            for key, value in self.metas:
                if key == name:
                    return value
        return None

    def meta_all(self, *names: str) -> list[tuple[str, str]]:
        """Every ``(key, value)`` whose key is among ``names``, in document order."""
        wanted = set(names)
        return [(key, value) for key, value in self.metas if key in wanted]

    # JSON-LD -----------------------------------------------------------------------------------------
    @cached_property
    def json_ld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page (lists and ``@graph`` flattened), in document order."""
        objects: list[dict[str, Any]] = []
        for script in self.elements("script"):
            if "ld+json" not in (script.get("type") or "").lower():
                continue
            raw = (script.text or "").strip().removeprefix("<![CDATA[").removesuffix("]]>").strip()
            try:
                data = json.loads(raw)
            except ValueError:
                try:  # control characters inside strings are common in hand-made JSON-LD
                    data = json.loads(raw, strict=False)
                except ValueError:
                    continue
            stack: list[Any] = [data]
            while stack:
                item = stack.pop(0)
                if isinstance(item, list):
                    stack.extend(item)
                elif isinstance(item, dict):
                    objects.append(item)
                    if isinstance(item.get("@graph"), list):
                        stack.extend(item["@graph"])
        return objects

    @cached_property
    def article_ld(self) -> dict[str, Any]:
        """The first JSON-LD object typed as an article ({} when none)."""
        for obj in self.json_ld:
            if any(ARTICLE_TYPES.search(kind) for kind in ld_types(obj)):
                return obj
        return {}

    # document ----------------------------------------------------------------------------------------
    @cached_property
    def html_lang(self) -> str | None:
        root = self.tree.getroottree().getroot() if hasattr(self.tree, "getroottree") else self.tree
        return clean_text(root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang"))

    @cached_property
    def document_title(self) -> str | None:
        for title in self.elements("title"):
            if _inside_svg(title):
                continue
            return element_text(title)
        return None

    @cached_property
    def headings(self) -> list[tuple[str, str]]:
        """``(tag, text)`` of the page's ``h1`` elements, then of ``h2`` when there is no ``h1``."""
        found = [(e.tag, t) for e in self.elements("h1") if (t := element_text(e))]
        if not found:
            found = [(e.tag, t) for e in self.elements("h2") if (t := element_text(e))]
        return found

    @cached_property
    def headline_containers(self) -> frozenset[Any]:
        """The ancestors of the page's first ``h1``: the article's own containers, whatever their class."""
        headline = next(iter(self.elements("h1")), None)
        return frozenset(headline.iterancestors()) if headline is not None else frozenset()

    @cached_property
    def after_headline(self) -> list[str]:
        """The text lines that follow the first ``h1`` (its dateline and byline), up to
        ``AFTER_HEADLINE_CHARS`` characters; [] when there is no ``h1`` or it stands in a teaser."""
        headline = next(iter(self.elements("h1")), None)
        if headline is None or self.in_teaser(headline):
            return []
        lines: list[str] = []
        size = 0
        for text, parent in following_texts(headline):
            if parent.tag in NOT_CONTENT or not (line := " ".join(text.split())):
                continue
            lines.append(line)
            size += len(line)
            if size > AFTER_HEADLINE_CHARS:
                break
        return lines

    def in_teaser(self, element: Any) -> bool:
        """Whether an element stands in a list of other articles, an aside, a footer or the comments (where
        teasers carry their own dates and authors): an ancestor so marked by its tag or by a word of its
        class or id, short of the containers the article's headline shares."""
        containers = self.headline_containers
        for ancestor in element.iterancestors():
            if ancestor in containers:
                return False
            tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
            if tag in {"aside", "nav"} or (tag == "footer" and not _inside(ancestor, "article")):
                return True  # an article's own footer carries its byline and dates
            if tag in {"body", "main"}:
                return False
            for token in f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower().split():
                if token.startswith(("has-", "with-", "no-", "one-")):
                    continue
                words = _TEASER_WORDS.intersection(re.split(r"[-_]", token))
                if words and not (words == {"footer"} and _inside(ancestor, "article")):
                    return True
        return False

    @cached_property
    def _itemprops(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for element in self.tree.iter(etree.Element):
            if (name := element.get("itemprop")) is not None:
                found.setdefault(name, []).append(element)
        return found

    def itemprop(self, name: str, *, skip: tuple[str, ...] = ("meta",)) -> list[Any]:
        """The elements whose ``itemprop`` is ``name``, in document order, but those tagged as in ``skip``:
        ``//*[@itemprop="name"][not(self::meta)]`` from one pass over the page for every name (each such
        XPath walks the whole tree again, ~0.4 ms a page)."""
        return [element for element in self._itemprops.get(name, ()) if element.tag not in skip]

    def xpath(self, expression: str) -> list[Any]:
        try:
            result = self.tree.xpath(expression)
        except etree.XPathError:
            return []
        return result if isinstance(result, list) else []


def ld_types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind)] if kind else []


def ld_names(value: Any) -> list[str]:
    """Names in a JSON-LD person/organisation value: a string, an object with ``name``, or a list."""
    if isinstance(value, list):
        return [name for item in value for name in ld_names(item)]
    if isinstance(value, dict):
        name = clean_text(value.get("name"))
        return [name] if name else []
    name = clean_text(value)
    return [name] if name else []


def _inside(element: Any, tag: str) -> bool:
    return any(ancestor.tag == tag for ancestor in element.iterancestors())


def _inside_svg(element: Any) -> bool:
    return any(isinstance(p.tag, str) and p.tag.endswith("svg") for p in element.iterancestors())
