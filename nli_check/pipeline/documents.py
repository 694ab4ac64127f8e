"""Documents in: an article and its sources as files or texts, each with a name and a
format, checked with one call. The command line, the web app and the examples all come
through here, so a file reaches a report one way only.

Examples:
    >>> checked = check_files(Checker(), article="seeds/article.txt", sources=["seeds/source.txt"])
    >>> checked.report.summary
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nli_check.config import MAX_INPUT_BYTES
from nli_check.errors import InputError
from nli_check.inputs import STDIN, read_text
from nli_check.pipeline.results import Report
from nli_check.pipeline.segment import FORMATS, detect_format

AUTO = "auto"  # a document's format told by its name, else its content
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class Document:
    """A text to check, or to check against, with the name reports give it."""

    text: str
    name: str
    format: str  # one of segment.FORMATS

    @classmethod
    def from_text(cls, text: str, *, name: str, fmt: str = AUTO, path: str | None = None) -> Document:
        """``fmt`` ``"auto"`` is told from ``path`` (a file name), else from the text."""
        if fmt != AUTO and fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected auto or one of {', '.join(FORMATS)}")
        return cls(text, name, detect_format(path, text) if fmt == AUTO else fmt)


def read_document(path: str, *, input_format: str = AUTO, max_bytes: int = MAX_INPUT_BYTES) -> Document:
    """A file (``-``: standard input) as a :class:`Document` named by its file name;
    every way the file can be unusable is one :class:`InputError` naming it."""
    text = read_text(path, max_bytes=max_bytes)
    if path == STDIN:
        return Document.from_text(text, name=STDIN_NAME, fmt=input_format)
    return Document.from_text(text, name=Path(path).name, fmt=input_format, path=path)


@dataclass(frozen=True)
class CheckedFiles:
    report: Report
    article: Document
    sources: list[Document]


def check_documents(checker, article: Document, sources: Sequence[Document]) -> Report:
    """Check ``article`` against ``sources`` with a loaded :class:`~nli_check.Checker`."""
    return checker.check(article.text, [source.text for source in sources], article_format=article.format,
                         source_formats=[source.format for source in sources],
                         source_names=[source.name for source in sources], article_name=article.name)


def read_documents(article: str, sources: Sequence[str], *, input_format: str = AUTO,
                   max_bytes: int = MAX_INPUT_BYTES) -> tuple[Document, list[Document]]:
    """The article and source files read, every one, before any model work (so a bad
    file stops a run at once). Arguments as :func:`check_files`."""
    if [article, *sources].count(STDIN) > 1:
        raise InputError("only one of ARTICLE and --source can be read from standard input (-)")
    return (read_document(article, input_format=input_format, max_bytes=max_bytes),
            [read_document(path, input_format=input_format, max_bytes=max_bytes) for path in sources])


def check_files(checker, *, article: str, sources: Sequence[str], input_format: str = AUTO,
                max_bytes: int = MAX_INPUT_BYTES) -> CheckedFiles:
    """Read the article and source files, then check.

    Args:
        checker: a loaded :class:`~nli_check.Checker`.
        article: the article's path (``-``: standard input).
        sources: the cited sources' paths (one of all the paths may be ``-``).
        input_format: ``"auto"`` (by file name, else content) or one of segment.FORMATS, for all files.
        max_bytes: a larger file is refused.

    Returns:
        The report, with the documents it was made from.
    """
    article_document, source_documents = read_documents(article, sources, input_format=input_format,
                                                        max_bytes=max_bytes)
    return CheckedFiles(check_documents(checker, article_document, source_documents), article_document,
                        source_documents)
