"""Probability calibration (temperature scaling), its error measure (ECE) and the choice of the
default flagging threshold from the error-reject curve. Pure numpy, no TensorFlow."""
from __future__ import annotations

import numpy as np

NOT_A_DIGIT = 10  # index of the '?' class


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``logits / temperature`` over the last axis (numerically stable), float64."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under the tempered softmax."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(log_norm - z[np.arange(len(labels)), labels]))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """Temperature minimising validation NLL: golden-section search over log T (NLL is
    unimodal in T, and this avoids a SciPy dependency)."""
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(logits, labels, np.exp(c)), nll(logits, labels, np.exp(d))
    for _ in range(60):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(logits, labels, np.exp(c))
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(logits, labels, np.exp(d))
    return float(np.exp((a + b) / 2.0))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE: bin predictions by top-1 confidence, average |accuracy - confidence| weighted by bin size."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


def accept_mask(probs: np.ndarray, threshold: float) -> np.ndarray:
    """True where a mark is read as a digit without a flag: top class is a digit and its
    probability reaches ``threshold``."""
    top = probs.argmax(axis=1)
    return (top != NOT_A_DIGIT) & (probs.max(axis=1) >= threshold)


def error_reject_curve(probs: np.ndarray, labels: np.ndarray, thresholds: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """For each threshold: fraction of digits flagged (rejected) and error among the accepted."""
    if thresholds is None:
        thresholds = np.unique(np.concatenate([np.linspace(0.0, 0.99, 100), 1.0 - np.logspace(-6, -2, 40)]))
    top = probs.argmax(axis=1)
    reject, error = [], []
    for t in thresholds:
        accepted = accept_mask(probs, float(t))
        reject.append(1.0 - accepted.mean())
        error.append(float((top[accepted] != labels[accepted]).mean()) if accepted.any() else 0.0)
    return {"threshold": np.asarray(thresholds, float), "reject": np.asarray(reject), "error": np.asarray(error)}


def choose_threshold(probs: np.ndarray, labels: np.ndarray, target_error: float = 0.001,
                     max_reject: float = 0.02, floor: float = 0.5) -> float:
    """Lowest threshold whose accepted-digit error on validation is <= ``target_error``, as
    long as it flags no more than ``max_reject`` of the digits; otherwise the highest
    threshold still within ``max_reject`` (the reject budget wins over the error target).
    Never below ``floor``: a mark whose best class has under half the mass stays flagged."""
    curve = error_reject_curve(probs, labels)
    t, r, e = curve["threshold"], curve["reject"], curve["error"]
    within = (r <= max_reject) & (t >= floor)
    good = within & (e <= target_error)
    if good.any():
        return float(t[good].min())
    if within.any():
        return float(t[within].max())
    return floor
