"""Training command options, and a tiny end-to-end run when the MNIST files are present."""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from classifier.datasets import default_dir, load_mnist
from classifier.runtime import sha256sum
from pipeline.results import DIGIT_COLUMNS
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
    assert options.scan_sets == 12 and options.scan_model is None  # the shipped model's recipe


def test_unknown_architecture_refused(tmp_path):
    with pytest.raises(SystemExit):
        _parse(["--mnist", str(tmp_path), "--arch", "resnet"])


@pytest.mark.slow
@pytest.mark.skipif(MNIST is None or not (MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="MNIST not found (../shared/data/mnist or DIGITS_MNIST_DIR)")
def test_tiny_run_writes_a_loadable_model(tmp_path, monkeypatch):
    pytest.importorskip("keras", reason="TensorFlow/Keras not installed")
    from classifier.runtime import DigitClassifier
    from classifier.train import TrainingRefused, train

    options = TrainOptions(mnist=MNIST, usps=None, arch="mlp", epochs=1, limit=2000, nondigits=200, pairs=200,
                           scan_sets=1, validation_size=1000, time_budget_min=0, out=tmp_path / "models", report=tmp_path / "report")
    metrics = train(options)
    assert metrics["mnist_test_accuracy"] > 0.5  # one epoch on 2,000 digits
    card = json.loads((tmp_path / "models" / "model_card.json").read_text())
    assert card["labels"][-1] == "?" and card["data_md5"]["t10k-images-idx3-ubyte.gz"]
    scans = card["training"]["scan_crops"]  # digits the pipeline cut from one generated set
    assert scans["sets"] == 1 and scans["crops"] > 100 and scans["model_sha256"]
    assert 0 <= scans["not_a_digit"] < scans["crops"]
    assert "as the reading pipeline cut them" in (tmp_path / "models" / "MODEL_CARD.md").read_text()
    for name in ("metrics.json", "confusion_matrix.png", "training_curves.png", "misclassified.png",
                 "error_reject.png", "model.keras"):
        assert (tmp_path / "report" / name).exists(), name
    shipped_keras = tmp_path / "models" / "model.keras"  # shipped for fine-tuning, recorded in the card
    assert shipped_keras.exists() and card["keras_sha256"] == sha256sum(shipped_keras)
    probs = DigitClassifier(tmp_path / "models").predict(np.zeros((2, 28, 28), np.float32))
    assert probs.shape == (2, 11)

    # Re-release the saved weights (new threshold policy, ensemble of runs...) without refitting.
    again = train(replace(options, from_keras=[tmp_path / "report" / "model.keras"],
                          out=tmp_path / "again", report=tmp_path / "again-report"))
    assert again["mnist_test_accuracy"] == metrics["mnist_test_accuracy"]
    card_again = json.loads((tmp_path / "again" / "model_card.json").read_text())
    assert card_again["training"]["epochs_run"] == 1 and card_again["training"]["release_command"]
    # ... or read each digit rotated too (--rotated-views): the card says so.
    train(replace(options, from_keras=[tmp_path / "report" / "model.keras"], rotations=6,
                  out=tmp_path / "rotated", report=tmp_path / "rotated-report"))
    card_rotated = json.loads((tmp_path / "rotated" / "model_card.json").read_text())
    assert card_rotated["training"]["rotated_views"] == 6 and "+-6 degrees" in card_rotated["architecture"]

    # A warm start (--init) continues from the saved weights; the card records the run they came from.
    warm = train(replace(options, init=tmp_path / "report" / "model.keras", out=tmp_path / "warm",
                         report=tmp_path / "warm-report"))
    assert warm["mnist_test_accuracy"] > 0.5
    card_warm = json.loads((tmp_path / "warm" / "model_card.json").read_text())
    assert card_warm["training"]["init"]["model"] == str(tmp_path / "report" / "model.keras")
    assert card_warm["training"]["init"]["epochs_run"] == 1 and "history" not in card_warm["training"]["init"]
    assert "Started from the weights of" in (tmp_path / "warm" / "MODEL_CARD.md").read_text()

    # Reviewed digits fed back (train --corrections results/results.db): 30 MNIST test digits
    # saved as paper-bright crops, as the pipeline saves flagged digits, each with a decision.
    pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy")
    from review.store import DecisionStore, dataset_id, default_db_url

    results = tmp_path / "results"
    (results / "flagged").mkdir(parents=True)
    images, labels = load_mnist(MNIST, "test")
    rows = [{"file": "scan.png", "page": 1, "string_id": i, "index": 1, "x": 40 * i, "y": 10, "w": 20,
             "h": 28, "digit": str(labels[i]), "confidence": 0.5, "flagged": True, "crop": f"flagged/d{i}.png"}
            for i in range(30)]
    pd.DataFrame(rows, columns=DIGIT_COLUMNS).to_csv(results / "digits.csv", index=False)
    store = DecisionStore(default_db_url(results))
    for i in range(30):
        cv2.imwrite(str(results / "flagged" / f"d{i}.png"), np.pad(255 - images[i], 6, constant_values=255))
        store.add(dataset_id(results), ("scan.png", 1, i, 1), str(labels[i]), "tester", crop=f"d{i}.png",
                  source=str(results.resolve()))
    store.close()
    finetuning = replace(options, corrections=str(results / "results.db"), report=tmp_path / "tuned-report")
    # The guard: a fine-tune that would cost MNIST accuracy writes nothing. (A one-epoch model at
    # ~81% moves by tenths of a point either way, so the limit is set here to make each path sure.)
    monkeypatch.setattr("classifier.finetune.MAX_MNIST_DROP", -1.0)  # any result counts as a drop
    with pytest.raises(TrainingRefused, match="would drop"):
        train(finetuning)
    assert json.loads((tmp_path / "models" / "model_card.json").read_text())["sha256"] == card["sha256"]
    monkeypatch.setattr("classifier.finetune.MAX_MNIST_DROP", 1.0)
    tuned = train(finetuning)
    card_tuned = json.loads((tmp_path / "models" / "model_card.json").read_text())
    record = card_tuned["training"]["finetune"]
    assert (record["corrections_train"], record["corrections_heldout"]) == (24, 6)
    assert record["before"]["mnist_test"] > 0.5 and record["after"]["mnist_test"] > 0.5
    assert tuned["mnist_test_accuracy"] > 0.5 and card_tuned["sha256"] != card["sha256"]
    assert "Fine-tuned on 24 reviewed digits" in (tmp_path / "models" / "MODEL_CARD.md").read_text()


def test_finetune_corrections_split_and_mix(tmp_path):
    pytest.importorskip("keras", reason="TensorFlow/Keras not installed")
    from classifier.finetune import corrections_source, mix, split_corrections
    from classifier.fit import TrainData
    from classifier.train import TrainingRefused

    images = np.random.default_rng(0).random((50, 28, 28)).astype(np.float32)
    labels = np.arange(50) % 11
    split = split_corrections(images, labels, seed=3)
    assert (len(split.x_train), len(split.x_held)) == (40, 10)
    held = {img.tobytes() for img in split.x_held}
    assert not held & {img.tobytes() for img in split.x_train}  # never trained on the measured slice
    assert split_corrections(images, labels, seed=3).y_held.tolist() == split.y_held.tolist()
    with pytest.raises(TrainingRefused, match="at least 10"):
        split_corrections(images[:9], labels[:9], seed=3)

    data = TrainData(np.zeros((2280, 28, 28), np.float32), np.zeros(2280, np.int32),
                     np.zeros((10, 28, 28), np.float32), np.zeros(10, np.int32), 10)
    x, y = mix(data, split)
    assert len(x) == len(y) == 2280 + 40 * 3  # corrections repeated to ~5% of the examples
    assert (y[2280:] == np.tile(split.y_train, 3)).all()

    db = tmp_path / "results.db"
    db.write_bytes(b"")
    assert corrections_source(db) == (tmp_path, f"sqlite:///{db.resolve()}")
    assert corrections_source(tmp_path) == (tmp_path, None)
    assert corrections_source("postgresql://host/db") == ("postgresql://host/db", None)
    with pytest.raises(FileNotFoundError, match="no such results folder"):
        corrections_source(tmp_path / "missing.db")
