"""Grey page -> clean ink mask: denoise, normalise illumination, deskew, binarize, remove lines.

Each stage lives in its own module (background, deskew, binarize, lines); this one runs them in
order and keeps what later stages need: the deskewed grey page, the ink mask, the removed line
mask (box and comb fields are found from it) and the geometry of the rotation.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.background import denoise, normalize_illumination
from pipeline.binarize import METHODS, candidates, keep_dark_cored
from pipeline.deskew import MIN_ANGLE, estimate_skew, rotate
from pipeline.lines import as_bool, find_lines, handwriting_stroke

__all__ = ["Preprocessed", "preprocess", "METHODS"]

MIN_SIDE = 32  # px; smaller images are padded with white paper before processing


@dataclass
class Preprocessed:
    """One page after preprocessing; every array is in deskewed page coordinates.

    ``gray``: uint8, illumination-normalised (paper ~255, ink dark), deskewed; its shape can be a
    little larger than the input page (the canvas grows so rotated corners are kept).
    ``ink``: bool, True = ink, ruling lines and box frames removed. ``lines``: bool, the line
    pixels removed. ``angle``: degrees (counter-clockwise positive) the page was rotated by;
    0.0 when not deskewed. ``matrix``: 2x3 float64 affine mapping original (x, y) page
    coordinates to deskewed ones (``cv2.invertAffineTransform`` maps back).
    """

    gray: np.ndarray
    ink: np.ndarray
    lines: np.ndarray
    angle: float
    matrix: np.ndarray


def preprocess(gray: np.ndarray, binarization: str = "sauvola", deskew: bool = True,
               remove_lines: bool = True) -> Preprocessed:
    """Run the preprocessing stages on a 2-D uint8 grey page (paper bright, ink dark).

    ``binarization``: "sauvola" (default; copes with uneven light and patterned backgrounds),
    "otsu" or "adaptive". ``deskew``: estimate the skew (up to +-5 degrees) and rotate when it
    is at least 0.2 degrees. ``remove_lines``: take printed ruling lines and box frames out of
    ``ink`` (into ``lines``).

    Any 2-D uint8 page is accepted, whatever its shape (empty, 1 x 1, a one-pixel strip) or
    memory layout; anything else (bool, uint16 or float pages, 0-D, 1-D or 3-D arrays) raises
    ValueError: callers convert first (``pipeline.load.to_gray``), nothing is guessed here.
    """
    if binarization not in METHODS:
        raise ValueError(f"binarization must be one of {', '.join(METHODS)}; "
                         f"got {binarization!r}")
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"preprocess expects a 2-D uint8 page, got {gray.dtype} {gray.shape}")
    height, width = gray.shape
    if min(height, width) < MIN_SIDE:
        # OpenCV mistakes arrays of a few pixels for scalars, and there is nothing to deskew in a
        # sliver: pad with white paper, skip deskew, crop the results back.
        padded = cv2.copyMakeBorder(gray, 0, max(0, MIN_SIDE - height), 0,
                                    max(0, MIN_SIDE - width), cv2.BORDER_CONSTANT, value=255)
        out = preprocess(padded, binarization, deskew=False, remove_lines=remove_lines)
        return Preprocessed(gray=out.gray[:height, :width].copy(),
                            ink=out.ink[:height, :width].copy(),
                            lines=out.lines[:height, :width].copy(), angle=0.0,
                            matrix=out.matrix)
    gray = normalize_illumination(denoise(gray))
    angle, matrix = 0.0, np.eye(2, 3, dtype=np.float64)
    if deskew:
        estimate = estimate_skew(gray)
        if abs(estimate) >= MIN_ANGLE:
            gray, matrix = rotate(gray, estimate)
            angle = estimate
    found = candidates(gray, binarization)
    ink = as_bool(keep_dark_cored(gray, found))
    if remove_lines:
        # Lines are looked for among all candidates: printed frames may be lighter than pen ink
        # (and so missing from ``ink``) but the forms stage still needs them in ``lines``.
        lines = find_lines(found, gray, stroke=handwriting_stroke(ink))
        np.logical_and(ink, ~lines, out=ink)
    else:
        lines = np.zeros(ink.shape, bool)
    return Preprocessed(gray=gray, ink=ink, lines=lines, angle=angle, matrix=matrix)
