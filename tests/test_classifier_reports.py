"""Metrics, report figures and model card from synthetic inputs (no training needed)."""
from __future__ import annotations

import json

import numpy as np

from classifier import card as model_card
from classifier import reports
from classifier.calibration import error_reject_curve
from classifier.datasets import MNIST_ATTRIBUTION
from classifier.evaluate import digit_metrics, nondigit_metrics


def _probs(labels: np.ndarray, wrong: int) -> np.ndarray:
    probs = np.full((len(labels), 11), 0.001)
    predicted = labels.copy()
    predicted[:wrong] = (labels[:wrong] + 1) % 10
    probs[np.arange(len(labels)), predicted] = 0.99
    return probs / probs.sum(axis=1, keepdims=True)


def test_digit_metrics():
    labels = np.tile(np.arange(10), 10)
    m = digit_metrics(_probs(labels, 5), labels, threshold=0.5)
    assert m["accuracy"] == 0.95 and 0.9 < m["macro_f1"] < 1.0
    assert set(m["per_class"]) == set("0123456789") and m["flag_rate"] == 0.0


def test_nondigit_metrics_counts_flags():
    probs = np.zeros((4, 11))
    probs[[0, 1], 10] = 1.0       # read as '?'
    probs[2, 3] = 0.6             # a digit below the threshold
    probs[2, 10] = 0.4
    probs[3, 7] = 1.0             # a confident digit: not flagged
    m = nondigit_metrics(probs, threshold=0.9)
    assert m["flag_rate"] == 0.75 and m["predicted_not_digit"] == 0.5


def test_figures_written(tmp_path):
    labels = np.tile(np.arange(10), 5)
    probs = _probs(labels, 6)
    images = np.random.default_rng(0).random((50, 28, 28)).astype(np.float32)
    m = digit_metrics(probs, labels, 0.5)
    reports.confusion_png(np.array(m["confusion"]), tmp_path / "c.png")
    history = {"loss": [1.0, 0.5], "val_loss": [0.9, 0.6], "accuracy": [0.8, 0.9], "val_accuracy": [0.8, 0.85]}
    reports.curves_png([history], tmp_path / "t.png")
    reports.misclassified_png(images, labels, probs, tmp_path / "m.png")
    reports.error_reject_png({"val": error_reject_curve(probs, labels)}, 0.5, tmp_path / "e.png")
    reports.write_metrics({"accuracy": 0.9, "_skip": np.zeros(3)}, tmp_path)
    for name in ("c.png", "t.png", "m.png", "e.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"accuracy": 0.9}


def test_card_files(tmp_path):
    card = {"model_file": "digits.tflite", "size_bytes": 2048, "sha256": "ab" * 32,
            "labels": list("0123456789?"), "temperature": 1.2, "threshold": 0.9,
            "threshold_reason": "because", "architecture": "cnn", "architecture_summary": "convs",
            "parameters": 1000, "data_md5": {"t10k-images-idx3-ubyte.gz": "x"},
            "training": {"command": "python cli.py train", "optimizer": "adam", "epochs_run": 3,
                         "epochs": 3, "batch_size": 128, "seed": 1, "ensemble": 1, "seconds": 60,
                         "machine": "cpu", "validation_size": 6000, "nondigit_train": 100},
            "metrics": {"mnist_test_accuracy": 0.99, "mnist_test_macro_f1": 0.99}}
    assert json.loads(model_card.write_json(card, tmp_path).read_text())["sha256"] == "ab" * 32
    text = model_card.write_markdown(card, tmp_path).read_text()
    assert MNIST_ATTRIBUTION in text and "99.00%" in text and "0.9000" in text


def test_card_says_when_the_time_budget_shortened_the_run(tmp_path):
    training = {"command": "python cli.py train", "optimizer": "adam", "epochs": 20, "batch_size": 128,
                "seed": 1, "ensemble": 1, "seconds": 1500, "machine": "cpu", "validation_size": 6000,
                "nondigit_train": 100, "options": {"time_budget_min": "30.0"}}
    card = {"model_file": "digits.tflite", "size_bytes": 2048, "sha256": "ab" * 32,
            "labels": list("0123456789?"), "temperature": 1.2, "threshold": 0.9,
            "threshold_reason": "because", "architecture": "cnn", "architecture_summary": "convs",
            "parameters": 1000, "data_md5": {}, "metrics": {"mnist_test_accuracy": 0.99}}
    budget = {**card, "training": {**training, "epochs_run": 15, "schedule_epochs": 15}}
    text = model_card.write_markdown(budget, tmp_path).read_text()
    assert "the time budget (30 min for the whole run) shortened the schedule to end at epoch 15" in text
    # Early stopping also ends a run early, with the schedule as planned: no budget claim.
    stopped = {**card, "training": {**training, "epochs_run": 15, "schedule_epochs": 20}}
    assert "time budget" not in model_card.write_markdown(stopped, tmp_path).read_text()
