"""The ``nli-check`` command line: thin wrappers (click) over plain library functions.

Exit codes: 0 done; 1 a claim's label is in ``--fail-on``; 2 a usage or input error.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from nli_check.config import (DEFAULT_BACKEND, DEFAULT_MODES, DEFAULT_PRECISION, FETCH_MAX_BYTES, FETCH_TIMEOUT_S,
                              MARK_PAIRS_PER_RULE, MARK_RECALL_FLOOR, MAX_CHECK_WORDS, MODES,
                              MAX_INPUT_BYTES, TRAIN_CHECKPOINT_ABOVE_TOKENS, TRAIN_MIXES, ServeSettings, Settings,
                              learned_verdict_setting)
from nli_check.errors import InputError
from nli_check.labels import VERDICTS
from nli_check.precision import PRECISIONS, TRAIN_PRECISIONS
from nli_check.runtime.encoders import BACKENDS

EXIT_FAIL_ON, EXIT_INPUT = 1, 2

# Shared by train and distil.
precision_option = click.option(
    "--precision", type=click.Choice(TRAIN_PRECISIONS), default=DEFAULT_PRECISION, show_default=True,
    help="auto: bfloat16 where the CPU/GPU has it natively (2-3x faster), else float32.")


def runtime_options(command):
    """--precision and --backend: how the models run (check, eval, batch, serve, export)."""
    command = click.option(
        "--backend", type=click.Choice(BACKENDS), default=DEFAULT_BACKEND, show_default=True,
        help="auto: OpenVINO on a CPU where it is installed (IR exported once into a cache), PyTorch on a GPU.")(command)
    return click.option(
        "--precision", type=click.Choice(PRECISIONS), default=DEFAULT_PRECISION, show_default=True,
        help="auto: bfloat16 where the CPU/GPU has it natively, else int8 where the model's verdicts hold in it "
             "(its nli_check.json says so), else float32. int8: static int8 on OpenVINO.")(command)


# Shared by check and eval.
verdict_option = click.option(
    "--verdict", type=click.Choice(["thresholds", "learned"]), default=None,
    help="learned: the head stored beside the model (verdict_head.json, from nli-check fit-verdict) where there "
         "is one; thresholds: the two thresholds stored with the model. Default: learned.")


# Shared by check and eval: how much work is skipped before and during NLI (Settings).
_DEFAULTS = Settings()
first_stage_option = click.option(
    "--first-stage-cut", type=click.IntRange(min=0), default=_DEFAULTS.first_stage_cut, show_default=True,
    help="Source sentences each claim keeps by a cheap ranking (static vectors + BM25) before MiniLM embeds "
         "them, with their neighbours; 0 embeds every source sentence.")
early_exit_option = click.option(
    "--no-early-exit", is_flag=True,
    help="Score every candidate of every claim (by default a claim whose best match already entails it stops there).")
accurate_model_option = click.option(
    "--accurate-model", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
    help="A cascade: claims --model decides close to a threshold are decided again by this slower, more "
         "accurate NLI model (e.g. the mpnet teacher of make teacher).")
cascade_margin_option = click.option(
    "--cascade-margin", type=click.FloatRange(0, 1), default=_DEFAULTS.cascade_margin, show_default=True,
    help="With --accurate-model: how close to another verdict a claim must be to be scored again (the head's "
         "p(supported) to the likeliest other verdict; by thresholds, the best probability to its threshold).")


def mode_option(command_name: str):
    """--mode, whose default is the command's own (config.DEFAULT_MODES), or cascade where
    --accurate-model is given (a cascade is what it asks for)."""
    def resolve(ctx, _param, value):
        if value is not None:
            return value
        return "cascade" if ctx.params.get("accurate_model") is not None else DEFAULT_MODES[command_name]

    return click.option(
        "--mode", type=click.Choice(MODES), default=None, callback=resolve,
        help=f"Which model decides: fast (the shipped MiniLM), accurate (the strong mpnet model, several times "
             f"slower), cascade (MiniLM, its close calls decided again by the strong model). --model replaces "
             f"the deciding model, --accurate-model a cascade's second one. [default: "
             f"{DEFAULT_MODES[command_name]}; cascade with --accurate-model]")


max_words_option = click.option(
    "--max-words", type=click.IntRange(min=1), default=MAX_CHECK_WORDS, show_default=True,
    help="Refuse a check whose article and sources (fetched ones included) come to more words than this.")


def stages_option(command):
    """--resume and --stage-minutes, shared by train and distil."""
    command = click.option("--stage-minutes", type=click.FloatRange(min=1), default=None,
                           help="End this stage with a checkpoint after this much wall time (continue with "
                                "--resume).")(command)
    return click.option("--resume", is_flag=True,
                        help="Continue the run whose checkpoints are in --workdir (same settings).")(command)


def _train_workdir(workdir: Path | None, output: Path) -> Path:
    """A training run's work folder: the one given, else one per output name, outside the repository."""
    return workdir or Path.home() / ".cache" / "nli-check" / "train" / output.resolve().name


