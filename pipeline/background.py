"""Noise removal and illumination normalisation of grey scans (paper bright, ink dark).

Uneven light, shadows and tinted paper are divided out by a background estimate made on a
downscaled copy: a grey closing (max then min filter) wider than any pen stroke erases the ink and
keeps the slowly varying paper brightness, which is then smoothed and upsampled.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.scale import grow, pow2_factor, shrink

MEDIAN_MIN_SIDE = 1600  # px; from here (A4 at ~200 dpi and up) strokes are >= 2 px wide
WORK_SIDE = 200  # px; the short side of the copy the background is estimated on is at least this


def denoise(gray: np.ndarray) -> np.ndarray:
    """Remove scanner specks and grain from a uint8 page; returns uint8 of the same shape.

    Large pages get a 3x3 median (kills salt-and-pepper dots; strokes there are >= 2 px wide so
    they survive). Small images, where a stroke may be a single pixel that a median would erase,
    get a light 3x3 Gaussian instead.
    """
    if min(gray.shape[:2]) >= MEDIAN_MIN_SIDE:
        return cv2.medianBlur(gray, 3)
    return cv2.GaussianBlur(gray, (3, 3), 0.6)


def background_kernel(shape: tuple[int, int]) -> int:
    """Width in full-resolution px of the closing that erases ink: ~1/40 of the short side
    (62 px, about 5 mm, on an A4 page at 300 dpi), at least 15 px for small field crops."""
    return max(15, min(shape[:2]) // 40)


def estimate_background(gray: np.ndarray) -> np.ndarray:
    """Paper brightness under every pixel of a uint8 page (uint8 in 1..255, same shape, ink
    removed)."""
    factor = pow2_factor(min(gray.shape[:2]), WORK_SIDE)
    # Area averaging (not subsampling) so thin pattern lines or noise cannot bias the maximum.
    small = shrink(gray, factor)
    size = max(3, background_kernel(gray.shape) // factor) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    # The closing leaves flat plateaus with steps at their edges; a box blur of the same size
    # turns them into smooth ramps so the division leaves no visible seams.
    paper = cv2.blur(paper, (size, size))
    # At least 1 so the division is defined; black borders then divide out to white paper.
    return grow(np.maximum(paper, 1), factor, gray.shape)


def normalize_illumination(gray: np.ndarray) -> np.ndarray:
    """Divide out the paper background: uint8 in, uint8 out with paper ~255 and ink contrast
    kept relative to the local paper brightness (uneven light and tinted paper become white)."""
    return cv2.divide(gray, estimate_background(gray), scale=255)
