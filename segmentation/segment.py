"""Page segmentation: from a cleaned ink mask to digit strings of single-mark components.

Stages (each its own module):

1. :mod:`.components` label the ink, measure the page (typical height, pen width), drop specks;
   :mod:`.filters` drops blobs far too tall or too solid for a digit;
2. :mod:`.merge` re-joins digits broken into pieces;
3. :mod:`.grouping` links marks into lines, cuts lines into strings at wide gaps, attaches small
   marks, orders strings top to bottom, left to right; :mod:`.filters` drops ruler-straight
   upright bars taller than the digits (box frame and comb remnants) and strings of specks;
4. :mod:`.touching` splits components holding touching digits (one batched ``score`` call);
5. :mod:`.separators` labels '.', ',', '-', '/' and drops noise and end separators.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from pipeline.results import Box

from .components import label_components, page_scale, speck_mask
from .filters import MAX_DIGIT_HEIGHT, drop_rule_pieces, is_noise_string, solid_mask, too_tall
from .grouping import group_strings
from .marks import Component, boxes_of
from .merge import merge_pieces
from .separators import label_separators
from .touching import split_touching

__all__ = ["Component", "segment_page"]

Scorer = Callable[[np.ndarray], np.ndarray]


def _build(lab, groups: list[list[int]]) -> list[Component]:
    """Components from groups of label indices, each mask holding only its own labels' pixels."""
    out = []
    for g in groups:
        if len(g) == 1:
            x, y, w, h = (int(v) for v in lab.boxes[g[0]])
            mask = lab.labels[y:y + h, x:x + w] == g[0] + 1
        else:
            b = lab.boxes[g]
            x, y = int(b[:, 0].min()), int(b[:, 1].min())
            w = int((b[:, 0] + b[:, 2]).max()) - x
            h = int((b[:, 1] + b[:, 3]).max()) - y
            mask = np.isin(lab.labels[y:y + h, x:x + w], np.asarray(g) + 1)
        out.append(Component(Box(x, y, w, h), mask))
    return out


def segment_page(ink: np.ndarray, score: Scorer | None = None, *,
                 max_digit_height: int = MAX_DIGIT_HEIGHT) -> list[list[Component]]:
    """Digit strings of a page in reading order, each a list of components in reading order.

    ``ink`` is a 2-D bool mask (True = ink; any nonzero counts for other dtypes) after
    binarisation, deskew and line removal. ``score`` maps (N, 28, 28) float32 MNIST-style crops
    to (N, C) probabilities whose first ten columns are the digits; it is called at most once,
    only to choose cuts between touching digits, and may be None (cuts at projection valleys).
    ``max_digit_height`` (px) is the tallest digit expected; marks over 2.5x that are dropped.
    Boxes are in ``ink``'s pixel coordinates; each mask holds only its own component's ink.
    """
    ink = np.asarray(ink)
    if ink.ndim != 2:
        raise ValueError(f"segment_page expects a 2-D mask, got shape {ink.shape}")
    if ink.size == 0:  # OpenCV's labelling crashes on an empty image
        return []
    if ink.dtype != bool:
        ink = ink != 0
    lab = label_components(ink)
    if len(lab) == 0:
        return []
    keep = ~too_tall(lab.boxes, max_digit_height)
    scale = page_scale(lab, keep)
    keep &= ~speck_mask(lab.boxes, lab.areas, scale)
    keep &= ~solid_mask(lab, keep, scale)
    comps = _build(lab, merge_pieces(lab, keep, scale))
    boxes = boxes_of(comps)
    groups = group_strings(boxes)

    strings, heights, lines, marks = [], [], [], []
    for g in groups:
        members = drop_rule_pieces([comps[k] for k in g.members], scale.height)
        if not members or is_noise_string(members, scale):
            continue
        strings.append(members)
        heights.append(g.height)
        lines.append((g.height, g.top, g.base))
        marks.append({id(comps[k]) for k in g.marks})
    strings = split_touching(strings, heights, scale.stroke, score)

    out = []
    for string, (height, top, base), small in zip(strings, lines, marks):
        string.sort(key=lambda c: c.centre[0])
        positions = {k for k, c in enumerate(string) if id(c) in small}
        string = label_separators(string, positions, height, top, base)
        if any(c.separator is None for c in string):
            out.append(string)
    return out
