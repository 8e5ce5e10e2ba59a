"""Evaluation of a classifier's probabilities: accuracy, per-class scores, flag rates, and the
standard evaluation sets (MNIST test, USPS through ``to_mnist``, held-out non-digits)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from classifier.calibration import NOT_A_DIGIT, accept_mask
from classifier.datasets import load_mnist, load_usps
from classifier.digit_pairs import generate_pairs
from classifier.nondigits import HELD_OUT_SEED, generate
from segmentation.normalize import batch_to_mnist

LABELS = tuple("0123456789") + ("?",)
Predict = Callable[[np.ndarray], np.ndarray]


def confusion(labels: np.ndarray, predicted: np.ndarray, classes: int = len(LABELS)) -> np.ndarray:
    """(classes, classes) counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((classes, classes), np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def per_class_scores(matrix: np.ndarray) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class present in the rows of ``matrix``."""
    scores = {}
    for k in range(matrix.shape[0]):
        support = int(matrix[k].sum())
        if support == 0:
            continue
        tp = matrix[k, k]
        precision = tp / matrix[:, k].sum() if matrix[:, k].sum() else 0.0
        recall = tp / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[LABELS[k]] = {"precision": float(precision), "recall": float(recall),
                             "f1": float(f1), "support": support}
    return scores


def read_digits(probs: np.ndarray) -> np.ndarray:
    """The digit each mark is read as: the most probable of the ten digits. A mark whose top class
    is '?' is still read as its best digit (and flagged, see ``accept_mask``), as the pipeline
    writes it; it is also the usual MNIST accuracy of a ten-digit classifier."""
    return np.asarray(probs)[:, :NOT_A_DIGIT].argmax(axis=1)


def digit_metrics(probs: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """Scores on a set of real digits: accuracy of the digits read (:func:`read_digits`), the
    stricter top-1 accuracy over all 11 classes (a '?' answer counted wrong), per-class scores and
    macro F1 of the digits read, and the fractions flagged and answered '?'."""
    top = probs.argmax(axis=1)
    predicted = read_digits(probs)
    matrix = confusion(labels, predicted)
    scores = per_class_scores(matrix)
    digits = [scores[k]["f1"] for k in LABELS[:10] if k in scores]
    return {
        "accuracy": float((predicted == labels).mean()),
        "accuracy_all_classes": float((top == labels).mean()),
        "macro_f1": float(np.mean(digits)),
        "per_class": scores,
        "flag_rate": float(1.0 - accept_mask(probs, threshold).mean()),
        "rejected_as_not_digit": float((top == NOT_A_DIGIT).mean()),
        "confusion": matrix.tolist(),
    }


def nondigit_metrics(probs: np.ndarray, threshold: float) -> dict:
    """Scores on non-digit crops: flagged (not accepted as a digit) and predicted '?'."""
    return {"flag_rate": float(1.0 - accept_mask(probs, threshold).mean()),
            "predicted_not_digit": float((probs.argmax(axis=1) == NOT_A_DIGIT).mean()),
            "count": len(probs)}


def usps_as_crops(folder: str | Path, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """USPS digits passed through ``to_mnist`` exactly like scanned crops."""
    images, labels = load_usps(folder, split)
    return batch_to_mnist(list(images)), labels


def evaluate_all(predict: Predict, threshold: float, mnist_dir: str | Path,
                 usps_dir: str | Path | None = None, nondigit_count: int = 2000) -> dict:
    """MNIST test, USPS test (if ``usps_dir``) and held-out non-digit scores of ``predict``
    (a function from (N, 28, 28) images to calibrated probabilities)."""
    images, labels = load_mnist(mnist_dir, "test")
    mnist_probs = predict(images.astype(np.float32) / 255.0)
    out = {"mnist_test": digit_metrics(mnist_probs, labels, threshold)}
    if usps_dir is not None:
        crops, usps_labels = usps_as_crops(usps_dir)
        out["usps_test"] = digit_metrics(predict(crops), usps_labels, threshold)
    out["nondigit_heldout"] = nondigit_metrics(predict(generate(nondigit_count, HELD_OUT_SEED)), threshold)
    # Pairs of *test* digits: the model never saw these digits, alone or joined.
    test_pairs = generate_pairs(images.astype(np.float32) / 255.0, nondigit_count, HELD_OUT_SEED)
    out["pairs_heldout"] = nondigit_metrics(predict(test_pairs), threshold)
    out["_mnist_probs"] = mnist_probs  # for plots; dropped before writing JSON
    return out
