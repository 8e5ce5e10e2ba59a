"""Re-joining digits broken into several components.

Pieces arise from a pen lifted mid-digit (a '5' whose top bar is detached, a '4' or '7' drawn
in two strokes) or from strokes cut where a ruling line was removed. Two components are joined
when they overlap strongly in x and, together, still look like one digit of the height their
neighbours on the same line have:

* stacked pieces (one above the other, little vertical overlap) must be close vertically and
  their facing ends must line up (the stroke continues across the gap); within a pen width or
  so (a stroke cut where a ruling line was removed) no height check is needed;
* side pieces (the open part of a '4' beside its stem) must have one x-range almost inside the
  other, be nearly touching, and not both be full-height glyphs (which would be two digits
  whose boxes overlap because of slanted writing);
* any small piece (under CLOSE_SMALL of the line height) within about a pen width of a larger
  one is a gap in a thin or faint stroke, wherever it lies;
* two small pieces one above the other (each at most SMALL_PIECE of their union's height, such
  as the top hook and the base of a '2' whose faint diagonal was lost) count as stacked with
  less x-overlap (SMALL_X_OVERLAP): the stacked checks (gap, stroke continuing, height) decide;
  touching (within about a pen width) they join without a continuing stroke when together
  they are as tall as their neighbours (MIN_FILL).

No join may make a mark wider than MAX_ASPECT x its height, unless the mark is that wide already
and the other piece lies inside its box: two touching digits, left for the splitter, keep a piece
broken off one of them (the top of an '8' of '80' whose faint stroke broke: '80' read '30').

Small compact marks low beside a digit are never joined: those are full stops and commas; nor
are short bars at mid-height beside a digit: those are dashes.
"""
from __future__ import annotations

import cv2
import numpy as np

from .components import Labeled, PageScale
from .geometry import gap, median, near_pairs, overlap

MIN_X_OVERLAP = 0.5       # shared x-range / narrower width, for any join
SMALL_X_OVERLAP = 0.35    # the same, for two small stacked pieces
SMALL_PIECE = 0.6         # taller piece height / union height at most, for SMALL_X_OVERLAP
MAX_STACK_GAP = 0.22      # vertical gap / union height, stacked pieces
MAX_STACK_OVERLAP = 0.35  # vertical overlap / shorter height below which pieces count as stacked
MIN_CONTAINED = 0.85      # narrower x-range inside the wider one, side pieces
MAX_SIDE_DISTANCE = 0.15  # pixel distance / union height, side pieces
MAX_HEIGHT = 1.35         # union height / neighbours' median height
MAX_ASPECT = 1.6          # union width / union height
MIN_FILL = 0.8            # union height / line height at least, two small stacked pieces touching
CLOSE_SMALL = 0.6         # smaller piece height / line height at most, close pieces
CLOSE_DISTANCE = 1.5      # pixel distance / pen width at most, close pieces
MAX_ALONE_ASPECT = 4.0    # union height / width when there is no neighbour to compare with
# Judging a pair looks at every mark on the page, so merging is quadratic. A page of handwriting
# has hundreds of marks; tens of thousands means noise or texture, where merging is pointless.
MAX_MARKS = 5000


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i


