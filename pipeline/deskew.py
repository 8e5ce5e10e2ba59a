"""Skew estimation and correction.

The angle is found by projection profiles: the dark pixels of a downscaled copy, each weighted by
its darkness, are projected onto the vertical axis for a range of trial rotations, and the
rotation that makes the row histogram sharpest (largest sum of squares) wins, searched coarse to
fine. Ruling lines give the sharpest peaks of all, so a page with printed lines (even pale ones)
is aligned on them; a page of handwriting alone is aligned on its text lines.
Angles follow OpenCV: degrees, positive = counter-clockwise as the page is displayed.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.scale import pow2_factor, shrink

MAX_ANGLE = 5.0  # degrees searched either way (scans are skewed up to ~3 degrees)
MIN_ANGLE = 0.2  # degrees; smaller corrections are not worth a resampling of the page
WORK_SIDE = 800  # px; the long side of the copy the angle is estimated on is at least this
INK_LEVEL = 230  # grey level under which a pixel of a normalised page counts (pale rules included)
MIN_POINTS = 50  # fewer ink pixels than this: no reliable estimate
MIN_GAIN = 1.02  # the best angle must sharpen the profile by 2% over 0 degrees to be trusted
MAX_POINTS = 30_000  # ink pixels sampled; plenty for a 0.05 degree resolution


def estimate_skew(gray: np.ndarray) -> float:
    """Rotation in degrees (counter-clockwise positive, within +-MAX_ANGLE) that levels the text
    lines and ruling lines of an illumination-normalised uint8 page (paper ~255); 0.0 when the
    page has too little ink, or no angle sharpens its profile clearly (MIN_GAIN)."""
    small = shrink(gray, pow2_factor(max(gray.shape[:2]), WORK_SIDE))
    ys, xs = np.nonzero(small < INK_LEVEL)
    if ys.size < MIN_POINTS:
        return 0.0
    if ys.size > MAX_POINTS:  # a fixed stride keeps the estimate deterministic
        step = ys.size // MAX_POINTS + 1
        ys, xs = ys[::step], xs[::step]
    # Each pixel counts by how far it is below INK_LEVEL: pale printed rules (ledgers) still
    # steer the angle, the grain of the paper next to nothing.
    weights = (INK_LEVEL - small[ys, xs]).astype(np.float64)
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64) - small.shape[0] / 2

    def sharpness(angle: float) -> float:
        # Row of each point after cv2's rotation by `angle`: y' = -sin(a) x + cos(a) y. Each
        # point is shared between its two nearest rows: plain rounding would alias, making
        # some angles look sharper than others even on uniform noise.
        rad = math.radians(angle)
        rows = ys * math.cos(rad) - xs * math.sin(rad)
        rows -= rows.min()
        below = rows.astype(np.int64)
        upper = (rows - below) * weights
        counts = np.bincount(below, weights - upper, minlength=below.max() + 2)
        counts[1:] += np.bincount(below, upper, minlength=below.max() + 1)
        return float(np.dot(counts, counts))

    coarse = np.arange(-MAX_ANGLE, MAX_ANGLE + 1e-9, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    scores = np.array([sharpness(a) for a in fine])
    if scores.max() < MIN_GAIN * sharpness(0.0):  # flat landscape: noise, a dot, a blank page
        return 0.0
    # A flat top (several angles within 0.1% of the best): take its middle.
    angle = float(np.mean(fine[scores >= scores.max() * 0.999]))
    return float(np.clip(angle, -MAX_ANGLE, MAX_ANGLE))


def rotation_matrix(shape: tuple[int, int], angle: float) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 float64 affine (original -> rotated pixel coordinates) turning a page of ``shape``
    (height, width) by ``angle`` degrees about its centre, translated so the whole page fits; and
    the (width, height) of the enlarged canvas."""
    height, width = shape[:2]
    rad = math.radians(angle)
    cos, sin = abs(math.cos(rad)), abs(math.sin(rad))
    new_w = int(math.ceil(width * cos + height * sin - 1e-6))
    new_h = int(math.ceil(width * sin + height * cos - 1e-6))
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    matrix[0, 2] += (new_w - width) / 2
    matrix[1, 2] += (new_h - height) / 2
    return matrix, (new_w, new_h)


def rotate(gray: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a uint8 page by ``angle`` degrees on a canvas enlarged to keep every pixel, filling
    the new corners with white paper. Returns (rotated, 2x3 matrix original -> rotated)."""
    matrix, size = rotation_matrix(gray.shape, angle)
    rotated = cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return rotated, matrix
