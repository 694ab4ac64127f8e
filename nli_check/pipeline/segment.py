"""Stage 1: split a document into sentences, each with character offsets into the
original text.

Plain text, Markdown and HTML are accepted. Markup is stripped into a *plain view* that
remembers, for every character it keeps, where that character stood in the original;
so offsets always point into the file the user gave, whatever its format. Sentences
come from pysbd (rule-based, handles abbreviations, quotes and decimals); each line
break is also a boundary, because headlines and list items carry no full stop.
A "sentence" longer than ``max_words`` is cut into windows of at most that many words,
and each cut is reported, never silently dropped.

pysbd's time grows with the square of a block's length (its abbreviation rules rewrite the
whole block per match), so a line longer than ``SPLIT_WINDOW`` characters is split window by
window: each window's sentences but the last are kept, and the next window starts where that
last one did, so every boundary kept was decided with text on both sides of it.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pysbd

from nli_check.errors import InputError

FORMATS = ("text", "markdown", "html")
# Lines longer than this many characters go to pysbd a window at a time (linear time).
SPLIT_WINDOW = 4000


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document: its text (markup removed, whitespace runs collapsed), its
    span in the original, and where each character of ``text`` stands in the original, so
    that a piece of the text maps back exactly (:meth:`original_span`, :meth:`text_span`)."""

    text: str
    start: int
    end: int
    offsets: tuple[int, ...] = field(default=(), repr=False, compare=False)  # one per character of text

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original document of ``text[start:end]`` (a non-empty piece)."""
        if not self.offsets:  # built by hand: text is the original's slice
            return self.start + start, self.start + end
        return self.offsets[start], self.offsets[end - 1] + 1

    def text_span(self, start: int, end: int) -> tuple[int, int]:
        """The inverse: the piece of ``text`` that the original's ``[start, end)`` covers."""
        if not self.offsets:
            return max(0, start - self.start), min(len(self.text), end - self.start)
        return bisect_left(self.offsets, start), bisect_left(self.offsets, end)


@dataclass(frozen=True)
class Segmented:
    sentences: list[Sentence]
    warnings: list[str]


