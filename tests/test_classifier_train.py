"""Training command options, and a tiny end-to-end run when the MNIST files are present."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from classifier.datasets import default_dir
from classifier.train import TrainOptions, add_train_arguments, options_from_args

MNIST = default_dir("DIGITS_MNIST_DIR", "mnist")


def _parse(argv: list[str]) -> TrainOptions:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return options_from_args(parser.parse_args(argv))


def test_options_from_arguments(tmp_path):
    options = _parse(["--mnist", str(tmp_path), "--arch", "mlp", "--optimizer", "sgd", "--epochs", "3",
                      "--seed", "9", "--ensemble", "2", "--out", str(tmp_path / "m"),
                      "--report", str(tmp_path / "r"), "--no-augment", "--time-budget", "0"])
    assert options.mnist == tmp_path and options.arch == "mlp" and options.optimizer == "sgd"
    assert options.epochs == 3 and options.seed == 9 and options.ensemble == 2
    assert options.out == tmp_path / "m" and options.report == tmp_path / "r"
    assert not options.augment and options.time_budget_min == 0


def test_defaults(tmp_path):
    options = _parse(["--mnist", str(tmp_path)])
    assert options.arch == "cnn" and options.optimizer == "adam" and options.ensemble == 1
    assert options.out == Path("models") and options.augment


def test_unknown_architecture_refused(tmp_path):
    with pytest.raises(SystemExit):
        _parse(["--mnist", str(tmp_path), "--arch", "resnet"])


@pytest.mark.slow
@pytest.mark.skipif(MNIST is None or not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="MNIST not found (../shared/data/mnist or DIGITS_MNIST_DIR)")
def test_tiny_run_writes_a_loadable_model(tmp_path):
    pytest.importorskip("keras", reason="TensorFlow/Keras not installed")
    from classifier.runtime import DigitClassifier
    from classifier.train import train

    options = TrainOptions(mnist=MNIST, usps=None, arch="mlp", epochs=1, limit=2000, nondigits=200,
                           validation_size=1000, time_budget_min=0, out=tmp_path / "models", report=tmp_path / "report")
    metrics = train(options)
    assert metrics["mnist_test_accuracy"] > 0.5  # one epoch on 2,000 digits
    card = json.loads((tmp_path / "models" / "model_card.json").read_text())
    assert card["labels"][-1] == "?" and card["data_md5"]["t10k-images-idx3-ubyte.gz"]
    for name in ("metrics.json", "confusion_matrix.png", "training_curves.png", "misclassified.png",
                 "error_reject.png", "model.keras"):
        assert (tmp_path / "report" / name).exists(), name
    assert not (tmp_path / "models" / "model.keras").exists()
    probs = DigitClassifier(tmp_path / "models").predict(np.zeros((2, 28, 28), np.float32))
    assert probs.shape == (2, 11)

    # Re-release the saved weights (new threshold policy, ensemble of runs...) without refitting.
    again = train(replace(options, from_keras=[tmp_path / "report" / "model.keras"],
                          out=tmp_path / "again", report=tmp_path / "again-report"))
    assert again["mnist_test_accuracy"] == metrics["mnist_test_accuracy"]
    card_again = json.loads((tmp_path / "again" / "model_card.json").read_text())
    assert card_again["training"]["epochs_run"] == 1 and card_again["training"]["release_command"]