def _candidates(boxes: np.ndarray, close: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs overlapping in x by SMALL_X_OVERLAP of the narrower and vertically close, or with
    boxes at most ``close`` px apart both ways, ordered by vertical gap (closest first), with
    that gap."""
    heights = boxes[:, 3]
    dy = 0.5 * float(np.percentile(heights, 99)) if len(boxes) else 0.0
    i, j = near_pairs(boxes, dy)
    if len(i) == 0:
        return i, j, i
    bi, bj = boxes[i], boxes[j]
    ox = overlap(bi[:, 0], bi[:, 0] + bi[:, 2], bj[:, 0], bj[:, 0] + bj[:, 2])
    gx = gap(bi[:, 0], bi[:, 0] + bi[:, 2], bj[:, 0], bj[:, 0] + bj[:, 2])
    gy = gap(bi[:, 1], bi[:, 1] + bi[:, 3], bj[:, 1], bj[:, 1] + bj[:, 3])
    ok = ((ox >= SMALL_X_OVERLAP * np.minimum(bi[:, 2], bj[:, 2])) &
          (gy <= 0.5 * np.maximum(bi[:, 3], bj[:, 3]))) | ((gx <= close) & (gy <= close))
    i, j, gy = i[ok], j[ok], gy[ok]
    order = np.argsort(gy, kind="stable")
    return i[order], j[order], gy[order]


def _neighbour_height(boxes: np.ndarray, union: np.ndarray) -> float | None:
    """Median height of the other components on the union's text line (centre inside the
    union's rows, within two union heights sideways, not a small mark), or None."""
    x, y, w, h = union
    cy = boxes[:, 1] + boxes[:, 3] / 2
    inside = (boxes[:, 0] >= x) & (boxes[:, 1] >= y) & \
             (boxes[:, 0] + boxes[:, 2] <= x + w) & (boxes[:, 1] + boxes[:, 3] <= y + h)
    gx = gap(boxes[:, 0], boxes[:, 0] + boxes[:, 2], x, x + w)
    near = (cy >= y) & (cy <= y + h) & (gx <= 2 * h) & (boxes[:, 3] >= 0.4 * h) & ~inside
    return median(boxes[near, 3]) if near.any() else None


def _facing_ink(lab: Labeled, upper: int, lower: int, band: int) -> tuple[np.ndarray, np.ndarray]:
    """Page x-coordinates of ink in the upper piece's bottom ``band`` rows and in the lower
    piece's top ``band`` rows."""
    bu, bl = lab.boxes[upper], lab.boxes[lower]
    mu, ml = lab.mask(upper), lab.mask(lower)
    cols_u = np.flatnonzero(mu[-band:].any(axis=0)) + bu[0]
    cols_l = np.flatnonzero(ml[:band].any(axis=0)) + bl[0]
    return cols_u, cols_l


def _continues(lab: Labeled, a: int, b: int, scale: PageScale, vgap: int) -> bool:
    """Whether a stroke ending at the facing edge of one stacked piece resumes on the other
    within a pen width or two (plus slack for a slanted stroke across the gap)."""
    upper, lower = (a, b) if lab.boxes[a, 1] <= lab.boxes[b, 1] else (b, a)
    band = max(2, int(round(scale.stroke)))
    cols_u, cols_l = _facing_ink(lab, upper, lower, band)
    if len(cols_u) == 0 or len(cols_l) == 0:
        return False
    tol = max(2.0, 1.5 * scale.stroke) + 0.7 * vgap
    pos = np.searchsorted(cols_l, cols_u)
    left = cols_l[np.clip(pos - 1, 0, len(cols_l) - 1)]
    right = cols_l[np.clip(pos, 0, len(cols_l) - 1)]
    d = np.minimum(np.abs(left - cols_u), np.abs(right - cols_u))
    return bool(d.min() <= tol)


def _pixel_distance(lab: Labeled, a: int, b: int) -> float:
    """Smallest distance (px) between the ink of two components."""
    ba, bb = lab.boxes[a], lab.boxes[b]
    x0, y0 = min(ba[0], bb[0]), min(ba[1], bb[1])
    x1 = max(ba[0] + ba[2], bb[0] + bb[2])
    y1 = max(ba[1] + ba[3], bb[1] + bb[3])
    free = np.ones((y1 - y0, x1 - x0), np.uint8)
    free[ba[1] - y0: ba[1] - y0 + ba[3], ba[0] - x0: ba[0] - x0 + ba[2]][lab.mask(a)] = 0
    dist = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    inb = lab.mask(b)
    return float(dist[bb[1] - y0: bb[1] - y0 + bb[3], bb[0] - x0: bb[0] - x0 + bb[2]][inb].min())


def _span(a0: int, a1: int, b0: int, b1: int) -> int:
    """Shared length (px) of intervals [a0, a1) and [b0, b1), negative for the gap between."""
    return min(a1, b1) - max(a0, b0)


def _is_separator_like(small: tuple, big: tuple) -> bool:
    """A compact mark in the bottom part of (or below) a taller one, not under its middle (a
    full stop or comma), or a short bar around its mid-height not above or below it (a dash)."""
    sx, sy, sw, sh = small
    bx, by, bw, bh = big
    cy = sy + sh / 2
    if sh <= 0.5 * bh and sw <= 0.5 * bh and cy >= by + 0.7 * bh:
        # Right under the middle of a digit it is rather a piece of its stroke.
        return not bx + 0.25 * bw <= sx + sw / 2 <= bx + 0.75 * bw
    beside = _span(sx, sx + sw, bx, bx + bw) < 0.5 * sw
    return beside and sh <= 0.3 * bh and sw >= 1.5 * sh and by + 0.25 * bh <= cy <= by + 0.8 * bh


def _joins(lab: Labeled, a: int, b: int, union: tuple, boxes: np.ndarray,
           scale: PageScale, vgap: int, close: float, within: bool = False) -> bool:
    """Whether components ``a`` and ``b`` (indices into ``lab``) are pieces of one digit, the
    groups they belong to spanning ``union`` (``within``: one group's box, the other inside it);
    ``boxes`` are all kept components' boxes."""
    ba, bb = tuple(lab.boxes[a].tolist()), tuple(lab.boxes[b].tolist())
    small, big = (ba, bb) if ba[3] * ba[2] <= bb[3] * bb[2] else (bb, ba)
    # Too wide for one digit, unless one group's box holds the other's already (touching digits,
    # for the splitter, and a piece of one of them inside their box).
    if _is_separator_like(small, big) or (union[2] > MAX_ASPECT * union[3] and not within):
        return False
    ox = _span(ba[0], ba[0] + ba[2], bb[0], bb[0] + bb[2])
    oy = _span(ba[1], ba[1] + ba[3], bb[1], bb[1] + bb[3])
    both_small = max(ba[3], bb[3]) <= SMALL_PIECE * union[3]
    if ox >= (SMALL_X_OVERLAP if both_small else MIN_X_OVERLAP) * min(ba[2], bb[2]):
        rule = "stacked" if oy <= MAX_STACK_OVERLAP * min(ba[3], bb[3]) else "side"
    else:
        rule = "close"
        if min(ba[3], bb[3]) > 0.8 * union[3]:
            return False  # two full-height marks side by side: neighbouring digits (cheap exit)
    if rule == "stacked" and vgap <= close and _continues(lab, a, b, scale, vgap):
        return True  # a stroke cut by a removed ruling line: the gap is a line's thickness
    ref = _neighbour_height(boxes, np.array(union))
    if ref is not None and union[3] > MAX_HEIGHT * ref:
        return False
    if ref is None and union[3] > MAX_ALONE_ASPECT * union[2]:
        return False
    line = ref if ref is not None else union[3]
    if rule == "stacked":
        if vgap <= MAX_STACK_GAP * union[3] and _continues(lab, a, b, scale, vgap):
            return True
        # Two small pieces touching one above the other that only together stand as tall as
        # their neighbours: one digit whose joint was too faint to bind them (a '5' whose bowl
        # starts a stroke's length away from its stem), not two digits or marks.
        if both_small and vgap <= close and ref is not None and union[3] >= MIN_FILL * ref:
            return True
    elif rule == "side":
        narrow, wide = (ba, bb) if ba[2] <= bb[2] else (bb, ba)
        inside = _span(narrow[0], narrow[0] + narrow[2], wide[0], wide[0] + wide[2])
        if inside >= MIN_CONTAINED * narrow[2] and min(ba[3], bb[3]) < 0.7 * line and \
                _pixel_distance(lab, a, b) <= max(2.0, MAX_SIDE_DISTANCE * union[3]):
            return True
    return min(ba[3], bb[3]) <= CLOSE_SMALL * line and _pixel_distance(lab, a, b) <= close


def merge_pieces(lab: Labeled, keep: np.ndarray, scale: PageScale) -> list[list[int]]:
    """Groups of component indices (into ``lab``) that form one mark each, in no order.

    ``keep`` is a bool mask of the components to consider (specks already dropped); every kept
    component appears in exactly one group.
    """
    idx = np.flatnonzero(keep)
    if len(idx) > MAX_MARKS:
        return [[int(i)] for i in idx]
    boxes = lab.boxes[idx]
    uf = _UnionFind(len(idx))
    # Box of each group at its root, zeros elsewhere: neighbours are judged as merged so far
    # (closest pairs first), so a line of digits all cut by line removal still gives their
    # full height once the cuts are healed.
    groups_box = boxes.copy()
    close = max(2.0, CLOSE_DISTANCE * scale.stroke)
    ci, cj, cgap = _candidates(boxes, close)
    for a, b, vgap in zip(ci.tolist(), cj.tolist(), cgap.tolist()):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        ga, gb = groups_box[ra].tolist(), groups_box[rb].tolist()
        x0, y0 = min(ga[0], gb[0]), min(ga[1], gb[1])
        union = (x0, y0, max(ga[0] + ga[2], gb[0] + gb[2]) - x0, max(ga[1] + ga[3], gb[1] + gb[3]) - y0)
        if _joins(lab, int(idx[a]), int(idx[b]), union, groups_box, scale, vgap, close, union in (tuple(ga), tuple(gb))):
            uf.parent[rb] = ra
            groups_box[ra] = union
            groups_box[rb] = 0
    groups: dict[int, list[int]] = {}
    for k in range(len(idx)):
        groups.setdefault(uf.find(k), []).append(int(idx[k]))
    return list(groups.values())
