"""Repairs decided by a string's layout: once its separators are known, a string whose layout no
one writes ('55,4107.37', '17-12-088'; see ``patterns.plausible``) has a group with a digit too
many or too few. Too many: a digit broken in two, each piece read as a digit of its own, is joined
(:func:`rejoin_to_shape`). Too few: two digits written over each other, read as one, are cut in two
where the pair reader reads them (:func:`split_to_shape`). Either repair is marked ``doubtful``
(flagged for review) unless the ink reads it at REPAIR_SURE: then layout and ink agree, and the
classifier's confidence alone decides (on fifteen generated sets all fifteen repairs were right,
most of them read that surely). A string no repair fits keeps its reading (and its
separator-layout flag).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .marks import Component
from .normalize import batch_to_mnist, batch_to_pair
from .patterns import plausible
from .rejoin import MAX_UNION_HEIGHT, union
from .separators import shape
from .touching import (REPAIR_SURE, PairScorer, Scorer, both_sides, crop_part, cut_parts, cuts_at, digit_values,
                       digit_width, take_pair_reading, tight_mask)

JOIN_SURE = 0.5         # top-digit probability a join needs
JOIN_WIDTH = 3.0        # union width / expected digit width at most (a wide '0' broken into a '6'
#                         and a '1' is ~2.4-2.6)
SPLIT_SURE = 0.5        # the pair reader's confidence in both digits (product) a split needs
SPLIT_TWO = 0.5         # ... and its probability that the mark holds two digits
MIN_HEIGHT = 0.6        # mark height / line height: only a digit-sized mark may hold two
MIN_SPLIT_WIDTH = 4     # px: a narrower mark is no two digits, whatever a reader says


def misfits(strings: list[list[Component]], heights: list[float]) -> Iterator[tuple[int, str, float]]:
    """(index, layout, line height) of each string of no plausible layout."""
    for s, (string, height) in enumerate(zip(strings, heights)):
        layout = shape(string)
        if not plausible(layout):
            yield s, layout, height


def rejoin_to_shape(strings: list[list[Component]], heights: list[float],
                    score: Scorer | None) -> list[list[Component]]:
    """Each string (components in reading order, separators labelled) of no plausible layout with
    the two neighbouring digit marks joined whose join gives it one ('55,4107.37' -> '55,467.37').
    The join must be at most JOIN_WIDTH expected digit widths wide and read as a digit at
    JOIN_SURE or better; the surest join wins. One score call for all strings, none when every
    layout is plausible."""
    if score is None:
        return strings
    trials: list[tuple[int, int, Component]] = []
    for s, layout, height in misfits(strings, heights):
        string = strings[s]
        width = digit_width(string, height)
        for i, (a, b) in enumerate(zip(string, string[1:])):
            if a.separator or b.separator or not plausible(layout[:i] + "?" + layout[i + 2:]):
                continue
            box = a.box.union(b.box)
            if box.w <= JOIN_WIDTH * width and box.h <= MAX_UNION_HEIGHT * height:
                trials.append((s, i, union(a, b)))
    if not trials:
        return strings
    crops = [tight_mask(j.mask) for _, _, j in trials]
    values, unread, _ = digit_values(score(batch_to_mnist(crops)), crops)
    best: dict[int, tuple[float, int, Component]] = {}
    for (s, i, joined), value, no_digit in zip(trials, values, unread):
        if not no_digit and value >= np.log(JOIN_SURE) and value > best.get(s, (-np.inf,))[0]:
            best[s] = (value, i, joined)
    out = [list(string) for string in strings]
    for s, (value, i, joined) in best.items():
        joined.doubtful = value < np.log(REPAIR_SURE)
        out[s][i: i + 2] = [joined]
    return out


def halves(component: Component) -> list[Component] | None:
    """The component cut in two along the least-ink path from the emptiest column of its middle
    third (None when a side would be empty, or the mark is under MIN_SPLIT_WIDTH px wide)."""
    mask = component.mask
    w = mask.shape[1]
    if w < MIN_SPLIT_WIDTH:
        return None
    lo, hi = w // 3, max(w // 3 + 1, w - w // 3)
    x0 = lo + int(np.argmin(mask[:, lo:hi].sum(axis=0)))
    parts = [crop_part(p, component.box) for p in cut_parts(mask, [cuts_at(mask, x0)[1]])]
    return None if None in parts else parts


def split_to_shape(strings: list[list[Component]], heights: list[float],
                   pairs: PairScorer | None) -> list[list[Component]]:
    """Each string (components in reading order, separators labelled) of no plausible layout with
    the digit mark cut in two whose cut gives it one ('17-12-088' -> '17-12-1988'), where the pair
    reader reads that mark as two digits (SPLIT_TWO) and is sure of both (SPLIT_SURE); the surest
    wins. The parts take the pair reader's probabilities (blurred strokes of overlapping digits
    leave no cut that keeps both whole, so reading the parts alone would misread them). One pair
    reader call for all strings, none when every layout is plausible."""
    if pairs is None:
        return strings
    trials: list[tuple[int, int, Component]] = []
    for s, layout, height in misfits(strings, heights):
        trials += [(s, i, c) for i, c in enumerate(strings[s])
                   if c.separator is None and c.box.h >= MIN_HEIGHT * height
                   and plausible(layout[:i] + "??" + layout[i + 1:])]
    if not trials:
        return strings
    digits, two = pairs(batch_to_pair([c.mask for _, _, c in trials]))
    best: dict[int, tuple[float, int, Component, np.ndarray]] = {}
    for (s, i, c), sides, p in zip(trials, np.asarray(digits), np.asarray(two, np.float64)):
        sure = both_sides(sides)
        if p >= SPLIT_TWO and sure >= SPLIT_SURE and sure > best.get(s, (-1.0,))[0]:
            best[s] = (sure, i, c, sides)
    out = [list(string) for string in strings]
    for s, (_, i, c, sides) in best.items():
        parts = halves(c)
        if parts is None:
            continue
        take_pair_reading(parts, sides)
        out[s][i: i + 1] = parts
        out[s].sort(key=lambda c: c.centre[0])  # a slanted cut may leave a part past a neighbour
    return out
