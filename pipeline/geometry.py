"""Mapping boxes between the deskewed working image and the page as loaded."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.results import Box


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def map_box(box: Box, matrix: np.ndarray, width: int, height: int) -> Box:
    """The box enclosing ``box`` after the 2x3 affine ``matrix``, clipped to a width x height page."""
    corners = np.array([[box.x, box.y], [box.right, box.y], [box.x, box.bottom],
                        [box.right, box.bottom]], np.float64)
    moved = corners @ np.asarray(matrix, np.float64)[:, :2].T + np.asarray(matrix, np.float64)[:, 2]
    x0, y0 = np.floor(moved.min(axis=0)).astype(int)
    x1, y1 = np.ceil(moved.max(axis=0)).astype(int)
    x0, y0 = max(0, min(int(x0), width - 1)), max(0, min(int(y0), height - 1))
    x1, y1 = max(x0 + 1, min(int(x1), width)), max(y0 + 1, min(int(y1), height))
    return Box(x0, y0, x1 - x0, y1 - y0)


def pad_box(box: Box, margin: int, width: int, height: int) -> Box:
    """``box`` grown by ``margin`` pixels on every side (0: just clipped), clipped to the page;
    empty (zero width or height) where it lies off the page."""
    x0, y0 = min(max(0, box.x - margin), width), min(max(0, box.y - margin), height)
    x1, y1 = min(width, box.right + margin), min(height, box.bottom + margin)
    return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))
