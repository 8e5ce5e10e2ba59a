"""Pieces of a broken digit joined when the classifier reads them better together."""
from __future__ import annotations

import cv2
import numpy as np

from tests.test_segment_touching import ring

from pipeline.results import Box
from segmentation.marks import Component
from segmentation.rejoin import rejoin_broken


def loop_reader(crops: np.ndarray) -> np.ndarray:
    """Fake classifier: a crop with a closed loop is a '0', anything else no digit."""
    probs = np.full((len(crops), 11), 0.001, np.float32)
    for k, crop in enumerate(crops):
        _, hierarchy = cv2.findContours((crop > 0.3).astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        has_hole = hierarchy is not None and (hierarchy[0][:, 3] >= 0).any()
        probs[k, 0 if has_hole else 10] = 0.99
    return probs


def pieces(mask: np.ndarray, x: int = 100, y: int = 50) -> list[Component]:
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        bx, by, bw, bh = stats[i, :4]
        out.append(Component(Box(x + int(bx), y + int(by), int(bw), int(bh)), lab[by:by + bh, bx:bx + bw] == i))
    return out


def broken_ring(*gaps: tuple[float, float]) -> np.ndarray:
    """A ring with its ink removed between each pair of angles (degrees, counter-clockwise
    from the right)."""
    r = ring(24, 34)
    h, w = r.shape
    yy, xx = np.mgrid[:h, :w]
    angle = np.degrees(np.arctan2(-(yy - h / 2), xx - w / 2)) % 360
    for start, end in gaps:
        r[(angle > start) & (angle < end)] = False
    return r


def broken_zero() -> np.ndarray:
    """A ring with two gaps (top right, bottom left): two arcs overlapping in x."""
    return broken_ring((35, 60), (215, 240))


def test_broken_zero_is_joined():
    arcs = pieces(broken_zero())
    assert len(arcs) == 2
    whole = pieces(ring(24, 34), x=160)
    (string,) = rejoin_broken([arcs + whole], [34.0], [set()], loop_reader)
    assert len(string) == 2
    joined = min(string, key=lambda c: c.box.x)
    assert joined.box == Box(100, 50, 24, 34) and joined.mask.sum() == broken_zero().sum()


def test_slanted_full_height_digits_are_not_candidates():
    calls = []

    def reader(crops):
        calls.append(len(crops))
        return loop_reader(crops)

    bar = np.zeros((34, 14), np.uint8)
    cv2.line(bar, (12, 0), (1, 33), 1, 3)
    a, b = pieces(bar.astype(bool))[0], pieces(bar.astype(bool), x=108)[0]
    (string,) = rejoin_broken([[a, b]], [34.0], [set()], reader)
    assert calls == [] and string == [a, b]


def test_small_marks_and_no_scorer_leave_strings_alone():
    arcs = pieces(broken_zero())
    assert rejoin_broken([arcs], [34.0], [set()], None) == [arcs]
    assert rejoin_broken([arcs], [34.0], [{id(arcs[1])}], loop_reader) == [arcs]


def open_zero() -> np.ndarray:
    """A ring broken at the top and bottom left: a tall left arc and a shorter right one that
    share no column."""
    return broken_ring((40, 100), (240, 300))


def test_zero_broken_into_arcs_with_a_gap_between_them_is_joined():
    arcs = pieces(open_zero())
    assert len(arcs) == 2
    left, right = sorted(arcs, key=lambda c: c.box.x)
    assert left.box.right <= right.box.x  # no shared column
    whole = pieces(ring(24, 34), x=160)
    (string,) = rejoin_broken([arcs + whole], [34.0], [set()], loop_reader)
    assert len(string) == 2
    joined = min(string, key=lambda c: c.box.x)
    assert joined.mask.sum() == open_zero().sum()

