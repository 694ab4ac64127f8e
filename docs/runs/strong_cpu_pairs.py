"""The pairs of one CPU stage of the strong model (issue 31): a session without a GPU
continues the committed teacher on the claim-level pairs the dev sets look like, with a
little general NLI so that it keeps what it knows.

    python docs/runs/strong_cpu_pairs.py STRONG_PAIRS OUT [--seed 13]

STRONG_PAIRS is ``nli-check train --mix strong --write-pairs FILE``; OUT is read by
``nli-check train --pairs OUT``. Caps per dataset below (what a 2-core CPU trains in about
an hour and a quarter: ~17,000 pairs, one epoch of 32).
"""
import argparse
import json
import random
from collections import defaultdict

CAPS = {
    # claims against checker-sized chunks of their documents
    "claim_pairs:citation_integrity": 3000, "claim_pairs:check_covid": 2500, "claim_pairs:covidfact": 1000,
    "claim_pairs:climate_fever": 1500, "claim_pairs:factcheck_gpt": 1084, "claim_pairs:scifact": 508,
    "claim_pairs:wice": 754, "claim_pairs:fever_rte": 1500,
    # claims against their evidence sentences
    "check_covid": 1063, "citation_integrity": 1500, "scifact": 300, "covidfact_rte": 400, "climate_fever": 400,
    # general NLI, so that it is not forgotten
    "snli": 600, "anli": 400, "mnli_taxinli": 200, "snli+flip": 150, "snli+embellish": 150,
}

parser = argparse.ArgumentParser()
parser.add_argument("pairs")
parser.add_argument("out")
parser.add_argument("--seed", type=int, default=13)
args = parser.parse_args()
by_set = defaultdict(list)
with open(args.pairs, encoding="utf-8") as f:
    for line in f:
        row = json.loads(line)
        by_set[row["dataset"]].append(row)
rng = random.Random(args.seed)
chosen = []
for name, cap in CAPS.items():
    rows = by_set[name]
    rng.shuffle(rows)
    chosen += rows[:cap]
rng.shuffle(chosen)
with open(args.out, "w", encoding="utf-8") as f:
    for row in chosen:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
print(f"{len(chosen)} pairs written to {args.out}")
