"""Keras model definitions. Every model maps (N, 28, 28) float32 in [0, 1] to (N, C) logits.

Logits (not probabilities) come out so that temperature scaling can be applied at run time.
"""
from __future__ import annotations

import cv2
import keras
import numpy as np
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


def rotation_map(degrees: float) -> np.ndarray:
    """(784, 784) float32: a 28x28 image's pixels (flattened) times this are the image rotated
    by ``degrees`` (counter-clockwise) about its centre, bilinear exactly as OpenCV's
    ``warpAffine`` (row i is where pixel i's ink goes)."""
    matrix = cv2.getRotationMatrix2D((13.5, 13.5), degrees, 1.0)
    basis = np.eye(28 * 28, dtype=np.float32).reshape(-1, 28, 28)
    return np.stack([cv2.warpAffine(b, matrix, (28, 28), flags=cv2.INTER_LINEAR) for b in basis]).reshape(784, 784)


def _rotated(inputs, degrees: float):
    """``inputs`` (N, 28, 28) rotated by ``degrees``: a fixed linear map, so the exported file
    needs no image op (one FULLY_CONNECTED)."""
    name = f"rotate_{'m' if degrees < 0 else 'p'}{abs(degrees):g}".replace(".", "_")
    dense = layers.Dense(784, use_bias=False, trainable=False, name=name)
    out = dense(layers.Flatten()(inputs))
    dense.set_weights([rotation_map(degrees)])
    return layers.Reshape((28, 28))(out)


def ensemble_model(members: list[keras.Model], rotations: float = 0.0) -> keras.Model:
    """One model whose logits are the mean of the members' logits (exports as one file); with
    ``rotations`` (degrees), of each member's logits for the image as it is and rotated by
    +-``rotations`` too (test-time augmentation). Members with clashing names are renamed in
    place (Keras needs unique names)."""
    if len({m.name for m in members}) < len(members):
        for i, member in enumerate(members):
            member.name = f"{member.name}_{i + 1}"
    inputs = keras.Input((28, 28), name="image")
    views = [inputs] + ([_rotated(inputs, rotations), _rotated(inputs, -rotations)] if rotations else [])
    outputs = layers.Average(name="logits")([member(view) for member in members for view in views])
    suffix = f"_rot{rotations:g}".replace(".", "_") if rotations else ""
    return keras.Model(inputs, outputs, name=f"digits_ensemble{len(members)}{suffix}")


def combined(members: list[keras.Model], rotations: float = 0.0) -> keras.Model:
    """The one model to release from ``members``: a lone member read without rotated views as it
    is, anything else as :func:`ensemble_model`."""
    return members[0] if len(members) == 1 and not rotations else ensemble_model(members, rotations)
