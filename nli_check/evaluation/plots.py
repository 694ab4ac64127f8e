"""PNG plots of the eval harness (matplotlib, off-screen): a confusion matrix and a
reliability diagram of the support score."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede the pyplot import
    import matplotlib.pyplot as plt

    return plt


def confusion_plot(confusion: dict, path: Path, *, title: str) -> None:
    """``confusion`` is the ``{"labels": [...], "matrix": [[...]]}`` of the metrics (rows gold)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(4.8, 4.2), dpi=100)
    ConfusionMatrixDisplay(np.array(confusion["matrix"]), display_labels=confusion["labels"]).plot(
        ax=axes, cmap="Blues", colorbar=False, values_format="d")
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize=9)
    plt.setp(axes.get_xticklabels(), rotation=20, ha="right")
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def reliability_plot(positive: Sequence[bool], probability: Sequence[float], path: Path, *, title: str,
                     bins: int = 10) -> None:
    """Fraction supported against mean support score per equal-width bin, with the bin sizes."""
    plt = _pyplot()
    positive = np.asarray(positive, dtype=float)
    probability = np.asarray(probability, dtype=float)
    which = np.minimum((probability * bins).astype(int), bins - 1)
    centres, rates, counts = [], [], []
    for b in range(bins):
        inside = which == b
        if inside.any():
            centres.append(probability[inside].mean())
            rates.append(positive[inside].mean())
            counts.append(int(inside.sum()))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(4.8, 5.2), dpi=100, sharex=True,
                                         gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    top.plot(centres, rates, marker="o", color="tab:blue", label="observed")
    top.set_ylabel("fraction supported")
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize=8)
    top.set_title(title, fontsize=9)
    edges = np.linspace(0, 1, bins + 1)
    bottom.bar(edges[:-1], np.bincount(which, minlength=bins), width=1 / bins, align="edge",
               color="tab:grey", edgecolor="white")
    bottom.set_xlabel("support score (mean per bin)")
    bottom.set_ylabel("examples")
    bottom.set_xlim(0, 1)
    figure.tight_layout()
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)