class PlainView:
    """Text with markup removed, plus the original offset of each kept character."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []

    def add(self, text: str, start: int) -> None:
        for index, char in enumerate(text):
            self.chars.append(char)
            self.offsets.append(start + index)

    def add_mapped(self, text: str, start: int, end: int) -> None:
        """Text that stands for the original span [start, end), e.g. an entity."""
        for char in text:
            self.chars.append(char)
            self.offsets.append(start)
        if text:
            self.offsets[-1] = end - 1

    def boundary(self, position: int) -> None:
        """A block boundary (paragraph, heading, list item): always ends a sentence."""
        self.chars.append("\n")
        self.offsets.append(position)

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _plain_text(text: str) -> PlainView:
    view = PlainView()
    view.add(text, 0)
    return view


# Markdown: the markup characters to drop; everything else is kept with its offset.
_MD_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_LINE_PREFIX = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)+")
_MD_CODE_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REFERENCE_LINK = re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]")  # [text][label]: the text shows
_MD_FOOTNOTE_MARK = re.compile(r"\[\^[^\]\s]+\](?!:)")  # [^1]: a superscript, no words
# [label]: url "title" on a line of its own defines a link and shows nothing.
_MD_LINK_DEFINITION = re.compile(r"^ {0,3}\[(?!\^)[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TAG = re.compile(r"<[^>\n]+>")


def _markdown(text: str) -> PlainView:
    keep = [True] * len(text)
    front = _MD_FRONT_MATTER.match(text)
    if front:
        keep[: front.end()] = [False] * front.end()
    in_code = False
    position = 0
    for line in text.splitlines(keepends=True):
        start, end = position, position + len(line)
        position = end
        if front and start < front.end():
            continue
        if _MD_CODE_FENCE.match(line):
            in_code = not in_code
            keep[start:end] = [False] * (end - start)
            continue
        if in_code:
            keep[start:end] = [False] * (end - start)
            continue
        if _MD_LINK_DEFINITION.match(line):
            keep[start:end] = [False] * (end - start)
            continue
        prefix = _MD_LINE_PREFIX.match(line)
        if prefix:
            keep[start:start + prefix.end()] = [False] * prefix.end()
    for pattern in (_MD_IMAGE, _MD_LINK, _MD_REFERENCE_LINK):
        for match in pattern.finditer(text):
            # keep the link text, drop "[", "](url)"
            inner_start, inner_end = match.span(1)
            for i in range(match.start(), match.end()):
                if not inner_start <= i < inner_end:
                    keep[i] = False
            if pattern is _MD_IMAGE:
                keep[inner_start:inner_end] = [False] * (inner_end - inner_start)
    for match in _MD_FOOTNOTE_MARK.finditer(text):
        keep[match.start():match.end()] = [False] * (match.end() - match.start())
    for match in _MD_EMPHASIS.finditer(text):
        marker = len(match.group(1))
        for i in list(range(match.start(), match.start() + marker)) + list(range(match.end() - marker, match.end())):
            keep[i] = False
    for match in _MD_TAG.finditer(text):
        keep[match.start():match.end()] = [False] * (match.end() - match.start())
    view = PlainView()
    for index, char in enumerate(text):
        if keep[index]:
            view.add(char, index)
        elif char == "\n":
            view.boundary(index)
    return view


_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
               "table", "section", "article", "header", "footer", "blockquote", "pre", "title", "hr",
               "figcaption", "dd", "dt", "main", "aside", "nav"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


class _HTMLToPlain(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.view = PlainView()
        self.skipping = 0
        self.superscript = 0
        self.footnote_mark = False
        # Offsets of line starts, to turn getpos() (line, column) into a character offset.
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.source = text

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if tag == "sup":
            self.superscript += 1
        elif tag == "a" and self.superscript and (dict(attrs).get("href") or "").startswith("#"):
            self.footnote_mark = True  # <sup><a href="#fn1">1</a></sup>: a footnote's number, no words
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.view.boundary(self._offset())

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.view.boundary(self._offset())

    def handle_endtag(self, tag):
        if tag == "sup":
            self.superscript = max(0, self.superscript - 1)
        elif tag == "a":
            self.footnote_mark = False
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.view.boundary(self._offset())

    def handle_data(self, data):
        if not self.skipping and not self.footnote_mark:
            self.view.add(data, self._offset())

    def _reference(self, raw: str) -> None:
        if self.skipping:
            return
        start = self._offset()
        end = self.source.find(";", start, start + len(raw) + 3)
        end = end + 1 if end != -1 else start + len(raw)
        self.view.add_mapped(html.unescape(self.source[start:end]), start, end)

    def handle_entityref(self, name):
        self._reference(f"&{name};")

    def handle_charref(self, name):
        self._reference(f"&#{name};")


def _html(text: str) -> PlainView:
    parser = _HTMLToPlain(text)
    parser.feed(text)
    parser.close()
    return parser.view


def detect_format(name: str | None, text: str) -> str:
    """Guess the format from a file name, else from the content."""
    lowered = (name or "").lower()
    if lowered.endswith((".md", ".markdown")):
        return "markdown"
    if lowered.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if lowered.endswith(".txt"):
        return "text"
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html")) or re.search(r"<(p|div|body|article)[\s>]", head):
        return "html"
    return "text"


_WORD = re.compile(r"\S+")
_TAG = re.compile(r"<[^>]*>")


def count_words(text: str, fmt: str = "text") -> int:
    """Whitespace-separated words, before any splitting (HTML tags do not count): cheap
    enough to refuse a document that is too long before any work is spent on it."""
    if fmt == "html":
        text = _TAG.sub(" ", text)
    return _WORD.subn("", text)[1]


class WordBudget:
    """The words one check may read, the article and its sources together (``limit``
    None: no limit). Documents are counted as they are read, so reading stops at the
    first one over the limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.words = 0

    def add(self, text: str, *, fmt: str, name: str) -> None:
        if self.limit is None:
            return
        self.words += count_words(text, fmt)
        if self.words > self.limit:
            raise InputError(f"{name}: the article and its sources come to more than {self.limit:,} words "
                             f"({self.words:,} so far), over the limit of one check (raise it with --max-words)")
