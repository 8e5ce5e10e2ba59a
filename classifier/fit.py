"""The Keras part of training: data preparation, optimiser and schedule, fitting (one model or
an ensemble averaged into one)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from classifier.architectures import build_model, ensemble_model
from classifier.batches import steps_per_epoch, training_dataset
from classifier.datasets import load_mnist
from classifier.nondigits import HELD_OUT_SEED, generate

NOT_A_DIGIT = 10


@dataclass
class TrainData:
    """Training and validation arrays; validation digits come first in ``x_val``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    val_digits: int


def prepare_data(options) -> TrainData:
    """MNIST train minus the validation tail, plus seeded non-digit crops for both splits."""
    images, labels = load_mnist(options.mnist, "train")
    images = images.astype(np.float32) / 255.0
    cut = len(images) - options.validation_size
    x_tr, y_tr = images[:cut], labels[:cut]
    if options.limit:
        x_tr, y_tr = x_tr[: options.limit], y_tr[: options.limit]
    # Seeds derived from the run seed, never equal to the held-out measurement seed.
    nd_seed = 7919 * options.seed + 17
    assert nd_seed not in (HELD_OUT_SEED, HELD_OUT_SEED - 1)
    nd_train = generate(options.nondigits, nd_seed)
    nd_val = generate(max(200, options.nondigits // 10), nd_seed + 1)
    x_train = np.concatenate([x_tr, nd_train])
    y_train = np.concatenate([y_tr, np.full(len(nd_train), NOT_A_DIGIT)]).astype(np.int32)
    x_val = np.concatenate([images[cut:], nd_val])
    y_val = np.concatenate([labels[cut:], np.full(len(nd_val), NOT_A_DIGIT)]).astype(np.int32)
    return TrainData(x_train, y_train, x_val, y_val, len(images) - cut)


def make_optimizer(name: str, peak: float, steps: int, epochs: int) -> keras.optimizers.Optimizer:
    """Optimiser with one warm-up epoch then cosine decay to 1% of ``peak``."""
    if epochs > 1:
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=peak * 0.1, decay_steps=steps * (epochs - 1), alpha=0.01,
            warmup_target=peak, warmup_steps=steps)
    else:
        rate = peak
    if name == "adam":
        return keras.optimizers.Adam(rate)
    if name == "sgd":
        return keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)
    if name == "adadelta":
        return keras.optimizers.Adadelta(rate)
    raise ValueError(f"unknown optimizer {name!r}")


class TimeBudget(keras.callbacks.Callback):
    """Stop before an epoch would end past the budget (the CPU is shared; keep a bound)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.start, self.longest = seconds, time.time(), 0.0
        self.epoch_start = self.start

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        now = time.time()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            print(f"time budget reached after epoch {epoch + 1}; stopping")
            self.model.stop_training = True


def fit_one(options, data: TrainData, seed: int) -> tuple[keras.Model, dict]:
    """One model trained with ``seed``; returns it with its per-epoch history."""
    from classifier.train import DEFAULT_LR

    keras.utils.set_random_seed(seed)
    model = build_model(options.arch)
    steps = steps_per_epoch(len(data.x_train), options.batch_size)
    peak = options.learning_rate or DEFAULT_LR[options.optimizer]
    model.compile(optimizer=make_optimizer(options.optimizer, peak, steps, options.epochs),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    dataset = training_dataset(data.x_train, data.y_train, options.batch_size, seed, options.augment)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=options.patience,
                                      restore_best_weights=True),
        TimeBudget(60.0 * options.time_budget_min),
    ]
    history = model.fit(dataset, steps_per_epoch=steps, epochs=options.epochs,
                        validation_data=(data.x_val, data.y_val), validation_batch_size=512,
                        callbacks=callbacks, verbose=2)
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def train_models(options, data: TrainData) -> tuple[keras.Model, list[dict]]:
    """The trained model (a logit-averaging ensemble when ``options.ensemble > 1``) and the
    history of each member."""
    tf.config.experimental.enable_op_determinism()
    members, histories = [], []
    for i in range(max(1, options.ensemble)):
        model, history = fit_one(options, data, options.seed + 1000 * i)
        members.append(model)
        histories.append(history)
    model = members[0] if len(members) == 1 else ensemble_model(members)
    return model, histories
