"""Temperature scaling, ECE and the threshold choice on synthetic data."""
from __future__ import annotations

import numpy as np

from classifier.calibration import (
    accept_mask,
    choose_threshold,
    error_reject_curve,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose true-temperature softmax is calibrated, scaled up 3x (over-confident)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.5, size=(n, 11))
    probs = softmax(logits)
    labels = np.array([rng.choice(11, p=p) for p in probs])
    return 3.0 * logits, labels


def test_temperature_recovers_scale_and_lowers_ece():
    logits, labels = _overconfident()
    temperature = fit_temperature(logits, labels)
    assert 2.5 < temperature < 3.5
    before = expected_calibration_error(softmax(logits), labels)
    after = expected_calibration_error(softmax(logits, temperature), labels)
    assert after < before / 2


def test_softmax_rows_sum_to_one():
    probs = softmax(np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[1], 1 / 3)


def test_ece_is_zero_when_perfect():
    probs = np.eye(11)[np.arange(11)]
    assert expected_calibration_error(probs, np.arange(11)) == 0.0


def test_not_a_digit_is_never_accepted():
    probs = np.zeros((2, 11))
    probs[0, 10], probs[1, 3] = 1.0, 1.0
    assert accept_mask(probs, 0.5).tolist() == [False, True]


def _graded(n: int = 5000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Predictions that are often wrong below confidence 0.9 and almost never above."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    confidence = rng.uniform(0.5, 1.0, n)
    wrong = rng.random(n) < np.where(confidence < 0.9, 0.3, 0.001)
    predicted = np.where(wrong, (labels + 1) % 10, labels)
    probs = np.zeros((n, 11))
    probs[np.arange(n), predicted] = confidence
    probs[np.arange(n), 10] = 1.0 - confidence
    return probs, labels


def test_threshold_meets_error_target():
    probs, labels = _graded()
    threshold = choose_threshold(probs, labels, target_error=0.01, max_reject=0.9)
    curve = error_reject_curve(probs, labels, np.array([threshold]))
    assert curve["error"][0] <= 0.01
    assert 0.85 < threshold <= 0.92


def test_reject_budget_wins():
    probs, labels = _graded()
    threshold = choose_threshold(probs, labels, target_error=0.0001, max_reject=0.5)
    curve = error_reject_curve(probs, labels, np.array([threshold]))
    assert curve["reject"][0] <= 0.5 and threshold >= 0.5
