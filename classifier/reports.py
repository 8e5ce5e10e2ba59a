"""Report files of a training run: metrics.json and four PNG figures (matplotlib, Agg backend)."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from classifier.evaluate import LABELS, read_digits  # noqa: E402


def write_metrics(metrics: dict, folder: Path) -> Path:
    """``metrics.json`` (keys starting with '_' hold arrays for plots and are left out)."""
    clean = {k: v for k, v in metrics.items() if not k.startswith("_")}
    path = Path(folder) / "metrics.json"
    path.write_text(json.dumps(clean, indent=2, default=float) + "\n")
    return path


def confusion_png(matrix: np.ndarray, path: Path, title: str = "MNIST test") -> None:
    """Confusion matrix with counts; the diagonal is left uncoloured so errors stand out."""
    matrix = np.asarray(matrix)
    rows = [k for k in range(matrix.shape[0]) if matrix[k].sum() or matrix[:, k].sum()]
    m = matrix[np.ix_(rows, rows)]
    off = m.astype(float).copy()
    np.fill_diagonal(off, 0)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(off, cmap="Reds")
    for i in range(len(rows)):
        for j in range(len(rows)):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7,
                        color="black" if i != j else "navy")
    names = [LABELS[k] for k in rows]
    ax.set_xticks(range(len(rows)), names)
    ax.set_yticks(range(len(rows)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix ({title})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def curves_png(histories: list[dict], path: Path) -> None:
    """Accuracy and loss per epoch, train and validation, one line pair per ensemble member."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, h in enumerate(histories):
        epochs = np.arange(1, len(h["loss"]) + 1)
        tag = f" #{i + 1}" if len(histories) > 1 else ""
        for ax, key in zip(axes, ("accuracy", "loss"), strict=True):
            ax.plot(epochs, h[key], "-", label=f"train{tag}")
            ax.plot(epochs, h[f"val_{key}"], "--", label=f"validation{tag}")
    axes[0].set_ylabel("accuracy")
    axes[1].set_ylabel("loss (cross-entropy)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Training curves (train = augmented batches, validation = clean)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def misclassified_png(images: np.ndarray, labels: np.ndarray, probs: np.ndarray, path: Path,
                      count: int = 48) -> None:
    """Grid of the most confident mistakes (digit read wrong), titled true -> read (probability)."""
    predicted = read_digits(probs)
    wrong = np.nonzero(predicted != labels)[0]
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:count]
    cols = 8
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, i in zip(np.ravel(axes)[: len(wrong)], wrong, strict=True):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{LABELS[labels[i]]}→{LABELS[predicted[i]]} {probs[i, predicted[i]]:.2f}", fontsize=8)
    fig.suptitle(f"Worst mistakes on MNIST test ({len(np.nonzero(predicted != labels)[0])} in all): true→predicted")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def error_reject_png(curves: dict[str, dict], threshold: float, path: Path) -> None:
    """Accepted-digit error against the fraction flagged, one line per data set."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, c in curves.items():
        ax.plot(100 * c["reject"], 100 * c["error"], label=name)
        k = int(np.argmin(np.abs(c["threshold"] - threshold)))
        ax.plot(100 * c["reject"][k], 100 * c["error"][k], "o", color="black")
    ax.set_xlabel("digits flagged for review (%)")
    ax.set_ylabel("error among accepted digits (%)")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_xlim(0, 10)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"Error-reject curve (dot: default threshold {threshold:.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
