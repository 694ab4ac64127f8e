"""The ``nli-check`` command line: thin wrappers (click) over plain library functions.

Exit codes: 0 done; 1 a claim's label is in ``--fail-on``; 2 a usage or input error.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from nli_check.config import LABELS, MAX_INPUT_BYTES, Settings
from nli_check.errors import InputError

EXIT_FAIL_ON, EXIT_INPUT = 1, 2


def _fail(message: str) -> None:
    click.echo(f"nli-check: error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _labels(value: str | None) -> set[str]:
    if not value:
        return set()
    labels = {part.strip() for part in value.split(",") if part.strip()}
    unknown = labels - set(LABELS)
    if unknown:
        raise click.BadParameter(f"unknown label(s) {', '.join(sorted(unknown))}; expected some of {', '.join(LABELS)}")
    return labels


@click.group()
@click.version_option(package_name="nli-check")
def main() -> None:
    """Check whether cited sources support, contradict, or do not back an article's claims."""
    # Models load from local folders; never wait on a hub that this machine cannot reach.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


@main.command()
@click.argument("article")
@click.option("--source", "sources", multiple=True, required=True, help="A cited source file (repeatable; - is stdin).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--fail-on", default="", help="Exit 1 if any claim gets one of these labels, e.g. contradicted,unsupported.")
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model folder for pairing.")
@click.option("--input-format", type=click.Choice(["auto", "text", "markdown", "html"]), default="auto",
              show_default=True, help="Format of the article and sources (auto: from the file name).")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Source sentences paired with each claim.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@click.option("--max-input-mb", type=click.FloatRange(0.001), default=MAX_INPUT_BYTES / 1e6, show_default=True,
              help="Refuse input files larger than this.")
@click.option("--no-explain", is_flag=True, help="Skip marking the unsupported words (faster).")
def check(article, sources, fmt, output, fail_on, model, embedding_model, input_format, top_k, device,
          max_input_mb, no_explain) -> None:
    """Check ARTICLE's claims against each --source."""
    from nli_check.checker import Checker
    from nli_check.inputs import STDIN, read_text, write_atomically
    from nli_check.report import render
    from nli_check.segment import detect_format
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # keep stderr for our own messages
    fail_labels = _labels(fail_on)
    if [article, *sources].count(STDIN) > 1:
        raise click.UsageError("only one of ARTICLE and --source can be read from standard input (-)")
    max_bytes = int(max_input_mb * 1e6)
    try:
        article_text = read_text(article, max_bytes=max_bytes)
        source_texts = [read_text(path, max_bytes=max_bytes) for path in sources]

        def format_of(path: str, text: str) -> str:
            return detect_format(None if path == STDIN else path, text) if input_format == "auto" else input_format

        checker = Checker(model=model, embedding_model=embedding_model, device=device,
                          settings=Settings().with_overrides(top_k=top_k, explain=not no_explain))
        report = checker.check(article_text, source_texts, article_format=format_of(article, article_text),
                               source_formats=[format_of(p, t) for p, t in zip(sources, source_texts)],
                               source_names=[Path(p).name if p != STDIN else "<stdin>" for p in sources],
                               article_name=Path(article).name if article != STDIN else "<stdin>")
        colour = output is None and fmt == "text" and sys.stdout.isatty()
        rendered = render(report, fmt, colour=colour)
        if output is not None:
            write_atomically(output, rendered)
        else:
            click.echo(rendered, nl=False)
    except InputError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{getattr(error, 'filename', None) or 'output'}: {error.strerror or error}")
    for warning in report.warnings:
        click.echo(f"nli-check: warning: {warning}", err=True)
    if fail_labels & {claim.label for claim in report.claims}:
        sys.exit(EXIT_FAIL_ON)


@main.command()
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="Folder of the labelled sets.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the trained model folder goes.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/train"),
              show_default=True, help="Checkpoints; a rerun with the same workdir resumes.")
@click.option("--base", default="minilm", show_default=True, help="Base encoder: minilm or a local folder.")
@click.option("--max-steps", type=int, default=-1, help="Stop after this many steps (default: one epoch).")
@click.option("--no-embellish", is_flag=True, help="Leave out the generated embellishment pairs.")
@click.option("--seed", type=int, default=13, show_default=True, help="Seeds data sampling, order and init.")
@click.option("--learning-rate", type=float, default=5e-5, show_default=True)
def train(data_root, output, workdir, base, max_steps, no_embellish, seed, learning_rate) -> None:
    """Train the NLI model from the labelled sets (the recipe of the shipped model)."""
    from nli_check.train import TrainConfig
    from nli_check.train import train as run_training

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = TrainConfig(base_model=base, seed=seed, learning_rate=learning_rate)
    if no_embellish:
        config.embellish_neutral = config.embellish_contradiction = 0
    try:
        run_training(data_root=data_root, output=output, workdir=workdir, config=config, max_steps=max_steps)
    except InputError as error:
        _fail(str(error))


def run() -> None:
    """Console entry point: every usage error is one line on stderr and exit 2."""
    try:
        result = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("nli-check: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        hint = f" (try '{error.ctx.command_path} --help')" if getattr(error, "ctx", None) else ""
        click.echo(f"nli-check: error: {error.format_message()}{hint}", err=True)
        sys.exit(EXIT_INPUT)
    sys.exit(result if isinstance(result, int) else 0)
