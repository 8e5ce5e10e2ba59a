"""Resampling: the working resolution pages are read at, and fast power-of-two reductions for the
stages that estimate things on a reduced copy of a page.

OpenCV's area interpolation has a fast path for an exact factor of two (a 2x2 mean) and a slow
general one; halving repeatedly is several times quicker than one resize by 3 or 8.
"""
from __future__ import annotations

import cv2
import numpy as np

WORK_SIDE = 2480  # px: pages are read with their short side at least this (A4 at 300 dpi) ...
MIN_PAGE_SIDE = 1000  # px: ... when it is a page (short side at least this; cheques and field crops are read as they are)
MAX_ENLARGE = 2.0  # ... enlarged at most this much
MAX_WORK_PIXELS = 12_000_000  # ... and to no more pixels than this (A4 at 300 dpi is 8.7 million)


def working_scale(shape: tuple[int, ...]) -> float:
    """Factor (>= 1) a page of ``shape`` (height, width, ...) is enlarged by before it is read.

    The stages' pixel sizes (the stroke edges binarization keeps, the bands either side of a printed
    line, the gaps bridged in a frame) were tuned on 300 dpi pages, and pages scanned at 150-200 dpi
    read worse at their own size: on the 19 generated page sets, enlarged to A4 at 300 dpi, 150-200
    dpi forms read 2.3 more strings in 100 right (ledgers at 150 dpi 1.1 fewer), 1.2 in 100 fewer
    strings were flagged in all (README, session 30). Enlarging adds no detail: at most MAX_ENLARGE."""
    height, width = shape[:2]
    short = min(height, width)
    if short < MIN_PAGE_SIDE or short >= WORK_SIDE:
        return 1.0
    return max(1.0, min(WORK_SIDE / short, MAX_ENLARGE, float(np.sqrt(MAX_WORK_PIXELS / (height * width)))))


def enlarge(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` resized by ``scale`` (>= 1) with bicubic interpolation (sharper stroke edges than
    bilinear); the image itself when ``scale`` is 1."""
    if scale == 1.0:
        return image
    # Given as factors (no target size), OpenCV maps pixel x to exactly x * scale.
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def pow2_factor(side: int, target: int) -> int:
    """Largest power of two f with side / f >= target (1 when side < 2 * target)."""
    factor = 1
    while side // (factor * 2) >= target:
        factor *= 2
    return factor


def shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """Mean of each ``factor`` x ``factor`` block (``factor`` a power of two); the last rows or
    columns that do not fill a whole block are dropped. Same dtype as the input."""
    while factor > 1:
        height, width = image.shape[:2]
        if height < 2 or width < 2:
            break
        even = image[: height // 2 * 2, : width // 2 * 2]
        image = cv2.resize(even, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        factor //= 2
    return image


def grow(image: np.ndarray, factor: int, shape: tuple[int, int],
         nearest: bool = False) -> np.ndarray:
    """Undo :func:`shrink`: upsample by ``factor`` (bilinear for smooth maps, nearest for masks,
    so every block maps back onto exactly its own pixels) into an array of ``shape`` (height,
    width), repeating the edge over the rows and columns that shrink dropped."""
    height, width = shape[:2]
    if factor == 1 and image.shape[:2] == (height, width):
        return image
    out = np.empty((height, width) + image.shape[2:], image.dtype)
    inner_h, inner_w = image.shape[0] * factor, image.shape[1] * factor
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    # Written straight into the output (no padding copy of a full page).
    cv2.resize(image, (inner_w, inner_h), dst=out[:inner_h, :inner_w], interpolation=flags)
    out[inner_h:, :inner_w] = out[inner_h - 1: inner_h, :inner_w]
    out[:, inner_w:] = out[:, inner_w - 1: inner_w]
    return out