_MARKERS_ONLY = re.compile(r"\[\^?\w{1,10}\](?:[,\s]*\[\^?\w{1,10}\])*[.,;]?")


class Segmenter:
    """Splits documents into sentences. One instance can be reused; it holds no state
    between calls."""

    def __init__(self, *, max_words: int = 120, window: int = SPLIT_WINDOW) -> None:
        self.max_words = max_words
        self.window = window
        self._pysbd = pysbd.Segmenter(language="en", clean=False)

    def segment(self, text: str, *, fmt: str = "text", name: str = "document") -> Segmented:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        view = {"text": _plain_text, "markdown": _markdown, "html": _html}[fmt](text)
        plain = view.text
        sentences: list[Sentence] = []
        warnings: list[str] = []
        for block in re.finditer(r"[^\n]+", plain):
            cursor = block.start()
            for piece in self._split(block.group()):
                stripped = piece.strip()
                if not stripped:
                    continue
                found = plain.find(stripped, cursor, block.end())
                if found == -1:  # pysbd normalised something; fall back to the running cursor
                    found = cursor
                cursor = found + len(stripped)
                if _MARKERS_ONLY.fullmatch(stripped):
                    continue  # "[1]" or "[3][4]" after a sentence's full stop: a citation, no claim
                sentences += self._windows(plain, view.offsets, found, found + len(stripped), name, warnings)
        return Segmented(sentences, warnings)

    def _split(self, line: str) -> Iterator[str]:
        """pysbd's sentences of one line, a window of at most ``self.window`` characters at a
        time. A sentence that no window ends (longer than a window) is carried on to the
        next one, and is cut only by the word windows of :meth:`_windows`, as before."""
        start = scan = 0  # where the unfinished sentence starts; where the next window starts
        while len(line) - scan > self.window:
            end = scan + self.window
            cut = max(line.rfind(" ", scan + self.window // 2, end), line.rfind("\t", scan + self.window // 2, end))
            cut = cut if cut > scan else end
            pieces = self._pysbd.segment(line[scan:cut])
            if len(pieces) < 2:  # no sentence ends in this window: read on
                scan = cut
                continue
            starts, cursor = [], scan
            for piece in pieces:
                found = line.find(piece.strip(), cursor, cut)
                starts.append(cursor if found == -1 else found)
                cursor = starts[-1] + len(piece.strip())
            yield line[start:starts[0] + len(pieces[0].strip())]  # with what earlier windows carried
            yield from pieces[1:-1]
            start = scan = max(starts[-1], scan + 1)  # the last sentence starts the next window
        pieces = self._pysbd.segment(line[scan:])
        if start < scan and pieces:
            first = line.find(pieces[0].strip(), scan)
            pieces[0] = line[start:(first if first != -1 else scan) + len(pieces[0].strip())]
        elif start < scan:
            pieces = [line[start:]]
        yield from pieces

    def _windows(self, plain: str, offsets: list[int], start: int, end: int, name: str,
                 warnings: list[str]) -> list[Sentence]:
        words = list(_WORD.finditer(plain, start, end))
        if not words:
            return []
        groups = [words[i:i + self.max_words] for i in range(0, len(words), self.max_words)]
        if len(groups) > 1:
            warnings.append(f"{name}: a sentence of {len(words)} words at character {offsets[start]} "
                            f"was split into {len(groups)} windows of at most {self.max_words} words")
        result = []
        for group in groups:
            a, b = group[0].start(), group[-1].end()
            # Whitespace runs become one space, which keeps the offset of the run's first character.
            pieces = list(re.finditer(r"(\s+)|\S+", plain[a:b]))
            text = "".join(" " if piece.group(1) else piece.group() for piece in pieces)
            kept = tuple(offset for piece in pieces for offset in (
                (offsets[a + piece.start()],) if piece.group(1) else offsets[a + piece.start():a + piece.end()]))
            result.append(Sentence(text, offsets[a], offsets[b - 1] + 1, kept))
        return result
