"""Reading a page as its user does: the text of one element, the cells of one table.

Tests assert on the element that shows a value (found by `id`, `data-testid` or any attribute), never
on a search of the whole page: a number searched for in a page also matches a timestamp, an id or a
hidden input. Built on the standard library's `html.parser`; end tags that HTML lets a page omit
(`</p>`, `</li>`, `</td>`, `</tr>`…) are implied where the next element or the parent's end tag
closes them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

INLINE = {
    "a",
    "abbr",
    "b",
    "code",
    "em",
    "i",
    "kbd",
    "label",
    "mark",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# An open element of the key's kind is closed by a new start tag of one of these kinds.
IMPLIED_END = {
    "p": {"p", "div", "table", "ul", "ol", "dl", "section", "form", "h1", "h2", "h3", "h4", "pre"},
    "li": {"li"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "td": {"td", "th", "tr", "tbody", "tfoot"},
    "th": {"td", "th", "tr", "tbody", "tfoot"},
    "tr": {"tr", "tbody", "tfoot"},
    "option": {"option", "optgroup"},
}


class Element:
    """One element of the page: tag, attributes, children (elements and text)."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        """The element's text as a reader sees it: tags dropped, white space collapsed."""
        parts: list[str] = []

        def walk(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag in INLINE:
                    walk(child)
                elif child.tag not in ("script", "style", "template"):
                    parts.append(" ")
                    walk(child)
                    parts.append(" ")

        walk(self)
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def iter(self):
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag (any if None) and these attribute values (`data_testid` for
        `data-testid`, `class_` for `class`, which matches one of the element's classes)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        found = []
        for el in self.iter():
            if el is self or (tag is not None and el.tag != tag):
                continue
            if all(
                (v in el.attrs.get("class", "").split()) if k == "class" else el.attrs.get(k) == v
                for k, v in wanted.items()
            ):
                found.append(el)
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def rows(self) -> list[list[str]]:
        """The text of each row's cells (`td` and `th`), for every `tr` inside this element."""
        return [
            [c.text for c in tr.children if isinstance(c, Element) and c.tag in ("td", "th")]
            for tr in self.find_all("tr")
        ]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        closes = {open_tag for open_tag, closers in IMPLIED_END.items() if tag in closers}
        while self.current.tag in closes:
            self.current = self.current.parent
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:  # a stray end tag closes nothing
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str | bytes) -> Element:
    """The page as a tree of elements (its root is the document)."""
    builder = _Builder()
    builder.feed(html.decode() if isinstance(html, bytes) else html)
    builder.close()
    return builder.root


def _page(page) -> Element:
    """A response, its HTML (str/bytes) or an already parsed page."""
    if isinstance(page, Element):
        return page
    return parse(getattr(page, "content", page))


def element(page, tag: str | None = None, **attrs: str) -> Element | None:
    """The first element with these attributes, e.g. `element(response, id="decision")`,
    `element(html, data_testid="numbers")`; None when the page has none."""
    return _page(page).find(tag, **attrs)


def text(page, tag: str | None = None, **attrs: str) -> str | None:
    """The text of the first element with these attributes; None when the page has none."""
    el = element(page, tag, **attrs)
    return None if el is None else el.text


def cells(page, **attrs: str) -> list[str]:
    """The text of each cell (`td` or `th`) of the row with these attributes, e.g.
    `cells(html, id="progress-paper-2")`. Fails the test when the page has no such row."""
    row = element(page, "tr", **attrs)
    assert row is not None, f"the page has no row {attrs}"
    return [c.text for c in row.children if isinstance(c, Element) and c.tag in ("td", "th")]


def table(page, **attrs: str) -> list[list[str]]:
    """The cells of the body rows (those with `td` cells) of the table with these attributes.
    Fails the test when the page has no such table."""
    el = element(page, **attrs)
    assert el is not None, f"the page has no element {attrs}"
    return [row for row, tr in zip(el.rows(), el.find_all("tr"), strict=True) if tr.find("td") is not None]


def line_with(document_text: str, needle: str) -> str:
    """The one line of a document's text (e.g. a PDF read back with pypdf) that contains `needle`: a
    table row found by its team name, a field found by its label. Fails the test unless exactly one
    line contains it."""
    lines = [line.strip() for line in document_text.splitlines() if needle in line]
    assert len(lines) == 1, f"{len(lines)} lines contain {needle!r}: {lines}"
    return lines[0]