def _fail(message: str) -> None:
    click.echo(f"nli-check: error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _labels(value: str | None) -> set[str]:
    if not value:
        return set()
    labels = {part.strip() for part in value.split(",") if part.strip()}
    unknown = labels - set(VERDICTS)
    if unknown:
        raise click.BadParameter(f"unknown label(s) {', '.join(sorted(unknown))}; expected some of {', '.join(VERDICTS)}")
    return labels


@click.group()
@click.version_option(package_name="nli-check")
def main() -> None:
    """Check whether cited sources support, contradict, or do not back an article's claims."""
    from nli_check.offline import prepare_model_libraries

    prepare_model_libraries()


@main.command()
@click.argument("article")
@click.option("--source", "sources", multiple=True,
              help="A cited source: a text, Markdown, HTML or PDF file, or an http(s) URL (repeatable; - is stdin).")
@click.option("--sources-from-links", is_flag=True,
              help="Take the sources from the article's links and footnotes; check each claim against the "
                   "sources its sentence or paragraph cites.")
@click.option("--refresh", is_flag=True, help="Fetch URL sources again instead of using the on-disk cache.")
@click.option("--fetch-timeout", type=click.FloatRange(0.1), default=FETCH_TIMEOUT_S, show_default=True,
              help="Seconds to connect, for each read, and for a whole fetch.")
@click.option("--max-fetch-mb", type=click.FloatRange(0.001), default=FETCH_MAX_BYTES / 1e6, show_default=True,
              help="Refuse fetched pages and PDF files larger than this.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True, help="html: one self-contained page for an editor (with --output).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--fail-on", default="", help="Exit 1 if any claim gets one of these labels, e.g. contradicted,unsupported.")
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model folder for pairing.")
@click.option("--input-format", type=click.Choice(["auto", "text", "markdown", "html"]), default="auto",
              show_default=True, help="Format of the article and sources (auto: from the file name).")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Source sentences paired with each claim.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@runtime_options
@click.option("--max-input-mb", type=click.FloatRange(0.001), default=MAX_INPUT_BYTES / 1e6, show_default=True,
              help="Refuse input files larger than this.")
@max_words_option
@click.option("--links-root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="With --sources-from-links: the folder linked files may lie in (default: the article's folder).")
@click.option("--no-explain", is_flag=True, help="Skip marking the unsupported words (faster).")
@verdict_option
@first_stage_option
@early_exit_option
@accurate_model_option
@cascade_margin_option
@mode_option("check")
def check(article, sources, sources_from_links, refresh, fetch_timeout, max_fetch_mb, fmt, output, fail_on, model,
          embedding_model, input_format, top_k, device, precision, backend, max_input_mb, max_words, links_root, no_explain,
          verdict, first_stage_cut, no_early_exit, accurate_model, cascade_margin, mode) -> None:
    """Check ARTICLE's claims against each --source (or the sources it links to)."""
    from nli_check.inputs import write_atomically
    from nli_check.pipeline.checker import Checker
    from nli_check.pipeline.documents import check_inputs, read_inputs
    from nli_check.render.text import render
    from nli_check.sources.cache import Fetcher, SourceCache
    from nli_check.sources.fetch import FetchLimits

    fail_labels = _labels(fail_on)
    if not sources and not sources_from_links:
        raise click.UsageError("give at least one --source, or --sources-from-links")
    # The user's own fetches: intranet and local addresses are allowed (the web app refuses them).
    fetcher = Fetcher(limits=FetchLimits(timeout_s=fetch_timeout, max_bytes=int(max_fetch_mb * 1e6)),
                      cache=SourceCache(), refresh=refresh)
    try:
        inputs = read_inputs(article, sources, input_format=input_format, max_bytes=int(max_input_mb * 1e6),
                             sources_from_links=sources_from_links, fetcher=fetcher,
                             max_pdf_bytes=int(max_fetch_mb * 1e6), max_words=max_words, links_root=links_root)
        checker = Checker(model=model, embedding_model=embedding_model, device=device, precision=precision,
                          backend=backend, settings=Settings().with_overrides(top_k=top_k, explain=not no_explain, max_words=max_words,
                                                             learned_verdict=learned_verdict_setting(verdict),
                                                             first_stage_cut=first_stage_cut,
                                                             early_exit=not no_early_exit,
                                                             cascade_margin=cascade_margin),
                          accurate_model=accurate_model, mode=mode)
        report = check_inputs(checker, inputs)
        article_document = inputs.article
        if fmt == "html":  # the article text restores its paragraphs in the page
            from nli_check.render.html import render_html

            rendered = render_html(report, article=article_document.text, title=f"nli-check: {article_document.name}")
        else:
            rendered = render(report, fmt, colour=output is None and fmt == "text" and sys.stdout.isatty())
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
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the trained model folder goes.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Checkpoints, stage log and stage models [default: ~/.cache/nli-check/train/<output name>].")
@stages_option
@click.option("--base", default="minilm", show_default=True,
              help="Base encoder: minilm, mpnet (make teacher-base installs it) or a local folder.")
@click.option("--max-steps", type=int, default=-1, help="Steps in the whole schedule (default: one epoch).")
@click.option("--no-embellish", is_flag=True, help="Leave out the generated embellishment pairs.")
@click.option("--mix", type=click.Choice(list(TRAIN_MIXES)), default="default", show_default=True,
              help="Pairs taken per dataset (config.TRAIN_MIXES): the shipped mix, claim sets first, or all general NLI.")
@click.option("--seed", type=int, default=13, show_default=True, help="Seeds data sampling, order and init.")
@click.option("--learning-rate", type=float, default=5e-5, show_default=True)
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Passes over the mix (the schedule's length unless --max-steps).")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--write-pairs", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Only build the mix and write it here (JSON Lines, .gz to compress), to train elsewhere.")
@click.option("--pairs", "pairs_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Train on the pairs of a --write-pairs file instead of building the mix from --data.")
@click.option("--checkpoint-above-tokens", type=click.IntRange(min=-1), default=TRAIN_CHECKPOINT_ABOVE_TOKENS, show_default=True,
              help="Recompute activations for batches with more padded tokens than this (bounds memory; "
                   "same gradients); 0: every batch, -1: never.")
@precision_option
def train(data_root, output, workdir, resume, stage_minutes, base, max_steps, no_embellish, mix, seed,
          learning_rate, epochs, batch_size, write_pairs, pairs_file, checkpoint_above_tokens, precision) -> None:
    """Train the NLI model from the labelled sets (the recipe of the shipped model)."""
    from nli_check.datasets.nli_pairs import read_pairs
    from nli_check.datasets.nli_pairs import write_pairs as store_pairs
    from nli_check.training.train import TrainConfig, training_pairs
    from nli_check.training.train import train as run_training

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = TrainConfig(base_model=base, seed=seed, learning_rate=learning_rate, mix=mix, precision=precision,
                         epochs=epochs, batch_size=batch_size,
                         checkpoint_above_tokens=None if checkpoint_above_tokens == -1 else checkpoint_above_tokens)
    if no_embellish:
        config.embellish_neutral = config.embellish_contradiction = 0
    if output is None and write_pairs is None:
        raise click.UsageError("give --output (the model folder to write), or --write-pairs")
    try:
        if write_pairs is not None:
            pairs, _ = training_pairs(data_root, config)
            store_pairs(pairs, write_pairs)
            click.echo(f"nli-check: {len(pairs)} pairs of mix {mix} written to {write_pairs}", err=True)
            return
        run_training(data_root=data_root, output=output, config=config, max_steps=max_steps, resume=resume,
                     workdir=_train_workdir(workdir, output), stage_minutes=stage_minutes,
                     pairs=None if pairs_file is None else read_pairs(pairs_file))
    except InputError as error:
        _fail(str(error))


@main.command()
@click.option("--teacher", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="The teacher model folder (e.g. the mpnet model of make teacher).")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="Folder of the labelled sets.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the student model folder goes.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Pairs, teacher targets, checkpoints, stage log [default: ~/.cache/nli-check/train/<output name>].")
@click.option("--base", default="minilm", show_default=True,
              help="The student's starting point: minilm, or a model folder (the shipped model continues).")
@click.option("--mix", type=click.Choice(list(TRAIN_MIXES)), default="teacher", show_default=True,
              help="The labelled pairs (config.TRAIN_MIXES).")
@click.option("--checker-claims", type=click.IntRange(min=0), default=3000, show_default=True,
              help="Claims of the training sets whose checker-formed pairs the teacher also labels.")
@click.option("--gold-weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="The gold label's share of the loss where a pair has one.")
@click.option("--temperature", type=click.FloatRange(min=1), default=1.0, show_default=True,
              help="Soften the teacher's and the student's distributions by this much in the soft loss.")
@click.option("--labelled-fraction", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True,
              help="Take this share of each labelled dataset of --mix (a student that starts from a trained "
                   "model needs less of it).")
@stages_option
@click.option("--max-steps", type=int, default=-1, help="Steps in the whole schedule (default: one epoch).")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--learning-rate", type=float, default=5e-5, show_default=True)
@precision_option
@click.option("--progress/--no-progress", default=None)
def distil(teacher, data_root, output, workdir, base, mix, checker_claims, gold_weight, temperature,
           labelled_fraction, resume, stage_minutes, max_steps, seed, learning_rate, precision, progress) -> None:
    """Distil a teacher NLI model into a student: the teacher labels the training mix and
    checker-formed pairs, the student learns its probabilities (and the gold labels)."""
    from nli_check.training.distil import distil as run_distil
    from nli_check.training.distil import scale_mix
    from nli_check.training.train import TrainConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    show = sys.stderr.isatty() if progress is None else progress
    config = TrainConfig(base_model=base, mix=mix, seed=seed, learning_rate=learning_rate, precision=precision,
                         gold_weight=gold_weight, temperature=temperature)
    config = scale_mix(config, labelled_fraction)
    try:
        run_distil(data_root=data_root, teacher=teacher, output=output, config=config,
                   workdir=_train_workdir(workdir, output),
                   checker_claims=checker_claims, max_steps=max_steps, resume=resume, stage_minutes=stage_minutes,
                   precision=precision,
                   progress=(lambda what, done, total: click.echo(f"{what}: {done}/{total}", err=True))
                   if show else None)
    except InputError as error:
        _fail(str(error))


@main.command("fit-verdict")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="Folder of the labelled sets.")
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="NLI model folder the head is fitted for and written to (default: the shipped model).")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/verdict"),
              show_default=True, help="Feature pieces; a rerun with the same workdir resumes.")
@click.option("--per-label", type=click.IntRange(10), default=300, show_default=True,
              help="Claim pairs drawn per training set and verdict, at most.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--lodo", "dev_records", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="An nli-check eval output folder of the mission dev sets: add the leave-one-dataset-out table.")
@click.option("--precision", type=click.Choice(TRAIN_PRECISIONS), default=None,
              help="Precision of the features (default: float32, as the card's eval records; bfloat16 is faster "
                   "for a large model).")
@click.option("--documents/--no-documents", default=True, show_default=True,
              help="Also claims against whole documents, their own and another claim's (the shape of a check).")
@click.option("--choose-weights", is_flag=True,
              help="With --lodo: weight each claim-pair rule and training set by leave-one-dataset-out on those "
                   "dev records (both criteria: mean BAcc and mean 3-way macro-F1), and fit the head so.")
@click.option("--choose-on", type=click.IntRange(1), default=None,
              help="With --choose-weights: choose on the first N examples of each dev set and report the rest "
                   "as examples the choice did not see (default: choose on all).")
@click.option("--progress/--no-progress", default=None)
def fit_verdict_command(data_root, model, workdir, per_label, seed, dev_records, precision, documents,
                        choose_weights, choose_on, progress) -> None:
    """Fit the learned verdict (claim-level head and word marking) on claim-level training
    pairs, and store it beside the NLI model (verdict_head.json)."""
    import json

    from nli_check.config import DEV_METRICS_PRECISION, default_nli_model_path
    from nli_check.pipeline.checker import Checker
    from nli_check.pipeline.verdict import HEAD_FILE
    from nli_check.training import verdict, verdict_weights

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    model_path = model or default_nli_model_path()
    show = sys.stderr.isatty() if progress is None else progress
    if choose_weights and dev_records is None:
        _fail("--choose-weights needs --lodo: the dev records the weights are chosen on")
    try:
        checker = Checker(model=model_path, precision=precision or DEV_METRICS_PRECISION)
        thresholds = (checker.settings.entailment_threshold, checker.settings.contradiction_threshold)
        chosen = {}

        def choose(table):
            chosen.update(verdict_weights.choose_and_confirm(
                table, dev_records, contradiction_floor=thresholds[1], choose_on=choose_on,
                progress=lambda line: click.echo(f"weights: {line}", err=True)))
            return chosen["weights"]

        head, table = verdict.fit_verdict(
            data_root=data_root, checker=checker, model_folder=model_path, workdir=workdir, per_label=per_label,
            seed=seed, documents=documents, choose_weights=choose if choose_weights else None,
            progress=(lambda done, total: click.echo(f"features: {done}/{total} pairs", err=True)) if show else None)
        click.echo(f"{'training set':28} " + " ".join(f"{str(v):>13}" for v in VERDICTS))
        for name, found in verdict.counts(table).items():
            click.echo(f"{name:28} " + " ".join(f"{found[str(v)]:>13}" for v in VERDICTS))
        click.echo(f"word marking: threshold {head.word_threshold}, "
                   f"word F1 on the training pairs {head.trained_on['word_f1_on_training_pairs']:.3f}")
        click.echo(f"written to {model_path / HEAD_FILE}")
        if chosen:
            click.echo(json.dumps(verdict_weights.choice_json(chosen), indent=1))
        if dev_records is not None:
            rows = verdict.leave_one_out(table, dev_records, thresholds=thresholds, weights=chosen.get("weights"))
            path = verdict.write_transfer(model_path, rows, dev_records=dev_records,
                                          weights=verdict_weights.choice_json(chosen) if chosen else None)
            click.echo(json.dumps(rows, indent=1))
            click.echo(f"written to {path}")
    except InputError as error:
        _fail(str(error))


@main.command("fit-marking")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="Folder of the labelled sets.")
@click.option("--model", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="NLI model folder the word head is fitted for and written to (default: the shipped model).")
@click.option("--recall-floor", type=click.FloatRange(0, 1), default=MARK_RECALL_FLOOR,
              show_default=True, help="The threshold: best token precision on wice-tokens-dev at this recall.")
@click.option("--per-rule", type=click.IntRange(1), default=MARK_PAIRS_PER_RULE, show_default=True,
              help="Span-marked claim pairs drawn per training set and rule.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--precision", type=click.Choice(TRAIN_PRECISIONS), default=None,
              help="Precision of the model work (default: float32, as the card's eval records).")
@click.option("--progress/--no-progress", default=None)
def fit_marking_command(data_root, model, recall_floor, per_rule, seed, precision, progress) -> None:
    """Fit the word marking of an NLI model (which words of a claim that is not supported
    to mark) on token-annotated training claims, choose its threshold on wice-tokens-dev,
    and store it beside the model (word_head.json). Verdicts do not change."""
    from nli_check.config import DEV_METRICS_PRECISION, default_nli_model_path
    from nli_check.pipeline.checker import Checker
    from nli_check.pipeline.mark import WORD_HEAD_FILE
    from nli_check.training import marking

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    model_path = model or default_nli_model_path()
    show = sys.stderr.isatty() if progress is None else progress
    try:
        checker = Checker(model=model_path, precision=precision or DEV_METRICS_PRECISION)
        head = marking.fit_marking(
            data_root=data_root, checker=checker, model_folder=model_path, recall_floor=recall_floor,
            per_rule=per_rule, seed=seed,
            progress=(lambda name, done, total: click.echo(f"{name}: {done}/{total}", err=True)) if show else None)
        click.echo(f"trained on {head.trained_on['candidates']} candidate words "
                   f"({head.trained_on['candidates_in_gold_spans']} in gold spans)")
        chosen = head.chosen_on
        click.echo(f"threshold {head.threshold} ({chosen['rule']}): precision {chosen['precision']}, "
                   f"recall {chosen['recall']}, F1 {chosen['f1']}, marked share {chosen['marked_share']}")
        click.echo(f"written to {model_path / WORD_HEAD_FILE}")
    except InputError as error:
        _fail(str(error))


@main.command()
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model folder for pairing.")
@click.option("--accurate-model", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Also export this NLI model (a cascade's accurate model).")
@click.option("--precision", type=click.Choice(["float32", "int8"]), default="float32", show_default=True,
              help="float32 IR (also run in bfloat16 where native), or static int8.")
@mode_option("check")
def export(model, embedding_model, accurate_model, precision, mode) -> None:
    """Export the models of a mode to OpenVINO IR now (else done on first use), into the model cache."""
    from nli_check.modes import mode_models
    from nli_check.pipeline.pair import resolve_embedding_model
    from nli_check.runtime.export import exported_model
    from nli_check.runtime.folders import local_folder

    try:
        chosen = mode_models(mode, model=model, accurate_model=accurate_model)
        todo = [(chosen.model, "nli"), (resolve_embedding_model(embedding_model), "embedding")]
        todo += [(chosen.accurate_model, "nli")] if chosen.accurate_model is not None else []
        for folder, task in todo:
            path = exported_model(local_folder(folder), task=task, int8=precision == "int8")
            click.echo(f"{folder} ({task}, {precision}): {path}")
    except InputError as error:
        _fail(str(error))


@main.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the averaged model folder goes.")
def average(models, output) -> None:
    """Average the weights of two or more fine-tuned runs of one base (a model soup)."""
    from nli_check.training.train import average_models

    try:
        average_models(list(models), output)
    except InputError as error:
        _fail(str(error))


@main.command("distil-static")
@click.option("--embedding-model", default="minilm", show_default=True,
              help="The pairing model to distil (minilm or a local sentence-transformers folder).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("models/minilm-static"),
              show_default=True, help="Where the static model folder goes.")
@click.option("--dimensions", type=click.IntRange(min=8), default=256, show_default=True)
def distil_static(embedding_model, output, dimensions) -> None:
    """Distil static word vectors from the pairing model (the first stage of pairing)."""
    import json

    from nli_check.training.static import distil_static as distil

    try:
        made = distil(embedding_model=embedding_model, output=output, dimensions=dimensions)
    except InputError as error:
        _fail(str(error))
    click.echo(json.dumps(made, indent=1))


# ---- eval, calibrate (issue 4) ----

def _progress_factory(enabled: bool):
    """A tqdm bar per dataset (examples/s and ETA; claims counted in the postfix)."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    class Bar:
        def __init__(self, evalset) -> None:
            self.bar = tqdm(total=len(evalset.examples), desc=evalset.name, unit="ex", leave=False)
            self.claims = 0

        def advance(self, claims: int) -> None:
            self.claims += claims
            self.bar.set_postfix(claims=self.claims, refresh=False)
            self.bar.update(1)

        def close(self) -> None:
            self.bar.close()

    return Bar


def _load_sets(specs, data_root: Path, label_map: str | None, limit: int | None):
    from nli_check.datasets.eval_sets import load, parse_label_map

    mapping = parse_label_map(label_map)
    # Every set is read and checked before anything runs: a bad file costs no model time.
    return [load(spec, data_root=data_root, label_map=mapping, limit=limit) for spec in specs]


@main.command("eval")
@click.argument("datasets", nargs=-1, required=True)
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model for pairing.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=Path("eval/runs"),
              show_default=True, help="Metrics, predictions and plots go to OUTPUT/<dataset>/<system>/.")
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True, help="Folder of the named datasets.")
@click.option("--label-map", default=None, help="Rename labels of a file, e.g. entailment=supported,not_entailment=unsupported.")
@click.option("--baselines", is_flag=True, help="Also score the whole-source and lexical-overlap baselines.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Score only the first N examples of each set.")
@click.option("--spans/--no-spans", default=None, help="Evaluate unsupported words (default: sets that annotate them).")
@click.option("--record", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write a leaderboard record per dataset here (e.g. eval/results).")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@runtime_options
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@verdict_option
@first_stage_option
@early_exit_option
@accurate_model_option
@cascade_margin_option
@mode_option("eval")
def eval_command(datasets, model, embedding_model, output, data_root, label_map, baselines, limit, spans, record,
                 device, precision, backend, no_plots, progress, verdict, first_stage_cut, no_early_exit, accurate_model,
                 cascade_margin, mode) -> None:
    """Score the checker on labelled DATASETS: named sets (e.g. wice-dev) or generic-format files."""
    from nli_check.evaluation.evaluate import decision_rule, decision_thresholds, evaluate, headline, write_results
    from nli_check.evaluation.leaderboard import record as write_record
    from nli_check.pipeline.checker import Checker

    try:
        evalsets = _load_sets(datasets, data_root, label_map, limit)
        checker = Checker(model=model, embedding_model=embedding_model, device=device, precision=precision,
                          backend=backend, settings=Settings(learned_verdict=learned_verdict_setting(verdict),
                                            first_stage_cut=first_stage_cut, early_exit=not no_early_exit,
                                            cascade_margin=cascade_margin),
                          accurate_model=accurate_model, mode=mode)
        factory = _progress_factory(sys.stderr.isatty() if progress is None else progress)
        for evalset in evalsets:
            results = evaluate(evalset, checker, baselines=baselines, spans=spans, progress_factory=factory)
            folder = write_results(output, evalset, checker, results, plots=not no_plots)
            if record is not None:
                write_record(record, evalset, checker.model_name, results,
                             command="nli-check eval " + " ".join(sys.argv[2:]), precision=checker.nli.precision,
                             backend=checker.nli.backend,
                             thresholds=decision_thresholds(checker), verdict=decision_rule(checker))
            for result in results:
                row = headline(result)
                shown = ", ".join(f"{k} {v}" for k, v in row.items() if not k.endswith("_95"))
                click.echo(f"{evalset.name} {result.system} ({result.seconds:.1f} s): {shown}")
            click.echo(f"{evalset.name}: written to {folder}")
    except InputError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{getattr(error, 'filename', None) or 'output'}: {error.strerror or error}")


@main.command()
@click.argument("datasets", nargs=-1, required=True)
@click.option("--model", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="NLI model folder whose settings are fitted (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True)
@click.option("--data", "data_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("../shared/data"), show_default=True)
@click.option("--label-map", default=None, help="Rename labels of a file (see eval).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the first N examples of each set.")
@click.option("--dry-run", is_flag=True, help="Print before/after but do not write the model's settings.")
@click.option("--progress/--no-progress", default=None)
def calibrate(datasets, model, embedding_model, data_root, label_map, limit, dry_run, progress) -> None:
    """Fit the decision thresholds and the similarity floor on dev DATASETS, and store them
    with the model. The models run in float32 here on every machine, so that the stored
    thresholds do not depend on the CPU."""
    from nli_check.config import DEV_METRICS_PRECISION, default_nli_model_path
    from nli_check.evaluation import calibrate as calibration
    from nli_check.pipeline.checker import Checker

    model_path = model or default_nli_model_path()
    try:
        evalsets = _load_sets(datasets, data_root, label_map, limit)
        checker = Checker(model=model_path, embedding_model=embedding_model, precision=DEV_METRICS_PRECISION)
        settings = checker.settings
        current = calibration.Thresholds(settings.similarity_floor, settings.entailment_threshold,
                                         settings.contradiction_threshold)
        factory = _progress_factory(sys.stderr.isatty() if progress is None else progress)
        collected = calibration.collect(checker, evalsets, progress_factory=factory)
        three_way = {e.name for e in evalsets if e.three_way}
        fitted, objective = calibration.fit(collected, three_way, current)
        before = calibration.summary(collected, three_way, current)
        after = calibration.summary(collected, three_way, fitted)
        click.echo(f"before: floor {current.similarity_floor}, entailment {current.entailment_threshold}, "
                   f"contradiction {current.contradiction_threshold}")
        click.echo(f"after:  floor {fitted.similarity_floor}, entailment {fitted.entailment_threshold}, "
                   f"contradiction {fitted.contradiction_threshold}")
        click.echo(f"{'dataset':28} {'n':>6} {'bal.acc before':>15} {'after':>7} {'macro-F1 before':>16} {'after':>7}")
        for name in before:
            b, a = before[name], after[name]
            click.echo(f"{name:28} {b['n']:>6} {100 * b['balanced_accuracy']:>15.1f} {100 * a['balanced_accuracy']:>7.1f} "
                       f"{_maybe_pct(b.get('macro_f1')):>16} {_maybe_pct(a.get('macro_f1')):>7}")
        if dry_run:
            click.echo("dry run: model settings left unchanged")
        else:
            path = calibration.store(model_path, fitted, evalsets=evalsets, objective=objective,
                                     before=before, after=after, precision=checker.nli.precision, previous=current)
            click.echo(f"written to {path}")
    except InputError as error:
        _fail(str(error))


def _maybe_pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


@main.command()
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval/results"), show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("eval/RESULTS.md"),
              show_default=True)
def leaderboard(results_dir, output) -> None:
    """Regenerate the results table from the recorded eval results."""
    from nli_check.evaluation.leaderboard import write

    try:
        click.echo(f"written to {write(results_dir, output)}")
    except InputError as error:
        _fail(str(error))


@main.command()
@click.argument("model", type=click.Path(file_okay=False, path_type=Path))
@click.option("--results", "results_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("eval/results"), show_default=True, help="The records of nli-check eval --record.")
@click.option("--before", "before_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Records made with the thresholds the last calibrate replaced: the card shows each number "
                   "before and after the fit.")
@click.option("--proposed", "proposed_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Records made with thresholds a fit proposed and that were not adopted (fitted_on.proposal): "
                   "the card shows each number as shipped and as proposed.")
@click.option("--learned", "learned_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="For a model with a learned verdict: records of the same sets decided by it "
                   "(nli-check eval --verdict learned); the card shows both.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the card goes (default: MODEL/README.md).")
def card(model, results_dir, before_dir, proposed_dir, learned_dir, output) -> None:
    """Render MODEL's card from its recorded eval results and its nli_check.json."""
    from nli_check.evaluation.card import write_card

    try:
        written = write_card(model=model, results=results_dir, before=before_dir, proposed=proposed_dir,
                             learned=learned_dir, output=output)
        click.echo(f"written to {written}")
    except InputError as error:
        _fail(str(error))


# ---- batch (issue 5) ----

@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON Lines, one row per article (the check JSON plus id, line and article_summary).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run that wrote --output.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Bad rows: line, id and reason (default: OUTPUT's name with .errors.jsonl).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: an actor pool on Ray Data (pip install nli-check[ray]).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None, help="torch device (default: torch's choice).")
@runtime_options
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model folder for pairing.")
@click.option("--top-k", type=click.IntRange(1, 50), default=None, help="Source sentences paired with each claim.")
@click.option("--no-explain", is_flag=True, help="Skip marking the unsupported words (faster).")
@click.option("--chunk-size", type=click.IntRange(1), default=None,
              help="Input rows checked together (default 64); a resume must use the same.")
@click.option("--claims-parquet", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a flat table, one row per claim, as Parquet.")
@click.option("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS, else a local Ray).")
@click.option("--ray-actors", type=click.IntRange(1), default=None,
              help="Actors (model copies) in the pool (default: one per CPU Ray offers).")
@click.option("--threads", type=click.IntRange(1), default=None,
              help="torch threads (default: one per core); 1 can be much faster on a busy machine.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@verdict_option
@max_words_option
@mode_option("batch")
def batch(input_path, output, resume, errors_path, engine, device, precision, backend, model, embedding_model, top_k, no_explain,
          chunk_size, claims_parquet, ray_address, ray_actors, threads, no_progress, verdict, max_words, mode) -> None:
    """Score a corpus: INPUT is JSON Lines (or Parquet), one article a row with id,
    article and sources. Streams the input; rows are durable in input order; --resume
    continues after any interruption with no row lost or repeated."""
    from nli_check.batch.chunks import CheckerSpec
    from nli_check.batch.runner import run_batch
    from nli_check.config import BATCH_CHUNK_SIZE

    spec = CheckerSpec(model=model, embedding_model=embedding_model, device=device, precision=precision,
                       backend=backend, top_k=top_k,
                       explain=not no_explain, threads=threads, verdict=verdict, max_words=max_words, mode=mode)
    try:
        summary = run_batch(input_path, output, errors=errors_path, resume=resume, spec=spec,
                            chunk_size=chunk_size or BATCH_CHUNK_SIZE, engine=engine, progress=not no_progress,
                            claims_parquet=claims_parquet, ray_address=ray_address, ray_actors=ray_actors)
    except InputError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{getattr(error, 'filename', None) or output}: {error.strerror or error}")
    labels = ", ".join(f"{count} {label}" for label, count in summary.labels.items())
    click.echo(f"{summary.articles} articles, {summary.claims} claims ({labels}); "
               f"{summary.errors} bad rows in {summary.errors_file}; manifest {summary.manifest}")



# ---- serve, feedback (issue 6) ----

@main.command()
@click.option("--host", default=ServeSettings.host, show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes the app to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=ServeSettings.port, show_default=True)
@click.option("--model", default=None, help="NLI model folder (default: the shipped model).")
@click.option("--embedding-model", default="minilm", show_default=True, help="Embedding model folder for pairing.")
@click.option("--device", default=None, help="torch device, e.g. cpu or cuda.")
@runtime_options
@click.option("--feedback-db", type=click.Path(dir_okay=False, path_type=Path),
              default=Path(ServeSettings.feedback_db), show_default=True, help="SQLite file for editor feedback.")
@click.option("--max-body-mb", type=click.FloatRange(0.001), default=ServeSettings.max_body_bytes / 1e6,
              show_default=True, help="Refuse request bodies larger than this (413).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.1), default=ServeSettings.timeout_s,
              show_default=True, help="Seconds a request may take, queueing included (then 504).")
@click.option("--queue", type=click.IntRange(0, 10_000), default=ServeSettings.queue, show_default=True,
              help="Requests that may wait while one check runs (beyond that 503).")
@click.option("--allow-private-urls", is_flag=True,
              help="Let URL sources reach loopback, private and link-local addresses (refused by default: "
                   "the server fetches them for remote users).")
@max_words_option
@mode_option("serve")
def serve(host, port, model, embedding_model, device, precision, backend, feedback_db, max_body_mb, timeout_s, queue,
          allow_private_urls, max_words, mode) -> None:
    """Start the web app: paste an article and its sources, see the report, give feedback."""
    import uvicorn

    from nli_check.pipeline.checker import Checker
    from nli_check.serve.app import create_app
    from nli_check.serve.feedback import FeedbackStore

    settings = ServeSettings(host=host, port=port, max_body_bytes=int(max_body_mb * 1e6), timeout_s=timeout_s,
                             queue=queue, feedback_db=str(feedback_db), allow_private_urls=allow_private_urls,
                             max_words=max_words)
    try:
        FeedbackStore(feedback_db)  # a bad path fails here, in one line, before the models load
        # Load once, here, so a missing model is one line and exit 2, not a traceback.
        checker = Checker(model=model, embedding_model=embedding_model, device=device, precision=precision,
                          backend=backend, settings=Settings(max_words=max_words), mode=mode)
    except InputError as error:
        _fail(str(error))
    except OSError as error:  # transformers' way of saying a model folder is missing or broken
        _fail(f"{model or embedding_model}: cannot load the model ({str(error).splitlines()[0]})")
    app = create_app(settings=settings, checker=checker)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)


@main.group()
def feedback() -> None:
    """Editor feedback collected by ``nli-check serve``."""


@feedback.command("export")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path(ServeSettings.feedback_db),
              show_default=True, help="The feedback database (serve --feedback-db).")
@click.option("--output", default="-", show_default=True, help="JSON Lines file; - is standard output.")
def feedback_export(db, output) -> None:
    """Write the feedback as labelled pairs (claim, source, label) for the eval harness."""
    from nli_check.inputs import write_atomically
    from nli_check.serve.feedback import export_jsonl

    try:
        text = export_jsonl(db)
        if output == "-":
            click.echo(text, nl=False)
        else:
            write_atomically(Path(output), text)
    except InputError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"{getattr(error, 'filename', None) or output}: {error.strerror or error}")
    click.echo(f"nli-check: {text.count(chr(10))} labelled pairs from {db}", err=True)



def run() -> None:
    """Console entry point: every usage error is one line on stderr and exit 2; so is any
    other failure (out of memory, input nested too deeply, a fault of nli-check itself),
    unless ``NLI_CHECK_TRACEBACK=1`` asks for the traceback."""
    import os

    try:
        result = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("nli-check: aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        hint = f" (try '{error.ctx.command_path} --help')" if getattr(error, "ctx", None) else ""
        click.echo(f"nli-check: error: {error.format_message()}{hint}", err=True)
        sys.exit(EXIT_INPUT)
    except MemoryError:
        _fail("out of memory (the input is too large for this machine; lower --max-words or --max-input-mb)")
    except RecursionError:
        _fail("the input is nested too deeply to be read")
    except Exception as error:
        if os.environ.get("NLI_CHECK_TRACEBACK") == "1":
            raise
        first = str(error).splitlines()[0][:300] if str(error) else ""
        _fail(f"unexpected {type(error).__name__}{': ' + first if first else ''} "
              f"(a fault of nli-check: set NLI_CHECK_TRACEBACK=1 for the traceback, and please report it)")
    sys.exit(result if isinstance(result, int) else 0)
