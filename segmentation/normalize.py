"""Normalisation of one isolated digit to MNIST's convention.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio, anti-aliased, then placed in
a 28x28 field so that their centre of mass sits at the centre. A classifier trained on MNIST only
works on scanned digits prepared the same way, so every crop goes through :func:`to_mnist`.
"""
from __future__ import annotations

import cv2
import numpy as np

MNIST_SIZE = 28
MNIST_BOX = 20
PAIR_SHAPE = (28, 56)  # (height, width) of a two-digit crop for the pair reader
PAIR_BOX = (20, 52)    # the box a pair is fitted into: MNIST's digit height, room for two digits


def ink_image(image: np.ndarray) -> np.ndarray:
    """Any 2-D image as float32 ink intensity in [0, 1] (bool, uint8, uint16 or float input).

    Bool masks map True to 1. Integer images are scaled by their dtype's maximum; floats are
    clipped to [0, 1]. The image must already be ink-bright (invert scans before calling).
    """
    image = np.asarray(image)
    if image.dtype == bool:
        return image.astype(np.float32)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(image.astype(np.float32) / float(info.max), 0.0, 1.0)
    out = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(out, 0.0, 1.0)


def _fitted(ink: np.ndarray, max_h: int, max_w: int, name: str) -> np.ndarray | None:
    """The tight box around pixels of ``ink`` above 10% of its peak, scaled to fit ``max_h`` x
    ``max_w`` keeping its aspect ratio (area interpolation when shrinking, which anti-aliases)
    and rescaled to peak at 1; None when there is no ink."""
    ink = np.asarray(ink)
    if ink.ndim != 2:
        raise ValueError(f"{name} expects a 2-D image, got shape {ink.shape}")
    if ink.dtype == bool:  # the usual input (a mask): cropped before the float copy, peak 1
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if len(rows) == 0:
            return None
        crop = ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1].astype(np.float32)
    else:
        ink = ink_image(ink)
        peak = float(ink.max()) if ink.size else 0.0
        if peak <= 0.0:
            return None
        ys, xs = np.nonzero(ink > 0.1 * peak)
        crop = ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1] / peak
    h, w = crop.shape
    scale = min(max_h / h, max_w / w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    glyph = cv2.resize(crop, (new_w, new_h), interpolation=interpolation)
    # Thin pen strokes on a large digit fade when shrunk; MNIST strokes peak at full intensity.
    glyph /= max(float(glyph.max()), 1e-6)
    return glyph


def to_mnist(ink: np.ndarray, box: int = MNIST_BOX, size: int = MNIST_SIZE) -> np.ndarray:
    """One digit as a ``(size, size)`` float32 MNIST-style image, ink bright on dark in [0, 1].

    ``ink`` is a 2-D ink-bright image of the digit alone (a bool mask or grey ink intensity);
    the tight box around pixels above 10% of the peak is scaled so its longer side is ``box``
    pixels (area interpolation when shrinking, which anti-aliases), rescaled to peak at 1, then shifted by whole
    pixels so its centre of mass lands on the centre of the field. An empty input gives zeros.
    """
    out = np.zeros((size, size), np.float32)
    glyph = _fitted(ink, box, box, "to_mnist")
    if glyph is None:
        return out
    new_h, new_w = glyph.shape
    # Centre of mass with numpy: cv2.moments reads an (n, 2) array as a point list, not an image.
    mass = float(glyph.sum())
    if mass <= 1e-6:
        return out
    cx = float(glyph.sum(axis=0, dtype=np.float64) @ np.arange(new_w)) / mass
    cy = float(glyph.sum(axis=1, dtype=np.float64) @ np.arange(new_h)) / mass
    # Translate so the centre of mass lands on the field's centre, by whole pixels (a sub-pixel
    # shift would blur thin strokes), never pushing the glyph's box outside the field.
    centre = (size - 1) / 2.0
    x0 = min(max(round(centre - cx), 0), size - new_w)  # plain ints: np.clip on scalars is slow
    y0 = min(max(round(centre - cy), 0), size - new_h)
    out[y0:y0 + new_h, x0:x0 + new_w] = glyph
    return np.clip(out, 0.0, 1.0)


def batch_to_mnist(inks: list[np.ndarray]) -> np.ndarray:
    """:func:`to_mnist` over a list of crops, stacked as ``(N, 28, 28)`` float32."""
    if not inks:
        return np.zeros((0, MNIST_SIZE, MNIST_SIZE), np.float32)
    return np.stack([to_mnist(ink) for ink in inks])


def to_pair(ink: np.ndarray) -> np.ndarray:
    """Two touching digits as a ``PAIR_SHAPE`` float32 image for the pair reader, ink bright.

    The tight box is scaled so its height is 20 px (each digit then has MNIST's size), or its
    width 52 px when it is wider than that allows, as :func:`to_mnist` scales, and centred by
    its box (a pair's centre of mass says little about where its digits sit). An empty input
    gives zeros.
    """
    out = np.zeros(PAIR_SHAPE, np.float32)
    glyph = _fitted(ink, *PAIR_BOX, "to_pair")
    if glyph is None:
        return out
    new_h, new_w = glyph.shape
    y0, x0 = (PAIR_SHAPE[0] - new_h) // 2, (PAIR_SHAPE[1] - new_w) // 2
    out[y0:y0 + new_h, x0:x0 + new_w] = glyph
    return np.clip(out, 0.0, 1.0)


def batch_to_pair(inks: list[np.ndarray]) -> np.ndarray:
    """:func:`to_pair` over a list of crops, stacked as ``(N, 28, 56)`` float32."""
    if not inks:
        return np.zeros((0,) + PAIR_SHAPE, np.float32)
    return np.stack([to_pair(ink) for ink in inks])
