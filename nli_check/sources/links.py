"""The links an article cites its sources by, each with its place in the article.

Markdown (and plain text): inline links ``[text](url)``, autolinks ``<url>``, bare URLs,
reference links ``[text][label]`` with their ``[label]: url`` definitions, footnotes
``[^1]`` whose definition holds a URL, and numbered markers ``[1]`` with a reference list
(``[1] ... url`` or ``1. ... url``). HTML: anchors ``<a href>`` (not those in ``<nav>``),
and in-page anchors (``<a href="#fn1">1</a>``) to a footnote or reference whose element
holds a link. Each link comes with the paragraph it stands in; definitions and reference
lists are returned as spans that hold no claims.

Targets are returned as written: http(s) URLs, or relative paths for the caller to
resolve (or to ignore); ``mailto:``, ``javascript:`` and the like are dropped.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass(frozen=True)
class Link:
    """A place in the article that cites ``target``."""

    target: str
    start: int  # offsets into the article of the link (or the footnote marker)
    end: int
    paragraph: tuple[int, int]  # the paragraph (block) it stands in


@dataclass(frozen=True)
class ArticleLinks:
    links: list[Link] = field(default_factory=list)
    references: list[tuple[int, int]] = field(default_factory=list)  # reference lists, definitions

    @property
    def targets(self) -> list[str]:
        """Each distinct target, in order of first citation."""
        return list(dict.fromkeys(link.target for link in self.links))


def find_links(text: str, fmt: str) -> ArticleLinks:
    """The links of an article in ``fmt`` (``text``, ``markdown`` or ``html``)."""
    return _html_links(text) if fmt == "html" else _markdown_links(text)


def usable_target(target: str) -> str | None:
    """``target`` without its fragment, or None for what cannot be a source (``mailto:``,
    an in-page ``#anchor``, an empty link)."""
    target = target.strip()
    if not target or target.startswith("#"):
        return None
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", target)
    if scheme and scheme.group(1).lower() not in ("http", "https") and not re.match(r"[A-Za-z]:[\\/]", target):
        return None
    return target.split("#", 1)[0] or None


# ---- Markdown and plain text

_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
_LINK_DEFINITION = re.compile(r"^ {0,3}\[(?!\^)([^\]]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?"
                              r"[ \t]*$")
_FOOTNOTE_DEFINITION = re.compile(r"^ {0,3}\[\^([^\]]+)\]:[ \t]?(.*)$")
_NUMBERED_ENTRY = re.compile(r"^[ \t]*(?:\[(\d{1,3})\]:?|(\d{1,3})[.)])[ \t]+(.*)$")
_REFERENCES_HEADING = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+)?[*_]*(references|sources|notes|footnotes|bibliography|"
                                 r"works cited|citations|links)[*_:]*[ \t]*$", re.IGNORECASE)
_INLINE = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\([ \t]*<?([^)\s>]+)>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'))?"
                     r"[ \t]*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>", re.IGNORECASE)
_REFERENCE_LINK = re.compile(r"\[([^\[\]]+)\]\[([^\[\]]*)\]")
_FOOTNOTE = re.compile(r"\[\^([^\]]+)\](?!:)")
_NUMBERED = re.compile(r"\[(\d{1,3})\](?![(\[:])")
_SHORTCUT = re.compile(r"(?<![\]!])\[([^\[\]^]+)\](?![(\[:])")
_BARE_URL = re.compile(r"https?://[^\s<>()\[\]\"']+", re.IGNORECASE)


def _urls(text: str) -> list[str]:
    """The URLs written in a piece of Markdown (link targets first, then bare URLs)."""
    found = [m.group(2) for m in _INLINE.finditer(text)] + [m.group(1) for m in _AUTOLINK.finditer(text)]
    rest = _INLINE.sub(" ", _AUTOLINK.sub(" ", text))
    found += [_trim(m.group()) for m in _BARE_URL.finditer(rest)]
    return [url for url in dict.fromkeys(found) if usable_target(url)]


def _trim(url: str) -> str:
    return url.rstrip(".,;:!?*_")


def _lines(text: str) -> list[tuple[int, int, str]]:
    result, position = [], 0
    for line in text.splitlines(keepends=True):
        result.append((position, position + len(line), line.rstrip("\r\n")))
        position += len(line)
    return result


