"""Documents in: an article and its sources as files, URLs or texts, each with a name and
a format, checked with one call. The command line, the web app and the examples all come
through here, so a file or a page reaches a report one way only.

A source is a text, Markdown or HTML file, a PDF (file or URL), or a web page (its main
text); with ``sources_from_links`` the sources are the ones the article links to, and each
claim is checked against the sources its own sentence or paragraph cites.

Examples:
    >>> checked = check_files(Checker(), article="seeds/article.txt", sources=["seeds/source.txt"])
    >>> checked.report.summary
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote

from nli_check.config import FETCH_MAX_BYTES, MAX_CHECK_WORDS, MAX_INPUT_BYTES
from nli_check.errors import InputError
from nli_check.inputs import STDIN, decode, read_bytes
from nli_check.pipeline.cite import Citation, Citations
from nli_check.pipeline.results import Report
from nli_check.pipeline.segment import FORMATS, WordBudget, detect_format
from nli_check.sources.cache import Fetcher, SourceCache
from nli_check.sources.extract import extract, extract_pdf
from nli_check.sources.fetch import is_url
from nli_check.sources.links import find_links

AUTO = "auto"  # a document's format told by its name, else its content
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class Document:
    """A text to check, or to check against, with the name reports give it."""

    text: str
    name: str  # a file name, or the URL a source was fetched from
    format: str  # one of segment.FORMATS
    pages: tuple[int, ...] = ()  # a PDF's page start offsets into text; empty when not paged

    @classmethod
    def from_text(cls, text: str, *, name: str, fmt: str = AUTO, path: str | None = None) -> Document:
        """``fmt`` ``"auto"`` is told from ``path`` (a file name), else from the text."""
        if fmt != AUTO and fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected auto or one of {', '.join(FORMATS)}")
        return cls(text, name, detect_format(path, text) if fmt == AUTO else fmt)


def read_document(path: str, *, input_format: str = AUTO, max_bytes: int = MAX_INPUT_BYTES,
                  max_pdf_bytes: int = FETCH_MAX_BYTES) -> Document:
    """A file (``-``: standard input) as a :class:`Document` named by its file name; a PDF
    (by name or by its first bytes) as its text layer, with page offsets. Every way the
    file can be unusable is one :class:`InputError` naming it."""
    name = STDIN_NAME if path == STDIN else Path(path).name
    if path.lower().endswith(".pdf"):
        raw = read_bytes(path, max_bytes=max_pdf_bytes, limit_option="--max-fetch-mb")
    else:
        raw = read_bytes(path, max_bytes=max_bytes)
    if raw.startswith(b"%PDF-"):
        extracted = extract_pdf(raw, name=path)
        return Document(extracted.text, name, extracted.format, extracted.pages)
    text = decode(raw, STDIN_NAME if path == STDIN else path)
    if path == STDIN:
        return Document.from_text(text, name=STDIN_NAME, fmt=input_format)
    return Document.from_text(text, name=name, fmt=input_format, path=path)


def load_source(location: str, *, fetcher: Fetcher | None = None, input_format: str = AUTO,
                max_bytes: int = MAX_INPUT_BYTES, max_pdf_bytes: int = FETCH_MAX_BYTES,
                deadline: float | None = None) -> Document:
    """A source named by an http(s) URL (fetched, its main text extracted, named by the
    URL) or by a path (:func:`read_document`).

    Args:
        location: a URL, a file path, or ``-``.
        fetcher: fetches URLs (default: the on-disk cache, see ``nli_check.sources.cache``).
        input_format: the format of files; a fetched page's content type tells its own.
        max_bytes, max_pdf_bytes: larger text files, larger PDF files are refused.
        deadline: a ``time.monotonic()`` instant a fetch must end by (None: the fetcher's
            own time limit).

    Returns:
        The :class:`Document`; every failure is one :class:`InputError` naming the location.
    """
    if not is_url(location):
        return read_document(location, input_format=input_format, max_bytes=max_bytes, max_pdf_bytes=max_pdf_bytes)
    return fetch_document(location, fetcher=fetcher, deadline=deadline)


def fetch_document(url: str, *, fetcher: Fetcher | None = None, deadline: float | None = None) -> Document:
    """A source named by an http(s) URL, fetched (never a file: the web app's way in),
    its text extracted by content type, named by the URL. Arguments as :func:`load_source`;
    ``deadline`` (a ``time.monotonic()`` instant) ends the fetch sooner than its own limit."""
    if not is_url(url):
        raise InputError(f"{url}: only http and https URLs can be fetched")
    fetched = (fetcher or Fetcher(cache=SourceCache())).get(url, deadline=deadline)
    extracted = extract(fetched.body, kind=fetched.kind, name=url, charset=fetched.charset)
    return Document(extracted.text, url, extracted.format, extracted.pages)


def cited_sources(article: Document, locations: Sequence[str] = (), *, base: Path | None, fetcher: Fetcher | None = None,
                  documents: Sequence[Document] = (), input_format: str = AUTO, max_bytes: int = MAX_INPUT_BYTES,
                  max_pdf_bytes: int = FETCH_MAX_BYTES, max_sources: int | None = None,
                  links_root: Path | None = None, budget: WordBudget | None = None,
                  deadline: float | None = None) -> tuple[list[Document], Citations, list[str]]:
    """The sources an article links to (URLs, and files beside it), loaded, with where
    the article cites each, then the sources in ``locations`` and ``documents`` (cited by
    no link).

    Args:
        article: the article (Markdown, HTML or text).
        locations: more sources (URLs or paths), checked with the claims that cite none.
        base: the folder relative links are files in; None: only URLs are followed, and
            ``locations`` must be URLs (the web app reads no file named by a request).
        documents: sources already read (e.g. pasted into the web app).
        fetcher, input_format, max_bytes, max_pdf_bytes: as :func:`load_source`.
        max_sources: more distinct sources than this are refused before any is fetched.
        links_root: the folder a linked file must lie in, symbolic links resolved
            (default: ``base``); a link outside it, or an absolute one, is refused with a warning.
        budget: counts the words read, and stops the reading once they pass its limit.
        deadline: a ``time.monotonic()`` instant every fetch must end by.

    Returns:
        The sources, the :class:`Citations` of the article, and warnings (links not used).
    """
    found = find_links(article.text, article.format)
    warnings, resolved = [], {}
    root = (links_root or base).resolve() if base is not None else None
    for target in found.targets:
        if is_url(target):
            resolved[target] = target
            continue
        if base is None:
            warnings.append(f"{article.name}: the link {target!r} is not an http(s) URL, and this server reads no "
                            f"file; not used")
            continue
        path, refusal = local_link(target, base=base, root=root)
        if refusal:
            warnings.append(f"{article.name}: the link {target!r} {refusal}; not used")
        else:
            resolved[target] = str(path)
    order = list(dict.fromkeys([*resolved.values(), *locations]))
    if not order and not documents:
        raise InputError(f"{article.name}: no link to a source found, and no other source given")
    if max_sources is not None and len(order) + len(documents) > max_sources:
        raise InputError(f"{article.name}: {len(order) + len(documents)} linked and given sources; "
                         f"at most {max_sources} per check")
    sources = []
    budget = budget or WordBudget(None)
    for document in documents:
        _count(budget, document)
    for location in order:
        if base is None and not is_url(location):  # the web app: no file named by a request is read
            raise InputError(f"{location}: only http and https URLs can be fetched")
        try:
            sources.append(_count(budget, load_source(location, fetcher=fetcher, input_format=input_format,
                                                      max_bytes=max_bytes, max_pdf_bytes=max_pdf_bytes,
                                                      deadline=deadline)))
        except InputError as error:
            linked = location in resolved.values()
            raise InputError(f"{article.name}: cited source {error}" if linked else str(error)) from None
    index = {location: number for number, location in enumerate(order)}
    citations = Citations(tuple(Citation(index[resolved[link.target]], link.start, link.end, *link.paragraph)
                                for link in found.links if link.target in resolved),
                          tuple(found.references))
    return [*sources, *documents], citations, warnings


def _count(budget: WordBudget, document: Document) -> Document:
    budget.add(document.text, fmt=document.format, name=document.name)
    return document


def local_link(target: str, *, base: Path, root: Path) -> tuple[Path | None, str | None]:
    """The file a relative link names, or why it is refused: an absolute path, a ``..``
    step, or a file that (symbolic links resolved) lies outside ``root``."""
    written = unquote(target).replace("\\", "/")
    if written.startswith("/") or PureWindowsPath(written).drive:
        return None, "is an absolute path (links are read only from files beside the article)"
    if ".." in PurePosixPath(written).parts:
        return None, "leaves the article's folder (..)"
    path = (base / written).resolve()
    if not path.is_relative_to(root):
        return None, f"leads outside {root} (through a symbolic link); --links-root allows another folder"
    if not path.is_file():
        return None, "is neither an http(s) URL nor a file beside the article"
    return path, None


@dataclass(frozen=True)
class CheckedFiles:
    report: Report
    article: Document
    sources: list[Document]


@dataclass(frozen=True)
class Inputs:
    """An article and its sources, read; with the article's citations when the sources
    came from its links, and warnings about links that were not used."""

    article: Document
    sources: list[Document]
    citations: Citations | None = None
    warnings: list[str] = field(default_factory=list)


def check_documents(checker, article: Document, sources: Sequence[Document], *,
                    citations: Citations | None = None, cancel: threading.Event | None = None) -> Report:
    """Check ``article`` against ``sources`` with a loaded :class:`~nli_check.Checker`;
    with ``citations``, each claim against the sources it cites (``cancel``: see
    :meth:`~nli_check.Checker.check`)."""
    return checker.check(article.text, [source.text for source in sources], article_format=article.format,
                         source_formats=[source.format for source in sources],
                         source_names=[source.name for source in sources], article_name=article.name,
                         source_pages=[source.pages for source in sources], citations=citations, cancel=cancel)


def check_inputs(checker, inputs: Inputs) -> Report:
    """:func:`check_documents` on what :func:`read_inputs` read; its warnings come first."""
    report = check_documents(checker, inputs.article, inputs.sources, citations=inputs.citations)
    report.warnings[:0] = inputs.warnings
    return report


def read_inputs(article: str, sources: Sequence[str], *, input_format: str = AUTO, max_bytes: int = MAX_INPUT_BYTES,
                sources_from_links: bool = False, fetcher: Fetcher | None = None,
                max_pdf_bytes: int = FETCH_MAX_BYTES, max_words: int | None = MAX_CHECK_WORDS,
                links_root: Path | None = None) -> Inputs:
    """The article and every source read (files) or fetched (URLs) before any model work,
    so a bad one stops a run at once. Arguments as :func:`check_files`."""
    if [article, *sources].count(STDIN) > 1:
        raise InputError("only one of ARTICLE and --source can be read from standard input (-)")
    budget = WordBudget(max_words)
    article_document = _count(budget, read_document(article, input_format=input_format, max_bytes=max_bytes,
                                                max_pdf_bytes=max_pdf_bytes))
    options = {"fetcher": fetcher, "input_format": input_format, "max_bytes": max_bytes, "max_pdf_bytes": max_pdf_bytes}
    if sources_from_links:
        base = Path.cwd() if article == STDIN else Path(article).resolve().parent
        found, citations, warnings = cited_sources(article_document, sources, base=base, links_root=links_root,
                                                   budget=budget, **options)
        return Inputs(article_document, found, citations, warnings)
    return Inputs(article_document, [_count(budget, load_source(location, **options)) for location in sources])


def check_files(checker, *, article: str, sources: Sequence[str], input_format: str = AUTO,
                max_bytes: int = MAX_INPUT_BYTES, sources_from_links: bool = False,
                fetcher: Fetcher | None = None, max_pdf_bytes: int = FETCH_MAX_BYTES,
                links_root: Path | None = None) -> CheckedFiles:
    """Read the article and its sources, then check.

    Args:
        checker: a loaded :class:`~nli_check.Checker`.
        article: the article's path (``-``: standard input).
        sources: the cited sources: paths (one of all the paths may be ``-``), PDFs, or
            http(s) URLs.
        input_format: ``"auto"`` (by file name, else content) or one of segment.FORMATS, for all files.
        max_bytes: a larger text file is refused.
        sources_from_links: also take the sources the article links to, and check each
            claim against the sources its sentence or paragraph cites.
        fetcher: fetches URLs (limits, cache, refresh); default: limits of config, on-disk cache.
        max_pdf_bytes: a larger PDF file is refused.
        links_root: with ``sources_from_links``, the folder linked files must lie in
            (default: the article's folder).

    Returns:
        The report, with the documents it was made from; more words in all than the
        checker's ``max_words`` are refused as they are read.
    """
    inputs = read_inputs(article, sources, input_format=input_format, max_bytes=max_bytes,
                         sources_from_links=sources_from_links, fetcher=fetcher, max_pdf_bytes=max_pdf_bytes,
                         max_words=checker.settings.max_words, links_root=links_root)
    return CheckedFiles(check_inputs(checker, inputs), inputs.article, inputs.sources)
