"""Pre-publication check of Markdown articles, for a pre-commit hook or a CI step.

Each article names its sources in YAML front matter, as paths relative to the article:

    ---
    title: Japan's defence ministry on Russia
    sources:
      - ../../seeds/source.txt
    ---
    The Japanese Ministry of Defense has recently highlighted ...

Usage (files, or folders searched for *.md):

    python examples/check_articles.py ARTICLE_OR_FOLDER ... [--fail-on contradicted]
        [--markdown comment.md] [--html-dir reports/] [--model PATH] [--embedding-model PATH]

The models load once for all articles. Writes one Markdown section per article (to
standard output, or --markdown: ready for a pull-request comment) and, with --html-dir,
an HTML report per article for the editor. Exit codes as ``nli-check check``: 0 done,
1 some claim's label is in --fail-on, 2 an article or source that cannot be used (one
line naming it; nothing is written).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from nli_check.config import MAX_INPUT_BYTES
from nli_check.errors import InputError
from nli_check.inputs import read_text, write_atomically
from nli_check.labels import VERDICTS
from nli_check.pipeline.documents import Document, check_documents, read_document

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)


def split_front_matter(text: str, name: str) -> tuple[dict, str, int]:
    """The YAML front matter (a mapping), the article body after it and the line the
    body starts on (so that messages can name lines of the file)."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise InputError(f"{name}: no front matter (a '---' block naming the sources) at the top")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark else ""
        raise InputError(f"{name}:{where} front matter is not valid YAML ({getattr(error, 'problem', error)})") \
            from None
    if not isinstance(meta, dict):
        raise InputError(f"{name}: front matter must be a mapping with a 'sources' list")
    return meta, text[match.end():], text[:match.end()].count("\n")


def article_sources(meta: dict, article: Path) -> list[Path]:
    sources = meta.get("sources")
    if isinstance(sources, str):
        sources = [sources]
    if not sources or not all(isinstance(s, str) for s in sources):
        raise InputError(f"{article}: front matter has no 'sources' list of file paths")
    return [article.parent / source for source in sources]


def collect(paths: list[str]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(path.rglob("*.md"))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="Markdown articles, or folders of them")
    parser.add_argument("--fail-on", default="contradicted", help="comma-separated labels that fail the check")
    parser.add_argument("--markdown", type=Path, default=None, help="write the Markdown here (default: stdout)")
    parser.add_argument("--html-dir", type=Path, default=None, help="write an HTML report per article here")
    parser.add_argument("--model", default=None)
    parser.add_argument("--embedding-model", default="minilm")
    args = parser.parse_args(argv)
    fail_on = {label.strip() for label in args.fail_on.split(",") if label.strip()}
    if fail_on - set(VERDICTS):
        parser.error(f"--fail-on: unknown label(s) {', '.join(sorted(fail_on - set(VERDICTS)))}")

    try:
        # Read and validate every article and source before the models load.
        jobs = []
        for article in collect(args.paths):
            meta, body, skipped = split_front_matter(read_text(str(article), max_bytes=MAX_INPUT_BYTES), str(article))
            sources = article_sources(meta, article)
            try:
                documents = [read_document(str(source)) for source in sources]
            except InputError as error:
                raise InputError(f"{article}: cited source {error}") from None
            jobs.append((Document(body, article.name, "markdown"), meta, article, skipped, documents))
        if args.html_dir is not None and not args.html_dir.is_dir():
            raise InputError(f"{args.html_dir}: no such folder (for --html-dir)")

        from nli_check.offline import prepare_model_libraries
        from nli_check.pipeline.checker import Checker
        from nli_check.render.html import render_html
        from nli_check.render.text import render

        prepare_model_libraries()
        checker = Checker(model=args.model, embedding_model=args.embedding_model)
        sections, html, failed = [], {}, []
        for document, meta, article, skipped, sources in jobs:
            report = check_documents(checker, document, sources)
            body = document.text
            title = str(meta.get("title") or article)
            table = render(report, "markdown").split("\n", 1)[1]  # drop its own "## nli-check" heading
            sections.append(f"### {article}\n{table}")
            if args.html_dir is not None:
                html[args.html_dir / f"{article.stem}.html"] = render_html(report, article=body,
                                                                           title=f"nli-check: {title}")
            failed += [f"{article}:{skipped + body[:c.start].count(chr(10)) + 1}: sentence {c.index + 1} is {c.label}"
                       for c in report.claims if c.label in fail_on]
    except InputError as error:
        print(f"check_articles: error: {error}", file=sys.stderr)
        return 2

    markdown = f"## nli-check: {len(jobs)} article(s)\n\n" + "\n".join(sections)
    if args.markdown is not None:
        write_atomically(args.markdown, markdown)
    else:
        sys.stdout.write(markdown)
    for path, page in html.items():
        write_atomically(path, page)
    for line in failed:
        print(f"check_articles: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
