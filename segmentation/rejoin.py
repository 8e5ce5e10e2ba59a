"""Re-joining the pieces of a broken digit that geometry alone left apart, by asking the
classifier (the reverse of :mod:`segmentation.touching`).

A faint or broken stroke can leave a digit in two pieces side by side ('0' as two arcs, a '9'
whose stem lost its loop) that :mod:`segmentation.merge` does not join, since two slanted
digits overlap in x just as much. Here neighbours in a string, not both of full height, whose
union is at most MAX_UNION_WIDTH expected digit widths wide (a wide '0' in two arcs is ~1.5) and
MAX_UNION_HEIGHT line heights tall, are scored apart and together (the pieces need not share a
column: a '0' broken at top and bottom leaves a gap between its arcs), with the same values as
the touching-digit splitter (log top-digit probability less shape penalty, plus the prior on the
digit count given the width). They are joined when together they beat apart by REJOIN_MARGIN.
One score call per page, and none when there is no such pair.

Once separators are known, a string whose layout no one writes is repaired by joins or splits that
give it one (:mod:`segmentation.layout`).
"""
from __future__ import annotations

import numpy as np

from pipeline.results import Box

from .geometry import paste
from .marks import Component
from .normalize import batch_to_mnist
from .touching import Scorer, digit_values, digit_width, prior, tight_mask

MAX_UNION_WIDTH = 1.6   # union width / expected digit width at most
MAX_UNION_HEIGHT = 1.3  # union height / line height at most
FULL = 0.85             # a piece this tall (x line height) is a digit's full height
REJOIN_MARGIN = 1.0     # log-probability lead of the joined reading needed to join


def union(a: Component, b: Component) -> Component:
    """One component holding both pieces' ink."""
    box, mask = paste([np.array([c.box.x, c.box.y, c.box.w, c.box.h]) for c in (a, b)], [a.mask, b.mask])
    return Component(Box(*(int(v) for v in box)), mask)


def _candidate(a: Component, b: Component, height: float, width: float) -> bool:
    box: Box = a.box.union(b.box)
    if box.w > MAX_UNION_WIDTH * width or box.h > MAX_UNION_HEIGHT * height:
        return False
    # Two full-height marks are two digits (slanted ones overlap in x), not one broken one.
    return not (a.box.h >= FULL * height and b.box.h >= FULL * height)


def rejoin_broken(strings: list[list[Component]], heights: list[float], small: list[set[int]],
                  score: Scorer | None) -> list[list[Component]]:
    """Each string (components in any order) with broken digits' pieces joined; ``small``
    holds, per string, the ids of its small marks (separators, specks), never joined here."""
    if score is None:
        return strings
    pairs: list[tuple[int, Component, Component, float]] = []
    for s, (string, height) in enumerate(zip(strings, heights)):
        width = digit_width(string, height)
        ordered = sorted((c for c in string if id(c) not in small[s]), key=lambda c: c.box.x)
        for a, b in zip(ordered, ordered[1:]):
            if _candidate(a, b, height, width):
                pairs.append((s, a, b, a.box.union(b.box).w / width))
    if not pairs:
        return strings
    joined = [union(a, b) for _, a, b, _ in pairs]
    crops = [tight_mask(c.mask) for _, a, b, _ in pairs for c in (a, b)] + [tight_mask(j.mask) for j in joined]
    values = digit_values(score(batch_to_mnist(crops)), crops)[0]
    apart, together = values[:2 * len(pairs)].reshape(-1, 2).sum(axis=1), values[2 * len(pairs):]
    out = [list(string) for string in strings]
    used: set[int] = set()
    for (s, a, b, digits), split_value, whole, j in zip(pairs, apart, together, joined):
        if id(a) in used or id(b) in used:
            continue  # a piece joins one neighbour at most
        if whole + prior(1, digits) >= split_value + prior(2, digits) + REJOIN_MARGIN:
            used.update((id(a), id(b)))
            out[s] = [c for c in out[s] if c is not a and c is not b] + [j]
    return out
