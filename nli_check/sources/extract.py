"""The text of a source: the main text of a web page (trafilatura: no navigation, footers
or cookie banners), the text layer of a PDF (pypdf, pages joined, each page's start
offset kept), or plain text and Markdown as they are. Offsets in reports point into the
text returned here."""

from __future__ import annotations

import codecs
import io
import logging
import re
from dataclasses import dataclass

from nli_check.errors import InputError
from nli_check.inputs import decode

# A line that ends a sentence (or a quotation or bracket that closes one).
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
# A wrapped line shorter than this share of the page's longest line ends its paragraph.
SHORT_LINE = 0.6
# Codecs Python counts as text encodings that no web page is written in: they decode
# arbitrary bytes slowly, wrongly or not at all ("undefined" always fails).
NOT_PAGE_CHARSETS = {"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"}
# trafilatura's time grows faster than a page's size; beyond this many bytes of HTML a page is
# refused rather than left to hold the fetch (and the server) for a minute.
MAX_HTML_BYTES = 5_000_000


@dataclass(frozen=True)
class Extracted:
    """A source's text, the segmenter's format for it, and where each page starts (PDF)."""

    text: str
    format: str  # one of segment.FORMATS
    pages: tuple[int, ...] = ()  # start offset of each page in text; empty when not paged


def extract(body: bytes, *, kind: str, name: str, charset: str | None = None) -> Extracted:
    """The text of a fetched or read source of ``kind`` (``html``, ``pdf``, ``text``, ``markdown``)."""
    if kind == "pdf":
        return extract_pdf(body, name=name)
    if kind == "html":
        # Without a charset in the header, trafilatura reads the page's own <meta charset>.
        return extract_html(_decode(body, name, charset) if charset else body, name=name)
    return Extracted(_decode(body, name, charset), kind)


def _decode(body: bytes, name: str, charset: str | None) -> str:
    if charset:
        try:
            codec = codecs.lookup(charset)
        except (LookupError, ValueError):
            raise InputError(f"{name}: unknown character set {charset[:40]!r}") from None
        if not getattr(codec, "_is_text_encoding", True) or codec.name in NOT_PAGE_CHARSETS:
            raise InputError(f"{name}: {charset[:40]!r} is not a character set a page can be written in")
        try:
            text = body.decode(codec.name)
        except UnicodeDecodeError as error:
            raise InputError(f"{name}: not valid {charset} (invalid byte at offset {error.start})") from None
        except UnicodeError as error:
            raise InputError(f"{name}: cannot be decoded as {charset[:40]!r} ({error})") from None
        if not text.strip():
            raise InputError(f"{name}: empty response")
        return text
    return decode(body, name)


def extract_html(page: str | bytes, *, name: str) -> Extracted:
    """The main text of a web page, one paragraph a line, as plain text."""
    import trafilatura

    size = len(page.encode("utf-8")) if isinstance(page, str) else len(page)
    if size > MAX_HTML_BYTES:
        raise InputError(f"{name}: a page of {size / 1e6:.1f} MB of HTML is over the {MAX_HTML_BYTES / 1e6:g} MB "
                         f"that main-text extraction reads")

    # trafilatura logs its own complaints about odd pages; the error below says what matters.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    text = trafilatura.extract(page, output_format="txt", include_comments=False, include_tables=True,
                               include_images=False, include_links=False, deduplicate=False)
    if not text or not text.strip():
        raise InputError(f"{name}: no main text found in the page")
    return Extracted(text, "text")


def extract_pdf(body: bytes, *, name: str) -> Extracted:
    """The text layer of a PDF, page by page. Lines wrapped by the layout are joined (a
    line break is kept after a sentence's end and after a short line, such as a heading),
    because the segmenter ends a sentence at every line break."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(f"{name}: the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise InputError(f"{name}: not a readable PDF ({type(error).__name__}: {str(error)[:120]})") from None
    if not any(page.strip() for page in pages):
        raise InputError(f"{name}: the PDF has no text layer ({len(pages)} page(s), scanned images?); "
                         f"run OCR on it first")
    text, starts = "", []
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        starts.append(len(text))  # the previous page's last line decided how a sentence goes on
        text += _join_lines(lines)
    return Extracted(text.rstrip(), "text", tuple(starts))


def _join_lines(lines: list[str]) -> str:
    """The page's lines, joined into paragraphs; the result ends with "\\n" after a
    paragraph's end and with " " after a wrapped line (the next page continues it)."""
    width = max((len(line) for line in lines), default=0)
    out = []
    for line in lines:
        ends = bool(_SENTENCE_END.search(line)) or len(line) < SHORT_LINE * width
        if not ends and re.search(r"\w-$", line):
            out.append(line)  # a hyphen at the line's end: the word goes on (long-/range)
        else:
            out.append(line + ("\n" if ends else " "))
    return "".join(out)
