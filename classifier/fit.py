"""The Keras part of training: data preparation, optimiser and schedule, fitting (one model or
an ensemble averaged into one)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from classifier.architectures import build_model, combined
from classifier.batches import steps_per_epoch, training_dataset
from classifier.datasets import load_mnist
from classifier.digit_pairs import generate_pairs
from classifier.nondigits import HELD_OUT_SEED, generate
from classifier.scan_crops import harvest

NOT_A_DIGIT = 10
DEFAULT_LR = {"adam": 2e-3, "sgd": 0.05, "adadelta": 1.0}  # peak learning rate per optimiser


@dataclass
class TrainData:
    """Training and validation arrays; validation digits come first in ``x_val``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_digits: int
    scan_crops: int = 0    # of x_train, cut by the pipeline from generated scans (last in x_train)
    scan_misread: int = 0  # of those, read wrongly by the model that cut them
    scan_pieces: int = 0   # of those, labelled '?' (pieces of a digit cut in two, stray marks)


def prepare_data(options) -> TrainData:
    """MNIST train minus the validation tail, plus seeded non-digit crops and crops of digits
    run together (both class '?') for both splits (pairs are made from each split's own digits),
    plus, with ``options.scan_sets``, the training digits as the pipeline cuts them from scans."""
    images, labels = load_mnist(options.mnist, "train")
    images = images.astype(np.float32) / 255.0
    cut = len(images) - options.validation_size
    x_tr, y_tr = images[:cut], labels[:cut]
    if options.limit:
        x_tr, y_tr = x_tr[: options.limit], y_tr[: options.limit]
    # Seeds derived from the run seed, never equal to the held-out measurement seed.
    nd_seed = 7919 * options.seed + 17
    assert nd_seed not in (HELD_OUT_SEED, HELD_OUT_SEED - 1)
    nd_train = np.concatenate([generate(options.nondigits, nd_seed),
                               generate_pairs(x_tr, options.pairs, nd_seed + 2)])
    x_val_digits = images[cut:]
    nd_val = np.concatenate([generate(max(200, options.nondigits // 10), nd_seed + 1),
                             generate_pairs(x_val_digits, options.pairs // 10, nd_seed + 3)])
    # Digits as the pipeline cuts them from scans, from the same training digits (never validation);
    # only for a fit from scratch or --init (a release or a fine-tune on corrections trains no crops).
    fitting = not (options.from_keras or options.corrections)
    scans = harvest(options.mnist, options.scan_sets if fitting else 0, options.seed, len(x_tr), options.scan_model)
    x_train = np.concatenate([x_tr, nd_train, scans.x])
    y_train = np.concatenate([y_tr, np.full(len(nd_train), NOT_A_DIGIT), scans.y]).astype(np.int32)
    x_val = np.concatenate([x_val_digits, nd_val])
    y_val = np.concatenate([labels[cut:], np.full(len(nd_val), NOT_A_DIGIT)]).astype(np.int32)
    return TrainData(x_train, y_train, x_val, y_val, len(images) - cut, len(scans.x), int(scans.misread.sum()),
                     int((scans.y == NOT_A_DIGIT).sum()))


@keras.saving.register_keras_serializable(package="digits")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 1% of it at
    ``total`` steps. ``total`` is a variable so the time budget can shorten the run."""

    def __init__(self, peak: float, warmup: int, total: int) -> None:
        self.peak, self.warmup = float(peak), int(warmup)
        self.total = keras.Variable(float(total), trainable=False, name="schedule_total_steps")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * (0.1 + 0.9 * step / max(1, self.warmup))
        span = ops.maximum(self.total - self.warmup, 1.0)
        progress = ops.clip((step - self.warmup) / span, 0.0, 1.0)
        cosine = self.peak * (0.01 + 0.99 * 0.5 * (1.0 + ops.cos(np.pi * progress)))
        return ops.where(step < self.warmup, warm, cosine)

    def get_config(self) -> dict:
        return {"peak": self.peak, "warmup": self.warmup, "total": int(self.total.numpy())}


def make_optimizer(name: str, schedule) -> keras.optimizers.Optimizer:
    """The named optimiser driven by ``schedule``."""
    if name == "adam":
        return keras.optimizers.Adam(schedule)
    if name == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)
    if name == "adadelta":
        return keras.optimizers.Adadelta(schedule)
    raise ValueError(f"unknown optimizer {name!r}")


FINISH_RESERVE_S = 150.0  # calibration, export, measurement and report after fitting (~2 min)


def budget_clock() -> float:
    """Wall-clock seconds (monotonic): the budget is the time a user waits for the command.
    (CPU time / cores under-counts it: training keeps only ~1.5 of 2 cores busy, so a CPU
    budget of 30 minutes ran ~37 minutes on the clock.) On a busy machine fewer epochs fit."""
    return time.monotonic()


class TimeBudget(keras.callbacks.Callback):
    """Keeps fitting within ``seconds`` of :func:`budget_clock` from ``started``: when the epochs
    left would overrun the budget, the cosine schedule is compressed to end at the last
    affordable epoch (so the run still finishes with a low learning rate); re-planned after every
    epoch, never beyond ``epochs``. On a machine fast enough for all epochs it changes nothing,
    and the run stays reproducible."""

    def __init__(self, seconds: float, schedule: WarmupCosine, steps: int, epochs: int,
                 started: float) -> None:
        super().__init__()
        self.seconds, self.schedule, self.steps = seconds, schedule, steps
        self.epochs, self.planned, self.started = epochs, epochs, started
        self.epoch_start, self.durations = started, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = budget_clock()

    def on_epoch_end(self, epoch, logs=None):
        now, done = budget_clock(), epoch + 1
        self.durations.append(now - self.epoch_start)
        # The first epoch also traces the graph and starts the augmentation worker: once a
        # second one is timed it no longer counts, and the plan may grow back (up to the
        # epochs asked for) when later epochs are faster.
        per_epoch = float(np.mean(self.durations[1:][-2:] or self.durations))
        affordable = done + int((self.seconds - (now - self.started)) // per_epoch)
        planned = min(self.epochs, max(done, affordable))
        if planned != self.planned:
            self.planned = planned
            self.schedule.total.assign(float(self.planned * self.steps))
            print(f"time budget: {per_epoch:.0f} s/epoch, schedule now ends at epoch {self.planned}")
        if done >= self.planned:
            self.model.stop_training = True


def fit_one(options, data: TrainData, seed: int, started: float,
            name: str | None = None) -> tuple[keras.Model, dict, int]:
    """One model trained with ``seed``; returns it with its per-epoch history and the epoch its
    learning-rate schedule ended at (``options.epochs`` unless the time budget shortened it)."""
    keras.utils.set_random_seed(seed)
    if options.init:  # continue from saved weights (a warm start)
        model = keras.models.load_model(options.init, compile=False)
    else:
        model = build_model(options.arch, name=name, bn_momentum=options.bn_momentum)
    steps = steps_per_epoch(len(data.x_train), options.batch_size)
    peak = options.learning_rate or DEFAULT_LR[options.optimizer]
    schedule = WarmupCosine(peak, steps if options.epochs > 1 else 0, steps * options.epochs)
    model.compile(optimizer=make_optimizer(options.optimizer, schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    dataset = training_dataset(data.x_train, data.y_train, options.batch_size, seed, options.augment)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience,
                                      restore_best_weights=True),
    ]
    budget = None
    if options.time_budget_min > 0:
        budget = TimeBudget(60.0 * options.time_budget_min - FINISH_RESERVE_S, schedule, steps,
                            options.epochs, started)
        callbacks.append(budget)
    history = model.fit(dataset, steps_per_epoch=steps, epochs=options.epochs,
                        validation_data=(data.x_val, data.y_val), validation_batch_size=512,
                        callbacks=callbacks, shuffle=False, verbose=2)  # batches come shuffled
    history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return model, history, budget.planned if budget else options.epochs


def train_models(options, data: TrainData, started: float) -> tuple[keras.Model, list[dict], list[int]]:
    """The trained model (a logit-averaging ensemble when ``options.ensemble > 1``), the
    history of each member and the epoch each member's schedule ended at. Each member has its
    own time budget; the first one's clock started with the run (``started``), data
    preparation included."""
    tf.config.experimental.enable_op_determinism()
    members, histories, ends = [], [], []
    for i in range(max(1, options.ensemble)):
        name = f"digits_{options.arch}" if options.ensemble <= 1 else f"digits_{options.arch}_{i + 1}"
        model, history, end = fit_one(options, data, options.seed + 1000 * i,
                                      started if i == 0 else budget_clock(), name)
        members.append(model)
        histories.append(history)
        ends.append(end)
    model = combined(members, options.rotations)
    return model, histories, ends


def card_beside(path) -> dict:
    """The model card a training run wrote beside a saved Keras model (empty when there is
    none), its ``training`` record holding the run's per-epoch history when known."""
    import json
    from pathlib import Path

    card_path, metrics_path = Path(path).with_name("model_card.json"), Path(path).with_name("metrics.json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    training = card.setdefault("training", {})
    if "history" not in training and metrics_path.is_file():  # the run's per-epoch curves
        training["history"] = json.loads(metrics_path.read_text()).get("history", [])
    return card


def load_models(paths: list, rotations: float = 0.0) -> tuple[keras.Model, list[dict]]:
    """Saved Keras models (several are averaged into one ensemble, each also read rotated by
    +-``rotations`` degrees when given) and, for each, the model card its training run wrote
    beside it (see :func:`card_beside`)."""
    models = [keras.models.load_model(path) for path in paths]
    cards = [card_beside(path) for path in paths]
    return combined(models, rotations), cards
