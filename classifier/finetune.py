"""Fine-tuning the shipped model on reviewed digits (``train --corrections``).

Reviewers' decisions (``review/``) turn the digits the model was unsure of into labelled crops.
Training on them alone would make the model forget MNIST, so each epoch mixes them with the
MNIST training digits and generated '?' crops, the corrections repeated up to CORRECTION_SHARE of
the examples, at a small learning rate. A seeded slice of the corrections is held out and never
trained on: accuracy on it before and after is the measure of the gain, and MNIST test accuracy
before and after guards against forgetting (the release is refused if it drops by more than
MAX_MNIST_DROP).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from classifier.batches import steps_per_epoch, training_dataset
from classifier.datasets import load_mnist
from classifier.fit import TrainData, WarmupCosine, make_optimizer
from classifier.release import KERAS_FILE
from classifier.train import TrainingRefused

HOLDOUT_SHARE = 0.2      # of the corrections, kept for measurement
MIN_CORRECTIONS = 10     # fewer than this is not worth a new model
CORRECTION_SHARE = 0.05  # of the training examples per epoch (corrections repeated to reach it)
FINETUNE_LR = 2e-4       # peak; about a tenth of training's, so MNIST is not forgotten
MAX_MNIST_DROP = 0.001   # the limit: 0.1 point of MNIST test accuracy


@dataclass
class Corrections:
    """Reviewed crops split into a training part and a held-out part."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_held: np.ndarray
    y_held: np.ndarray


def corrections_source(value: str | Path) -> tuple[str | Path, str | None]:
    """``load_corrections`` arguments for what the user passed: a results folder, its
    ``results.db`` (any SQLite file inside a results folder) or a SQLAlchemy URL."""
    text = str(value)
    if "://" in text:
        return text, None
    path = Path(value)
    if path.is_file():
        return path.parent, f"sqlite:///{path.resolve()}"
    if path.is_dir():
        return path, None
    raise FileNotFoundError(f"{path}: no such results folder or database")


def split_corrections(images: np.ndarray, labels: np.ndarray, seed: int,
                      share: float = HOLDOUT_SHARE) -> Corrections:
    """A seeded random ``share`` of the corrections held out (at least one)."""
    if len(images) < MIN_CORRECTIONS:
        raise TrainingRefused(f"only {len(images)} reviewed digits with a readable crop; "
                              f"at least {MIN_CORRECTIONS} are needed to fine-tune and measure")
    order = np.random.default_rng(seed).permutation(len(images))
    n_held = max(1, int(round(share * len(images))))
    held, train = order[:n_held], order[n_held:]
    return Corrections(images[train], labels[train], images[held], labels[held])


def mix(data: TrainData, corrections: Corrections,
        share: float = CORRECTION_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """MNIST (+ '?') training examples plus the training corrections repeated to make up about
    ``share`` of the result (each correction at least once)."""
    n = len(corrections.x_train)
    repeats = max(1, int(round(share * len(data.x_train) / ((1 - share) * n))))
    x = np.concatenate([data.x_train, np.tile(corrections.x_train, (repeats, 1, 1))])
    y = np.concatenate([data.y_train, np.tile(corrections.y_train, repeats)]).astype(np.int32)
    return x, y


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy over all 11 classes ('?' = 10)."""
    if len(images) == 0:
        return float("nan")
    logits = model.predict(images, batch_size=512, verbose=0)
    return float((logits.argmax(axis=1) == labels).mean())


def measure(model: keras.Model, corrections: Corrections, mnist_x: np.ndarray, mnist_y: np.ndarray) -> dict:
    return {"corrections_heldout": accuracy(model, corrections.x_held, corrections.y_held),
            "corrections_train": accuracy(model, corrections.x_train, corrections.y_train),
            "mnist_test": accuracy(model, mnist_x, mnist_y)}


def finetune(options, data: TrainData, base: keras.Model, corrections: Corrections) -> tuple[keras.Model, dict]:
    """``base`` fine-tuned in place; returns it with the before/after measurements. Raises
    :class:`TrainingRefused` when MNIST test accuracy drops by more than MAX_MNIST_DROP."""
    test_x, test_y = load_mnist(options.mnist, "test")
    test_x = test_x.astype(np.float32) / 255.0
    before = measure(base, corrections, test_x, test_y)
    keras.utils.set_random_seed(options.seed)
    x, y = mix(data, corrections)
    steps = steps_per_epoch(len(x), options.batch_size)
    epochs = options.epochs
    schedule = WarmupCosine(options.learning_rate or FINETUNE_LR, steps // 4, steps * epochs)
    base.compile(optimizer=make_optimizer("adam", schedule),
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    started = time.time()
    history = base.fit(training_dataset(x, y, options.batch_size, options.seed, options.augment),
                       steps_per_epoch=steps, epochs=epochs, validation_data=(data.x_val, data.y_val),
                       validation_batch_size=512, shuffle=False, verbose=2)
    after = measure(base, corrections, test_x, test_y)
    report = {"before": before, "after": after, "seconds": round(time.time() - started, 1),
              "corrections_train": int(len(corrections.x_train)),
              "corrections_heldout": int(len(corrections.x_held)),
              "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}}
    drop = before["mnist_test"] - after["mnist_test"]
    if drop > MAX_MNIST_DROP:
        raise TrainingRefused(
            f"MNIST test accuracy would drop {100 * drop:.2f} points ({before['mnist_test']:.4f} -> "
            f"{after['mnist_test']:.4f}; the limit is {100 * MAX_MNIST_DROP:.1f}); nothing written. "
            "Try fewer --epochs or a lower --lr.")
    return base, report


def summary(report: dict) -> str:
    """Before/after lines for the console."""
    b, a = report["before"], report["after"]
    return "\n".join([
        f"fine-tuned on {report['corrections_train']} reviewed digits "
        f"({report['corrections_heldout']} held out) mixed with MNIST, {report['seconds'] / 60:.1f} min",
        f"held-out corrections accuracy {b['corrections_heldout']:.4f} -> {a['corrections_heldout']:.4f}",
        f"MNIST test accuracy {b['mnist_test']:.4f} -> {a['mnist_test']:.4f}",
    ])


def base_model_path(out: Path, given: Path | None) -> Path:
    """The Keras model to fine-tune: ``given``, or the one shipped in ``out``."""
    path = Path(given) if given else Path(out) / KERAS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no Keras model to fine-tune (pass --base MODEL.keras)")
    return path
