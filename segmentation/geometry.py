"""Box arithmetic on (N, 4) int arrays of x, y, w, h in pixels, vectorised."""
from __future__ import annotations

import numpy as np


def overlap(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Length (px) shared by intervals [a0, a1) and [b0, b1); 0 when disjoint."""
    return np.maximum(0, np.minimum(a1, b1) - np.maximum(a0, b0))


def gap(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Empty space (px) between intervals [a0, a1) and [b0, b1); 0 when they overlap."""
    return np.maximum(0, np.maximum(a0, b0) - np.minimum(a1, b1))


def near_pairs(boxes: np.ndarray, dy: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j, each pair once, whose boxes are at most ``dy`` px apart
    vertically (overlapping or closer). Sorting by top edge keeps this near-linear on pages:
    each box is only paired with the boxes whose tops fall in its own row band."""
    n = len(boxes)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty
    order = np.argsort(boxes[:, 1], kind="stable")
    tops = boxes[order, 1]
    bottoms = tops + boxes[order, 3]
    # For the k-th box in top order, partners are the later boxes whose top <= its bottom + dy.
    ends = np.searchsorted(tops, bottoms + dy, side="right")
    starts = np.arange(1, n + 1)
    counts = np.maximum(0, ends - starts)
    first = np.repeat(np.arange(n), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    second = np.repeat(starts, counts) + offsets
    return order[first], order[second]


def median(values) -> float:
    """Median of a short sequence; much cheaper than np.median on a handful of numbers."""
    v = sorted(values.tolist() if isinstance(values, np.ndarray) else values)
    n = len(v)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def union_box(boxes: np.ndarray) -> np.ndarray:
    """Smallest box (x, y, w, h) holding all the given boxes."""
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    return np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.int64)


def paste(boxes: list[np.ndarray], masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Union box of several boxed masks and their OR within it."""
    box = union_box(np.stack(boxes))
    out = np.zeros((int(box[3]), int(box[2])), bool)
    for b, m in zip(boxes, masks):
        x, y = int(b[0] - box[0]), int(b[1] - box[1])
        out[y:y + m.shape[0], x:x + m.shape[1]] |= m
    return box, out
