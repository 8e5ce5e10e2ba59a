"""The pair reader: a CNN that reads two touching handwritten digits as one crop.

When two digits touch or overlap, no cut gives both of them whole: a '4' tucked under the hook
of a '5' loses its left half to whichever side the cut gives it, and the digit classifier then
reads the remains ('54' read '51'). The pair reader sees the whole component (normalised by
``segmentation.normalize.to_pair`` to 28x56) and names both digits, one softmax head each; the
splitter blends its reading with the classifier's on the cut parts (``segmentation.touching``).
A third head says whether the crop holds two digits or one: the splitter asks it where one
digit and two were a close call ('71' written as tight as one digit, a wide '0' that cuts into
'10'), which the digit classifier, taught single digits and shown one crop at a time, cannot judge.

Training pairs are written by the sample generator's own handwriting code
(``synth.handwriting.write``, pushed together as on generated pages) from MNIST *training* digits
(the last ``VALIDATION`` of them kept for calibration), with single digits written the same way
as the "one digit" examples of the third head; the test crops from MNIST test digits.
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
from classifier.runtime import PAIR_CARD_FILE, PAIR_MODEL_FILE, PAIR_OUTPUTS, sha256sum
from segmentation.normalize import PAIR_SHAPE, to_pair
from segmentation.touching import TIGHT_SURE  # the card reports the head at the splitter's bar

VALIDATION = 6000           # last MNIST training digits: calibration pairs only
HEIGHTS = (24, 90)          # px, digit heights drawn (150-300 dpi handwriting)
INK_LEVEL = (0.35, 0.65)    # the ink coverage the mask is cut at (thin or bold binarisation)


@dataclass
class PairOptions:
    mnist: Path
    out: Path = Path("models")
    pairs: int = 60000
    singles: int = 20000      # one-digit crops: the two-digit head's negatives
    epochs: int = 4
    batch_size: int = 128
    seed: int = 1
    check_pairs: int = 3000   # calibration pairs, and as many test pairs (and half as many singles)



def write_pairs(images: np.ndarray, labels: np.ndarray, n: int, seed: int,
                digits: int = 2) -> Iterator[tuple[np.ndarray, tuple[int, ...]]]:
    """``n`` touching pairs (or, with ``digits=1``, single digits) of the given MNIST digits as
    the page reader gets them: a bool mask (the pen's ink cut at a random level) and the
    labels. Deterministic per ``seed``."""
    from synth.handwriting import write
    from synth.source import DigitSource

    rng = np.random.default_rng(seed)
    source = DigitSource(images, labels, rng, legible_only=False)
    for _ in range(n):
        written = tuple(int(d) for d in rng.integers(0, 10, digits))
        hand = write("".join(map(str, written)), source, int(rng.integers(*HEIGHTS)), rng, n_touching=digits - 1)
        yield hand.alpha > rng.uniform(*INK_LEVEL), written


def make_pairs(images: np.ndarray, labels: np.ndarray, n: int, seed: int,
               singles: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`write_pairs` through ``to_pair``: (n + singles, 28, 56) float32 crops and
    (n + singles, 3) labels (left digit, right digit, 1 for a pair), ``n`` pairs then
    ``singles`` single digits (labelled (-1, -1, 0): no left or right digit to learn)."""
    x = np.zeros((n + singles,) + PAIR_SHAPE, np.float32)
    y = np.full((n + singles, 3), -1, np.int64)
    written = [(mask, (*pair, 1)) for mask, pair in write_pairs(images, labels, n, seed)]
    written += [(mask, (-1, -1, 0)) for mask, _ in write_pairs(images, labels, singles, seed + 1000, digits=1)]
    for i, (mask, label) in enumerate(written):
        x[i], y[i] = to_pair(mask), label
    return x, y


def build(seed: int):
    """Three double-conv blocks (batch norm, max pooling) and a dense layer shared by two
    10-way heads (left digit, right digit) and a two-digits-or-one logit, out as one
    (N, PAIR_OUTPUTS) tensor."""
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
    two = layers.Dense(1, name="two")(h)
    return keras.Model(inputs, layers.Concatenate(name="logits")([left, right, two]))


def _pair_loss(y_true, logits):
    """Both digits' cross-entropy on pairs (singles have no left and right digit) plus the
    two-digits head's binary cross-entropy on everything."""
    import keras
    from keras import ops

    y_true = ops.cast(y_true, "int32")
    pair = ops.cast(y_true[:, 2], "float32")
    ce = keras.losses.sparse_categorical_crossentropy
    digits = (ce(ops.maximum(y_true[:, 0], 0), logits[:, :10], from_logits=True)
              + ce(ops.maximum(y_true[:, 1], 0), logits[:, 10:20], from_logits=True))
    two = keras.losses.binary_crossentropy(pair[:, None], logits[:, 20:], from_logits=True)
    return pair * digits + two


def both_right(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """True where both heads' top digit is right (pairs only: rows labelled as pairs)."""
    pairs = labels[:, 2] == 1
    return ((logits[pairs, :10].argmax(1) == labels[pairs, 0]) & (logits[pairs, 10:20].argmax(1) == labels[pairs, 1]))


def two_scores(logits: np.ndarray, labels: np.ndarray, temperature: float, sure: float) -> dict:
    """How well the two-digits head tells pairs from single digits: accuracy at 0.5, and at
    ``sure`` (the splitter's bar) the share of pairs it is that sure of and of singles it wrongly is."""
    two = 1.0 / (1.0 + np.exp(-logits[:, 20] / temperature))
    pairs = labels[:, 2] == 1
    return {"accuracy": float(((two >= 0.5) == pairs).mean()),
            f"pairs_at_{sure}": float((two[pairs] >= sure).mean()),
            f"singles_at_{sure}": float((two[~pairs] >= sure).mean())}


def train_pairs(options: PairOptions) -> dict:
    """Fit, calibrate (one temperature for both heads), export to LiteRT and write the card."""
    import keras

    from classifier.calibration import fit_temperature
    from classifier.export import FORMATS, RELEASE_QUANTIZED, to_tflite

    started = time.time()
    images, labels = load_mnist(options.mnist, "train")
    fit_end = len(images) - VALIDATION
    test_images, test_labels = load_mnist(options.mnist, "test")
    x, y = make_pairs(images[:fit_end], labels[:fit_end], options.pairs, options.seed, options.singles)
    check_singles = options.check_pairs // 2
    vx, vy = make_pairs(images[fit_end:], labels[fit_end:], options.check_pairs, options.seed + 1, check_singles)
    tx, ty = make_pairs(test_images, test_labels, options.check_pairs, options.seed + 2, check_singles)
    order = np.random.default_rng(options.seed).permutation(len(x))  # pairs and singles mixed in every batch
    x, y = x[order], y[order]
    model = build(options.seed)
    steps = options.epochs * max(1, len(x) // options.batch_size)  # the learning rate decays to 0
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)), _pair_loss)
    model.fit(x, y, batch_size=options.batch_size, epochs=options.epochs, verbose=2)
    val_logits, test_logits = model.predict(vx, verbose=0), model.predict(tx, verbose=0)
    # One temperature for both digit heads (each head's 10 logits are one categorical prediction,
    # fitted on pairs only), one for the two-digits logit (as the two-class logits (0, z)).
    pairs = vy[:, 2] == 1
    temperature = fit_temperature(np.concatenate([val_logits[pairs, :10], val_logits[pairs, 10:20]]),
                                  np.concatenate([vy[pairs, 0], vy[pairs, 1]]))
    two_logits = np.stack([np.zeros(len(vy)), val_logits[:, 20]], axis=1)
    two_temperature = fit_temperature(two_logits, vy[:, 2])
    options.out.mkdir(parents=True, exist_ok=True)
    path = to_tflite(model, options.out / PAIR_MODEL_FILE, PAIR_SHAPE, quantize=RELEASE_QUANTIZED)
    card = {
        "model": PAIR_MODEL_FILE, "sha256": sha256sum(path), "format": FORMATS[RELEASE_QUANTIZED],
        "input_shape": list(PAIR_SHAPE),
        "outputs": "logits: left digit 0-9, right digit 0-9, then one logit for two digits rather than one",
        "temperature": temperature, "two_temperature": two_temperature,
        "command": shlex.join(["python", *sys.argv]),
        "seed": options.seed, "epochs": options.epochs, "training_pairs": options.pairs,
        "training_singles": options.singles,
        "architecture": ("3 x (conv3x3-BN-ReLU x2, maxpool 2) 32/64/128, dense 256, dropout 0.3, two 10-way "
                         "heads and a two-digits logit"),
        "parameters": int(model.count_params()),
        "data_md5": mnist_checksums(options.mnist),
        "data": (f"pairs written by synth.handwriting (touching, {HEIGHTS[0]}-{HEIGHTS[1]} px tall, mask cut "
                 f"at ink {INK_LEVEL[0]}-{INK_LEVEL[1]}) and single digits written the same way, from MNIST "
                 f"training digits 0-{fit_end - 1}; calibration crops from digits {fit_end}-{len(images) - 1}; "
                 f"test crops from MNIST test digits"),
        "metrics": {"test_pairs": options.check_pairs, "test_singles": check_singles,
                    "test_pair_accuracy": float(both_right(test_logits, ty).mean()),
                    "validation_pair_accuracy": float(both_right(val_logits, vy).mean()),
                    "test_two_digits": two_scores(test_logits, ty, two_temperature, TIGHT_SURE)},
        "training_minutes": round((time.time() - started) / 60, 1),
        "license": "Derived from MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), CC BY-SA 3.0",
    }
    (options.out / PAIR_CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
    return card


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mnist = default_dir("DIGITS_MNIST_DIR", "mnist")
    parser.add_argument("--mnist", type=Path, default=mnist, required=mnist is None,
                        help="folder with the four MNIST .gz files (env DIGITS_MNIST_DIR)")
    parser.add_argument("--out", type=Path, default=Path("models"), help="where pairs.tflite and its card go")
    parser.add_argument("--pairs", type=int, default=PairOptions.pairs, help="training pairs generated")
    parser.add_argument("--singles", type=int, default=PairOptions.singles,
                        help="training single digits generated (the two-digits head's negatives)")
    parser.add_argument("--epochs", type=int, default=PairOptions.epochs)
    parser.add_argument("--seed", type=int, default=PairOptions.seed)


def options_from_args(args: argparse.Namespace) -> PairOptions:
    return PairOptions(mnist=args.mnist, out=args.out, pairs=args.pairs, singles=args.singles,
                       epochs=args.epochs, seed=args.seed)
