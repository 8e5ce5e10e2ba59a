"""Morphology with kernels one row long, on masks whose few rows (or columns) hold enough pixels.

An opening of a mask with a kernel one row tall and ``length`` px long treats every row on its
own and empties each row with fewer than ``length`` set pixels. On a page's mask of printed lines that
is most rows, so working on the others alone gives the same result several times faster (an A4
page at 300 dpi has 3,508 rows; its ruled lines cross a few hundred).
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

__all__ = ["on_rows", "on_columns", "row_counts", "row_kernel"]

RowOperation = Callable[[np.ndarray], np.ndarray]


def row_kernel(length: int) -> np.ndarray:
    """A structuring element one row tall and ``length`` px long."""
    return cv2.getStructuringElement(cv2.MORPH_RECT, (int(length), 1))


def row_counts(mask: np.ndarray) -> np.ndarray:
    """The set pixels of each row of a 0/255 uint8 mask (1-D int32)."""
    # cv2.reduce summing into int32 (0.2 ms an A4 mask): REDUCE_MAX takes ~200x, count_nonzero(axis=1) ~20x.
    return cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255


def on_rows(mask: np.ndarray, length: int, operation: RowOperation) -> np.ndarray:
    """``operation`` (row by row, e.g. an opening with ``row_kernel(length)`` then anything that
    keeps an empty row empty) applied to the rows of ``mask`` (0/255 uint8) that hold at least
    ``length`` set pixels; the other rows of the result are 0."""
    out = np.zeros_like(mask)
    rows = np.flatnonzero(row_counts(mask) >= int(length))
    if len(rows):
        out[rows] = operation(mask[rows])
    return out


def on_columns(mask: np.ndarray, length: int, operation: RowOperation) -> np.ndarray:
    """:func:`on_rows` down the columns: ``operation`` still works along rows (of the transposed
    mask), so the same one-row kernels serve."""
    return cv2.transpose(on_rows(cv2.transpose(mask), length, operation))