def _markdown_links(text: str) -> ArticleLinks:
    lines = _lines(text)
    code: list[tuple[int, int]] = []
    paragraphs: list[tuple[int, int]] = []
    references: list[tuple[int, int]] = []
    definitions: dict[str, str] = {}  # reference-link label (lower case) -> URL
    notes: dict[str, list[str]] = {}  # footnote label -> URLs
    numbered: dict[str, list[str]] = {}  # "1" -> URLs of reference-list entry 1
    numbered_items: dict[str, tuple[int, int]] = {}  # "1." list items with a URL, kept if [1] is cited
    in_code, open_paragraph, note = False, None, None
    for number, (start, end, line) in enumerate(lines):
        if _FENCE.match(line):
            in_code = not in_code
            code.append((start, end))
            continue
        if in_code:
            code.append((start, end))
            continue
        if note is not None and line.startswith(("    ", "\t")) and line.strip():
            notes[note] += _urls(line)  # a footnote's continuation line
            references[-1] = (references[-1][0], end)
            continue
        note = None
        if not line.strip():
            open_paragraph = None
            continue
        if (definition := _LINK_DEFINITION.match(line)) and usable_target(definition.group(2)):
            definitions[definition.group(1).strip().lower()] = definition.group(2)
            references.append((start, end))
            continue
        if footnote := _FOOTNOTE_DEFINITION.match(line):
            note = footnote.group(1)
            notes[note] = _urls(footnote.group(2))
            references.append((start, end))
            continue
        entry = _NUMBERED_ENTRY.match(line)
        if entry and _urls(entry.group(3)):
            label = entry.group(1) or entry.group(2)
            numbered[label] = _urls(entry.group(3))
            if entry.group(1):
                references.append((start, end))
            else:
                numbered_items[label] = (start, end)
            continue
        if open_paragraph is None or _HEADING.match(line) or _LIST_ITEM.match(line):
            paragraphs.append((start, end))
            open_paragraph = len(paragraphs) - 1
        else:
            paragraphs[open_paragraph] = (paragraphs[open_paragraph][0], end)
    # Spans where nothing cites: code, and the definitions themselves.
    blocked = sorted(code + references)
    links: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = list(blocked)

    def add(start: int, end: int, targets: list[str]) -> bool:
        if any(start < b and a < end for a, b in taken):
            return False
        taken.append((start, end))
        links.extend((start, end, target) for target in targets)
        return True

    for match in _INLINE.finditer(text):
        add(match.start(), match.end(), [match.group(2)])
    for match in _AUTOLINK.finditer(text):
        add(match.start(), match.end(), [match.group(1)])
    for match in _REFERENCE_LINK.finditer(text):
        label = (match.group(2) or match.group(1)).strip().lower()
        if label in definitions:
            add(match.start(), match.end(), [definitions[label]])
    for match in _FOOTNOTE.finditer(text):
        if notes.get(match.group(1)):
            add(match.start(), match.end(), notes[match.group(1)])
    cited_numbers = set()
    for match in _NUMBERED.finditer(text):
        if numbered.get(match.group(1)) and add(match.start(), match.end(), numbered[match.group(1)]):
            cited_numbers.add(match.group(1))
    for match in _SHORTCUT.finditer(text):
        label = match.group(1).strip().lower()
        if label in definitions:
            add(match.start(), match.end(), [definitions[label]])
    for match in _BARE_URL.finditer(text):
        url = _trim(match.group())
        add(match.start(), match.start() + len(url), [url])
    # A "1. title url" list is a reference list when the text cites [1]; else it is prose with links.
    for label, span in numbered_items.items():
        if label in cited_numbers:
            references.append(span)
        else:
            paragraphs.append(span)
            for match in _INLINE.finditer(text, *span):
                add(match.start(), match.end(), [match.group(2)])
            for match in _BARE_URL.finditer(text, *span):
                add(match.start(), match.start() + len(_trim(match.group())), [_trim(match.group())])
    references += _reference_headings(lines, references)
    paragraphs.sort()
    result = []
    for start, end, target in sorted(links):
        usable = usable_target(target)
        if usable is not None and not any(a <= start < b for a, b in references):
            result.append(Link(usable, start, end, _paragraph(paragraphs, start, len(text))))
    return ArticleLinks(result, sorted(references))


