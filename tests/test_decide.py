import numpy as np
import pytest

from nli_check.pipeline.decide import NO_MATCH, decide
from nli_check.pipeline.pair import Candidate


def candidates(n):
    return [Candidate(0, i, i, f"s{i}", 0, 1, 0.9 - i / 10) for i in range(n)]


THRESHOLDS = dict(entailment_threshold=0.6, contradiction_threshold=0.5)


def test_no_candidates_is_unsupported_without_evidence():
    decision = decide([], np.zeros((0, 3)), **THRESHOLDS)
    assert (decision.label, decision.chosen, decision.reason) == ("unsupported", None, NO_MATCH)


@pytest.mark.parametrize("rows,label,chosen", [
    ([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], "supported", 0),  # support wins over contradiction
    ([[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]], "contradicted", 1),
    ([[0.5, 0.4, 0.1], [0.3, 0.3, 0.4]], "unsupported", 0),  # unsupported: the closest to support
    ([[0.6, 0.2, 0.2]], "supported", 0),  # threshold is inclusive
])
def test_thresholds(rows, label, chosen):
    decision = decide(candidates(len(rows)), np.array(rows), **THRESHOLDS)
    assert decision.label == label
    assert decision.chosen == chosen
    assert decision.order[0] == chosen and sorted(decision.order) == list(range(len(rows)))
