"""Page segmentation: from a cleaned ink mask to digit strings of single-mark components.

Stages (each its own module):

1. :mod:`.components` label the ink, measure the page (typical height, pen width), drop specks;
   :mod:`.filters` drops blobs far too tall or too solid for a digit;
2. :mod:`.merge` re-joins digits broken into pieces;
3. :mod:`.grouping` links marks into lines, cuts lines into strings at wide gaps, attaches small
   marks, orders strings top to bottom, left to right; :mod:`.filters` drops ruler-straight
   upright bars taller than the digits (box frame and comb remnants; not in ``framed`` areas,
   whose frames were taken out by their known geometry) and strings of specks;
4. :mod:`.touching` splits components holding touching digits (at most two batched ``score``
   calls: the wide components whole, then the cuts of those a split could still win);
5. :mod:`.separators` labels '.', ',', '-', '/' and drops noise and end separators;
   :mod:`.dots` cuts off full stops written against a digit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.results import Box

from .components import Labeled, label_components, page_scale, speck_mask
from .dots import detach_dots
from .filters import MAX_DIGIT_HEIGHT, drop_rule_pieces, is_noise_string, solid_mask, too_tall
from .grouping import group_strings
from .layout import rejoin_to_shape, split_to_shape
from .marks import Component
from .merge import merge_pieces
from .separators import label_separators
from .rejoin import rejoin_broken
from .touching import PairScorer, Scorer, split_touching

__all__ = ["Component", "segment_page"]

TOUCHING_MIN = 0.5  # x page typical height: lines smaller than this are not split


def _box(lab: Labeled, group: list[int]) -> tuple[int, int, int, int]:
    """Box (x, y, w, h) of a group of label indices."""
    if len(group) == 1:
        x, y, w, h = lab.boxes[group[0]].tolist()
        return x, y, w, h
    b = lab.boxes[group]
    x, y = int(b[:, 0].min()), int(b[:, 1].min())
    return x, y, int((b[:, 0] + b[:, 2]).max()) - x, int((b[:, 1] + b[:, 3]).max()) - y


def _component(lab: Labeled, group: list[int], box: np.ndarray) -> Component:
    """The component of a group of label indices, its mask holding only those labels' pixels
    (not those of other components reaching into its box)."""
    x, y, w, h = box.tolist()
    crop = lab.labels[y:y + h, x:x + w]
    mask = crop == group[0] + 1 if len(group) == 1 else np.isin(crop, np.asarray(group) + 1)
    return Component(Box(x, y, w, h), mask)


def _within(string: list[Component], areas: Sequence[Box]) -> bool:
    """Whether the box centre of every mark of ``string`` lies in one of ``areas``."""
    def inside(c: Component) -> bool:
        x, y = c.box.x + c.box.w / 2, c.box.y + c.box.h / 2
        return any(a.x <= x < a.right and a.y <= y < a.bottom for a in areas)

    return bool(areas) and all(inside(c) for c in string)


def segment_page(ink: np.ndarray, score: Scorer | None = None, *,
                 max_digit_height: int = MAX_DIGIT_HEIGHT,
                 framed: Sequence[Box] = (), pairs: PairScorer | None = None) -> list[list[Component]]:
    """Digit strings of a page in reading order, each a list of components in reading order.

    ``ink`` is a 2-D bool mask (True = ink; any nonzero counts for other dtypes) after
    binarisation, deskew and line removal. ``score`` maps (N, 28, 28) float32 MNIST-style crops
    to (N, C) probabilities whose first ten columns are the digits; it is called at most four
    times, to re-join broken digits (by their reading, then by the layout of their string:
    ``layout.rejoin_to_shape``) and to choose cuts between touching ones, and may be None
    (no re-joining by reading; cuts at projection valleys). ``pairs`` (optional, with ``score``)
    reads the components cut in two whole (``touching.split_touching``) and the marks that the
    layout of their string says hold two digits (``layout.split_to_shape``).
    ``max_digit_height`` (px) is the tallest digit expected; marks over 2.5x that are dropped.
    ``framed`` are areas of ``ink`` (its pixels) holding the ink of printed frames whose lines
    were taken out by their known geometry: a straight upright bar there is a '1' written from
    line to line, not a frame remnant, so strings lying in them keep their bars; elsewhere such
    bars standing taller than their string's digits are dropped.
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
    pieces = merge_pieces(lab, keep, scale)
    boxes = np.array([_box(lab, g) for g in pieces], np.int64).reshape(-1, 4)
    groups = group_strings(boxes)

    strings, heights, lines, marks = [], [], [], []
    for g in groups:
        if is_noise_string(boxes[g.members], scale):
            continue  # decided on boxes alone: masks are only built for what is kept
        comps = {k: _component(lab, pieces[k], boxes[k]) for k in g.members}
        members = [comps[k] for k in g.members]
        if not _within(members, framed):
            members = drop_rule_pieces(members, scale.height)
        if not members:
            continue
        strings.append(members)
        heights.append(g.height)
        lines.append((g.height, g.top, g.base))
        marks.append({id(comps[k]) for k in g.marks})
    # Small print (a label's letters) is not worth cutting: only lines at least half as tall
    # as the page's typical marks are examined.
    strings = rejoin_broken(strings, heights, marks, score)
    strings = split_touching(strings, heights, scale.stroke, score, TOUCHING_MIN * scale.height, pairs)

    out, kept = [], []
    for string, (height, top, base), small in zip(strings, lines, marks):
        string.sort(key=lambda c: c.centre[0])
        positions = {k for k, c in enumerate(string) if id(c) in small}
        string = label_separators(string, positions, height, top, base)
        string = detach_dots(string, height, top, base, scale.stroke)
        if any(c.separator is None for c in string):
            out.append(string)
            kept.append(height)
    return split_to_shape(rejoin_to_shape(out, kept, score), kept, pairs)