def _reference_headings(lines, references: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A "References" (Sources, Notes ...) heading right above a reference list."""
    starts = {start for start, _ in references}
    found = []
    for index, (start, end, line) in enumerate(lines):
        if not _REFERENCES_HEADING.match(line):
            continue
        following = next((s for s, _, text in lines[index + 1:] if text.strip()), None)
        if following in starts:
            found.append((start, end))
    return found


def _paragraph(paragraphs: list[tuple[int, int]], offset: int, length: int) -> tuple[int, int]:
    index = bisect_right(paragraphs, (offset, length + 1)) - 1
    if index >= 0 and paragraphs[index][0] <= offset < paragraphs[index][1]:
        return paragraphs[index]
    return offset, offset + 1


# ---- HTML

_BLOCKS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "table", "section",
           "article", "header", "footer", "blockquote", "pre", "figcaption", "figure", "dd", "dt", "dl", "main",
           "aside", "nav", "body", "html"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Anchors(HTMLParser):
    """Anchors, elements with an id, and blocks, each with its offsets into the page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.open: list[list] = []  # [tag, start, id, anchor index or None]
        self.anchors: list[dict] = []  # href, start, end, block (start, end), in_nav
        self.ids: dict[str, tuple[int, int]] = {}
        self.blocks: list[list[int]] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _tag_end(self, start: int) -> int:
        end = self.source.find(">", start)
        return len(self.source) if end == -1 else end + 1

    def handle_starttag(self, tag, attrs):
        start = self._offset()
        attributes = dict(attrs)
        if tag == "p" and self.open and self.open[-1][0] == "p":  # an unclosed <p> ends at the next
            self._close("p", start)
        if tag in _VOID:
            return
        block = None
        if tag in _BLOCKS:
            self.blocks.append([start, len(self.source)])
            block = len(self.blocks) - 1
        anchor = None
        if tag == "a" and attributes.get("href"):
            anchor = len(self.anchors)
            self.anchors.append({"href": attributes["href"], "start": start, "end": self._tag_end(start),
                                 "block": self._innermost_block(), "in_nav": any(o[0] == "nav" for o in self.open)})
        self.open.append([tag, start, attributes.get("id"), anchor, block])

    def _innermost_block(self) -> int | None:
        return next((entry[4] for entry in reversed(self.open) if entry[4] is not None), None)

    def handle_endtag(self, tag):
        start = self._offset()
        self._close(tag, self._tag_end(start))

    def _close(self, tag: str, end: int) -> None:
        if not any(entry[0] == tag for entry in self.open):
            return
        while self.open:
            name, start, ident, anchor, block = self.open.pop()
            if ident:
                self.ids.setdefault(ident, (start, end))
            if anchor is not None:
                self.anchors[anchor]["end"] = end
            if block is not None:
                self.blocks[block][1] = end
            if name == tag:
                return

    def close(self):
        super().close()
        while self.open:
            self._close(self.open[-1][0], len(self.source))


def _html_links(text: str) -> ArticleLinks:
    parser = _Anchors(text)
    parser.feed(text)
    parser.close()

    def block(anchor: dict) -> tuple[int, int]:
        if anchor["block"] is None:
            return 0, len(text)
        return tuple(parser.blocks[anchor["block"]])

    usable = [a for a in parser.anchors if not a["in_nav"]]
    notes: list[tuple[int, int]] = []
    links = []
    for anchor in usable:
        href = anchor["href"].strip()
        if href.startswith("#") and href[1:] in parser.ids:
            start, end = parser.ids[href[1:]]
            inside = [a for a in usable if start <= a["start"] < end and usable_target(a["href"])]
            if inside:
                notes.append((start, end))
                links += [(anchor, usable_target(a["href"])) for a in inside]
        elif (target := usable_target(href)) is not None:
            links.append((anchor, target))
    result = [Link(target, anchor["start"], anchor["end"], block(anchor)) for anchor, target in links
              if not any(start <= anchor["start"] < end for start, end in notes)]
    return ArticleLinks(sorted(result, key=lambda link: (link.start, link.end)), sorted(set(notes)))
