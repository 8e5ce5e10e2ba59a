"""The pair reader: a CNN that reads two touching handwritten digits as one crop.

When two digits touch or overlap, no cut gives both of them whole: a '4' tucked under the hook
of a '5' loses its left half to whichever side the cut gives it, and the digit classifier then
reads the remains ('54' read '51'). The pair reader sees the whole component (normalised by
``segmentation.normalize.to_pair`` to 28x56) and names both digits, one softmax head each; the
splitter blends its reading with the classifier's on the cut parts (``segmentation.touching``).

Training pairs are written by the sample generator's own handwriting code
(``synth.handwriting.write``, pushed together as on generated pages) from MNIST *training* digits
(the last ``VALIDATION`` of them kept for calibration); the test pairs from MNIST test digits.
Run as ``python cli.py train-pairs --mnist ../shared/data/mnist --out models``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.datasets import default_dir, load_mnist, mnist_checksums
from segmentation.normalize import PAIR_SHAPE, to_pair

MODEL_FILE = "pairs.tflite"
CARD_FILE = "pairs_card.json"
VALIDATION = 6000           # last MNIST training digits: calibration pairs only
HEIGHTS = (24, 90)          # px, digit heights drawn (150-300 dpi handwriting)
INK_LEVEL = (0.35, 0.65)    # the ink coverage the mask is cut at (thin or bold binarisation)


@dataclass
class PairOptions:
    mnist: Path
    out: Path = Path("models")
    pairs: int = 60000
    epochs: int = 5
    batch_size: int = 128
    seed: int = 1
    check_pairs: int = 3000   # calibration pairs, and as many test pairs


def write_pairs(images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> Iterator[tuple[np.ndarray, tuple[int, int]]]:
    """``n`` touching pairs of the given MNIST digits as the page reader gets them: a bool mask
    (the pen's ink cut at a random level) and the two labels. Deterministic per ``seed``."""
    from synth.handwriting import write
    from synth.source import DigitSource

    rng = np.random.default_rng(seed)
    source = DigitSource(images, labels, rng, legible_only=False)
    for _ in range(n):
        a, b = (int(d) for d in rng.integers(0, 10, 2))
        hand = write(f"{a}{b}", source, int(rng.integers(*HEIGHTS)), rng, n_touching=1)
        yield hand.alpha > rng.uniform(*INK_LEVEL), (a, b)


def make_pairs(images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`write_pairs` through ``to_pair``: (n, 28, 56) float32 crops and (n, 2) labels."""
    x = np.zeros((n,) + PAIR_SHAPE, np.float32)
    y = np.zeros((n, 2), np.int64)
    for i, (mask, pair) in enumerate(write_pairs(images, labels, n, seed)):
        x[i], y[i] = to_pair(mask), pair
    return x, y


def build(seed: int):
    """Three double-conv blocks (batch norm, max pooling) and a dense layer shared by two
    10-way heads (left digit, right digit), logits out as one (N, 20) tensor."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(PAIR_SHAPE)
    h = layers.Reshape(PAIR_SHAPE + (1,))(inputs)
    for filters in (32, 64, 128):
        for _ in range(2):
            h = layers.Conv2D(filters, 3, padding="same", use_bias=False)(h)
            h = layers.BatchNormalization()(h)
            h = layers.ReLU()(h)
        h = layers.MaxPooling2D()(h)
    h = layers.Dropout(0.3)(layers.Flatten()(h))
    h = layers.Dropout(0.3)(layers.Dense(256, activation="relu")(h))
    left, right = layers.Dense(10, name="left")(h), layers.Dense(10, name="right")(h)
    return keras.Model(inputs, layers.Concatenate(name="logits")([left, right]))


def _pair_loss(y_true, logits):
    import keras

    loss = keras.losses.sparse_categorical_crossentropy
    y_true = keras.ops.cast(y_true, "int32")
    return (loss(y_true[:, 0], logits[:, :10], from_logits=True)
            + loss(y_true[:, 1], logits[:, 10:], from_logits=True))


def both_right(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """True where both heads' top digit is right."""
    return (logits[:, :10].argmax(1) == labels[:, 0]) & (logits[:, 10:].argmax(1) == labels[:, 1])


def train_pairs(options: PairOptions) -> dict:
    """Fit, calibrate (one temperature for both heads), export to LiteRT and write the card."""
    import keras

    from classifier.calibration import fit_temperature
    from classifier.export import to_tflite
    from classifier.runtime import sha256sum

    started = time.time()
    images, labels = load_mnist(options.mnist, "train")
    fit_end = len(images) - VALIDATION
    test_images, test_labels = load_mnist(options.mnist, "test")
    x, y = make_pairs(images[:fit_end], labels[:fit_end], options.pairs, options.seed)
    vx, vy = make_pairs(images[fit_end:], labels[fit_end:], options.check_pairs, options.seed + 1)
    tx, ty = make_pairs(test_images, test_labels, options.check_pairs, options.seed + 2)
    model = build(options.seed)
    steps = options.epochs * max(1, len(x) // options.batch_size)  # the learning rate decays to 0
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)), _pair_loss)
    model.fit(x, y, batch_size=options.batch_size, epochs=options.epochs, verbose=2)
    val_logits, test_logits = model.predict(vx, verbose=0), model.predict(tx, verbose=0)
    # One temperature for both heads: each head's 10 logits are one categorical prediction.
    temperature = fit_temperature(np.concatenate([val_logits[:, :10], val_logits[:, 10:]]),
                                  np.concatenate([vy[:, 0], vy[:, 1]]))
    options.out.mkdir(parents=True, exist_ok=True)
    path = to_tflite(model, options.out / MODEL_FILE, PAIR_SHAPE)
    card = {
        "model": MODEL_FILE, "sha256": sha256sum(path), "input_shape": list(PAIR_SHAPE),
        "outputs": "logits: left digit 0-9, then right digit 0-9", "temperature": temperature,
        "command": shlex.join(["python", *sys.argv]),
        "seed": options.seed, "epochs": options.epochs, "training_pairs": options.pairs,
        "architecture": "3 x (conv3x3-BN-ReLU x2, maxpool 2) 32/64/128, dense 256, dropout 0.3, two 10-way heads",
        "parameters": int(model.count_params()),
        "data_md5": mnist_checksums(options.mnist),
        "data": (f"pairs written by synth.handwriting (touching, {HEIGHTS[0]}-{HEIGHTS[1]} px tall, mask cut "
                 f"at ink {INK_LEVEL[0]}-{INK_LEVEL[1]}) from MNIST training digits 0-{fit_end - 1}; "
                 f"calibration pairs from digits {fit_end}-{len(images) - 1}; test pairs from MNIST test digits"),
        "metrics": {"test_pairs": len(tx), "test_pair_accuracy": float(both_right(test_logits, ty).mean()),
                    "validation_pair_accuracy": float(both_right(val_logits, vy).mean())},
        "training_minutes": round((time.time() - started) / 60, 1),
        "license": "Derived from MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), CC BY-SA 3.0",
    }
    (options.out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    return card


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mnist = default_dir("DIGITS_MNIST_DIR", "mnist")
    parser.add_argument("--mnist", type=Path, default=mnist, required=mnist is None,
                        help="folder with the four MNIST .gz files (env DIGITS_MNIST_DIR)")
    parser.add_argument("--out", type=Path, default=Path("models"), help="where pairs.tflite and its card go")
    parser.add_argument("--pairs", type=int, default=PairOptions.pairs, help="training pairs generated")
    parser.add_argument("--epochs", type=int, default=PairOptions.epochs)
    parser.add_argument("--seed", type=int, default=PairOptions.seed)


def options_from_args(args: argparse.Namespace) -> PairOptions:
    return PairOptions(mnist=args.mnist, out=args.out, pairs=args.pairs, epochs=args.epochs, seed=args.seed)
