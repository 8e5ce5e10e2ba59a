"""Keras model definitions. Every model maps (N, 28, 28) float32 in [0, 1] to (N, C) logits.

Logits (not probabilities) come out so that temperature scaling can be applied at run time.
"""
from __future__ import annotations

import keras
from keras import layers

ARCHITECTURES = ("mlp", "cnn", "deep")


def _conv(x, filters: int, bn: float, kernel: int = 3, strides: int = 1, padding: str = "valid"):
    # Conv without bias: batch norm right after makes the bias redundant.
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    return layers.Activation("relu")(layers.BatchNormalization(momentum=bn)(x))


def _mlp(x, classes: int, bn: float):
    x = layers.Flatten()(x)
    for units in (512, 256):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(0.25)(x)
    return layers.Dense(classes, name="logits")(x)


def _cnn(x, classes: int, bn: float):
    # conv32-conv32-pool-conv64-conv64-pool-dense; 'valid' padding halves the cost on a CPU.
    x = layers.Reshape((28, 28, 1))(x)
    x = _conv(x, 32, bn)
    x = _conv(x, 32, bn)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.1)(x)
    x = _conv(x, 64, bn)
    x = _conv(x, 64, bn)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.Activation("relu")(layers.BatchNormalization(momentum=bn)(x))
    x = layers.Dropout(0.4)(x)
    return layers.Dense(classes, name="logits")(x)


def _deep(x, classes: int, bn: float):
    # Wider, strided-conv variant (the well-known Kaggle MNIST recipe); about 2x the cost of cnn.
    x = layers.Reshape((28, 28, 1))(x)
    for filters in (32, 64):
        x = _conv(x, filters, bn)
        x = _conv(x, filters, bn)
        x = _conv(x, filters, bn, kernel=5, strides=2, padding="same")
        x = layers.Dropout(0.3)(x)
    x = _conv(x, 128, bn, kernel=4)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    return layers.Dense(classes, name="logits")(x)


def build_model(arch: str = "cnn", classes: int = 11, name: str | None = None,
                bn_momentum: float = 0.99) -> keras.Model:
    """A fresh, uncompiled model of the named architecture with ``classes`` logit outputs
    (``name`` must differ between the members of an ensemble). ``bn_momentum`` 0.99 (Keras'
    default) suits full runs; short runs need ~0.9 so batch-norm statistics settle in time."""
    builders = {"mlp": _mlp, "cnn": _cnn, "deep": _deep}
    if arch not in builders:
        raise ValueError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
    inputs = keras.Input((28, 28), name="image")
    return keras.Model(inputs, builders[arch](inputs, classes, bn_momentum), name=name or f"digits_{arch}")


def ensemble_model(members: list[keras.Model]) -> keras.Model:
    """One model whose logits are the mean of the members' logits (exports as one file).
    Members with clashing names are renamed in place (Keras needs unique names)."""
    if len({m.name for m in members}) < len(members):
        for i, member in enumerate(members):
            member.name = f"{member.name}_{i + 1}"
    inputs = keras.Input((28, 28), name="image")
    outputs = layers.Average(name="logits")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=f"digits_ensemble{len(members)}")
