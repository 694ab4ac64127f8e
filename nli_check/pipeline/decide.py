"""Stage 4: one verdict per claim from the NLI probabilities of its candidate evidence.

A model folder with a learned head (:mod:`.verdict`) is decided by it
(:func:`decide_learned`); otherwise by the rule, with thresholds stored alongside the model:

* supported     if some evidence entails the claim with p(entailment) >= entailment_threshold;
* contradicted  else if some evidence contradicts it with p(contradiction) >= contradiction_threshold;
* unsupported   otherwise (also when pairing found no source statement at all).

Support wins over contradiction: one source that backs the claim is enough for a citation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nli_check.labels import (CONTRADICTED, CONTRADICTION_COLUMN, ENTAILMENT_COLUMN, SUPPORTED, UNSUPPORTED, VERDICTS,
                              Verdict)
from nli_check.pipeline.pair import Candidate

NO_MATCH = "no matching source statement"


@dataclass(frozen=True)
class Decision:
    label: Verdict
    chosen: int | None  # index into the candidates of the evidence the verdict rests on
    order: list[int]  # candidate indices, most relevant to the verdict first
    reason: str


def decide(candidates: list[Candidate], probabilities: np.ndarray, *, entailment_threshold: float,
           contradiction_threshold: float) -> Decision:
    if not candidates:
        return Decision(UNSUPPORTED, None, [], NO_MATCH)
    entail, contradict = probabilities[:, ENTAILMENT_COLUMN], probabilities[:, CONTRADICTION_COLUMN]
    best_entail, best_contradict = int(np.argmax(entail)), int(np.argmax(contradict))
    label = threshold_verdict(entail[best_entail], contradict[best_contradict],
                              entailment_threshold=entailment_threshold,
                              contradiction_threshold=contradiction_threshold)
    if label == SUPPORTED:
        chosen = best_entail
        reason = f"p(entailment) {entail[chosen]:.2f} >= {entailment_threshold:.2f}"
    elif label == CONTRADICTED:
        chosen = best_contradict
        reason = f"p(contradiction) {contradict[chosen]:.2f} >= {contradiction_threshold:.2f}"
    else:
        chosen = best_entail
        reason = (f"no evidence entails (best p(entailment) {entail[chosen]:.2f}) "
                  f"or contradicts (best p(contradiction) {contradict[best_contradict]:.2f}) the claim")
    return Decision(label, chosen, _order(candidates, probabilities, label, chosen), reason)


def threshold_verdict(best_entailment: float, best_contradiction: float, *, entailment_threshold: float,
                      contradiction_threshold: float) -> Verdict:
    """The rule on a claim's best p(entailment) and best p(contradiction) over its evidence."""
    if best_entailment >= entailment_threshold:
        return SUPPORTED
    return CONTRADICTED if best_contradiction >= contradiction_threshold else UNSUPPORTED


def decide_learned(candidates: list[Candidate], probabilities: np.ndarray, verdict: Verdict,
                   verdict_probabilities: np.ndarray, *, contradiction_floor: float | None = None) -> Decision:
    """The learned head's verdict (:mod:`.verdict`), resting on the candidate that best
    entails (supported, unsupported) or contradicts (contradicted) the claim. The reason
    says when the contradiction floor overruled the head's first choice."""
    column = CONTRADICTION_COLUMN if verdict == CONTRADICTED else ENTAILMENT_COLUMN
    chosen = int(np.argmax(probabilities[:, column]))
    shares = ", ".join(f"{label} {p:.2f}" for label, p in zip(VERDICTS, verdict_probabilities))
    reason = f"learned verdict: {shares}"
    if VERDICTS[int(np.argmax(verdict_probabilities))] == CONTRADICTED and verdict != CONTRADICTED:
        reason += (f"; not contradicted: the NLI model's p(contradiction) stays below {contradiction_floor:.2f}")
    return Decision(verdict, chosen, _order(candidates, probabilities, verdict, chosen), reason)


def _order(candidates: list[Candidate], probabilities: np.ndarray, label: Verdict, chosen: int) -> list[int]:
    key = probabilities[:, CONTRADICTION_COLUMN if label == CONTRADICTED else ENTAILMENT_COLUMN]
    return sorted(range(len(candidates)), key=lambda i: (i != chosen, -key[i], -candidates[i].similarity))
