"""Augmentation of MNIST-style digits for scanned handwriting, done with cv2 in numpy.

Each image is warped once (rotation, shear, anisotropic zoom) onto a 2x canvas, optionally
distorted elastically, thickened or thinned, binarised, given a ruling-line stub, and then
re-normalised with :func:`segmentation.normalize.to_mnist`, exactly what the reading pipeline
feeds the model. Only small post-normalisation changes (sub-pixel jitter, blur, noise) follow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from segmentation.normalize import to_mnist

UP = 2          # work at 2x resolution so stroke and line changes are sub-pixel at 28x28
CANVAS = 64     # 2x canvas with room for rotation, shear and line stubs (MNIST ink fits 20x20)
_GRID = np.meshgrid(np.arange(CANVAS, dtype=np.float32), np.arange(CANVAS, dtype=np.float32))


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of each augmentation (defaults: mild, scan-like)."""

    rotate_deg: float = 10.0
    shear: float = 0.25
    zoom: tuple[float, float] = (0.85, 1.15)   # per-axis, i.e. also aspect-ratio changes
    p_elastic: float = 0.5
    elastic_px: float = 2.5                    # displacement amplitude on the 2x canvas
    p_stroke: float = 0.4                      # dilate or erode
    p_binarize: float = 0.2                    # pipeline may hand in bool masks
    p_line: float = 0.12                       # ruling-line / box-edge stub at the crop border
    p_jitter: float = 0.3                      # post-normalisation shift/zoom
    shift_px: float = 1.0
    p_blur: float = 0.15
    p_noise: float = 0.15
    p_raw: float = 0.15                        # keep the original image untouched


DEFAULT = AugmentConfig()


def _affine(rng: np.random.Generator, cfg: AugmentConfig, src: int) -> np.ndarray:
    """2x3 matrix mapping a ``src``-sized image to the centre of the 2x canvas."""
    angle = math.radians(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg))
    zx, zy = rng.uniform(*cfg.zoom, size=2)
    sx, sy = zx * UP * 28 / src, zy * UP * 28 / src
    shear = rng.uniform(-cfg.shear, cfg.shear)
    c, s = math.cos(angle), math.sin(angle)
    # rotation @ shear @ scale, written out (numpy on 2x2 matrices costs more than the warp)
    a, b = c * sx, (c * shear - s) * sy
    d, e = s * sx, (s * shear + c) * sy
    ci, co = (src - 1) / 2.0, (CANVAS - 1) / 2.0
    return np.array([[a, b, co - (a + b) * ci], [d, e, co - (d + e) * ci]], np.float32)


def displacement(rng: np.random.Generator, amplitude: float, grid: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random displacement field on the canvas: a coarse random grid upsampled
    (much cheaper than Gaussian-filtering per-pixel noise)."""
    coarse = rng.uniform(-amplitude, amplitude, size=(2, grid, grid)).astype(np.float32)
    dx = cv2.resize(coarse[0], (CANVAS, CANVAS), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize(coarse[1], (CANVAS, CANVAS), interpolation=cv2.INTER_LINEAR)
    return dx, dy


def warp(image: np.ndarray, matrix: np.ndarray, field: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Affine warp onto the canvas, with an optional elastic field, in one remap."""
    if field is None:
        return cv2.warpAffine(image, matrix, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR, borderValue=0.0)
    inv = cv2.invertAffineTransform(matrix)
    u, v = _GRID[0] + field[0], _GRID[1] + field[1]
    map_x = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
    map_y = inv[1, 0] * u + inv[1, 1] * v + inv[1, 2]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def stroke(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Thicker or thinner strokes (grey dilation/erosion with a small ellipse)."""
    size = int(rng.integers(2, 4))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    if rng.random() < 0.55:
        return cv2.dilate(image, kernel)
    thinner = cv2.erode(image, kernel)
    # Never erase the digit: fall back to the original if erosion removed most ink.
    return thinner if thinner.sum() > 0.4 * image.sum() else image


def line_stub(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw a fragment of a ruling line or box edge touching the border of the digit's box."""
    ys, xs = np.nonzero(image > 0.2)
    if ys.size == 0:
        return image
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    out = image.copy()
    value = float(rng.uniform(0.6, 1.0))
    thick = int(rng.integers(1, 4))
    side = rng.integers(4)
    if side < 2:  # horizontal: underline/baseline or top rule, partial length
        y = bottom + int(rng.integers(0, 4)) if side == 0 else top - int(rng.integers(0, 4))
        span = right - left
        x0 = left + int(rng.uniform(-0.3, 0.5) * span)
        x1 = x0 + int(rng.uniform(0.3, 0.9) * span)
        cv2.line(out, (int(x0), int(y)), (int(x1), int(y)), value, thick)
    else:  # vertical box edge stub beside the digit, short so it does not read as a '1'
        x = left - int(rng.integers(0, 4)) if side == 2 else right + int(rng.integers(0, 4))
        span = bottom - top
        y0 = (top if rng.random() < 0.5 else bottom - int(0.35 * span))
        y1 = y0 + int(rng.uniform(0.15, 0.35) * span)
        cv2.line(out, (int(x), int(y0)), (int(x), int(y1)), value, thick)
    return out


def post_jitter(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Small shift and zoom after normalisation (segmentation crops are never perfect)."""
    zoom = rng.uniform(0.92, 1.06)
    dx, dy = rng.uniform(-cfg.shift_px, cfg.shift_px, size=2)
    matrix = cv2.getRotationMatrix2D((13.5, 13.5), 0.0, zoom)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(image, matrix, (28, 28), flags=cv2.INTER_LINEAR, borderValue=0.0)


def augment_one(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig | None = None) -> np.ndarray:
    """One (28, 28) float32 [0, 1] ink-bright image -> an augmented, re-normalised copy."""
    cfg = cfg or DEFAULT
    image = np.asarray(image, np.float32)
    if rng.random() < cfg.p_raw:
        return image.copy()
    matrix = _affine(rng, cfg, image.shape[0])
    field = displacement(rng, cfg.elastic_px) if rng.random() < cfg.p_elastic else None
    canvas = warp(image, matrix, field)
    if rng.random() < cfg.p_stroke:
        canvas = stroke(canvas, rng)
    if rng.random() < cfg.p_line:
        canvas = line_stub(canvas, rng)
    if rng.random() < cfg.p_binarize:
        canvas = (canvas > rng.uniform(0.3, 0.6)).astype(np.float32)
    out = to_mnist(canvas)
    if rng.random() < cfg.p_jitter:
        out = post_jitter(out, rng, cfg)
    if rng.random() < cfg.p_blur:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.4, 0.8))
    if rng.random() < cfg.p_noise:
        out = out + rng.normal(0.0, rng.uniform(0.02, 0.06), out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def augment_batch(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig | None = None) -> np.ndarray:
    """:func:`augment_one` over (N, 28, 28) float32 images; shape and [0, 1] range are kept."""
    cfg = cfg or DEFAULT
    out = np.empty((len(images), 28, 28), np.float32)
    for i, image in enumerate(images):
        out[i] = augment_one(image, rng, cfg)
    return out
