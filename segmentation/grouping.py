"""Grouping marks into digit strings and putting strings in reading order.

1. Marks of similar height that share most of their rows and are not far apart sideways are
   linked into text lines (so a small printed label beside large handwriting stays apart).
2. Each line is cut into strings wherever the horizontal gap exceeds ``SPLIT_GAP`` x the line's
   median height: fields of a form lie far apart, digits of one field do not. A dash lying in a
   gap bridges it ("123 - 456" stays one string).
3. Marks much smaller than a string's height (full stops, commas, dashes, specks) are attached
   to the string whose x-span and band they fall in (or demoted from its bodies when linked in
   beside a short digit); they never link strings themselves, so a speck in the gap between
   two fields cannot join them.
4. Strings are ordered in rows top to bottom, each row left to right.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import gap, median, near_pairs, overlap
from .merge import _UnionFind

LINK_OVERLAP = 0.5   # shared rows / shorter height, to be on one line
LINK_RATIO = 0.5     # shorter / taller height, to be peers on one line
LINK_GAP = 2.5       # horizontal gap / taller height, to be on one line at all
SPLIT_GAP = 1.2      # horizontal gap / line height that separates two strings
SMALL = 0.6          # mark height / string height at most, to be attached as a small mark


@dataclass
class Group:
    """One string under construction: ``bodies`` (digit-sized marks) and ``marks`` (small ones
    attached), as indices into the page's marks; ``height``, ``top``, ``base`` are the medians
    of the bodies' heights, top and bottom edges (px)."""

    bodies: list[int]
    marks: list[int] = field(default_factory=list)
    height: float = 0.0
    top: float = 0.0
    base: float = 0.0

    @property
    def members(self) -> list[int]:
        return self.bodies + self.marks


def _measure(group: Group, boxes: np.ndarray) -> Group:
    if len(group.bodies) == 1:  # most groups on a noisy page: skip the medians
        x, y, w, h = boxes[group.bodies[0]].tolist()
        group.height, group.top, group.base = float(h), float(y), float(y + h)
        return group
    b = boxes[group.bodies]
    group.height = median(b[:, 3])
    group.top = median(b[:, 1])
    group.base = median(b[:, 1] + b[:, 3])
    return group


def link_lines(boxes: np.ndarray) -> list[list[int]]:
    """Clusters of mark indices forming text lines of similar-height marks."""
    i, j = near_pairs(boxes, 0)
    if len(i):
        bi, bj = boxes[i], boxes[j]
        hmin = np.minimum(bi[:, 3], bj[:, 3])
        hmax = np.maximum(bi[:, 3], bj[:, 3])
        oy = overlap(bi[:, 1], bi[:, 1] + bi[:, 3], bj[:, 1], bj[:, 1] + bj[:, 3])
        gx = gap(bi[:, 0], bi[:, 0] + bi[:, 2], bj[:, 0], bj[:, 0] + bj[:, 2])
        ok = (oy >= LINK_OVERLAP * hmin) & (hmin >= LINK_RATIO * hmax) & (gx <= LINK_GAP * hmax)
        i, j = i[ok], j[ok]
    uf = _UnionFind(len(boxes))
    for a, b in zip(i.tolist(), j.tolist()):
        ra, rb = uf.find(a), uf.find(b)
        if ra != rb:
            uf.parent[rb] = ra
    lines: dict[int, list[int]] = {}
    for k in range(len(boxes)):
        lines.setdefault(uf.find(k), []).append(k)
    return list(lines.values())


def is_dash_like(box: np.ndarray, height: float, top: float) -> bool:
    """A short horizontal bar around mid-height of a line of the given height and top (px)."""
    x, y, w, h = box
    cy = y + h / 2
    return bool(h <= 0.35 * height and w >= 1.5 * h and 0.15 * height <= w <= 1.5 * height
                and top + 0.2 * height <= cy <= top + 0.85 * height)


def _bridging_dash(boxes: np.ndarray, left: np.ndarray, right: np.ndarray, x0: int, x1: int,
                   height: float) -> bool:
    """Whether a dash lies between x0 (end of the left part) and x1 (start of the right part),
    on the band of the two marks beside the gap, within SPLIT_GAP of both."""
    top = (left[1] + right[1]) / 2
    limit = SPLIT_GAP * height
    cand = (boxes[:, 0] >= x0) & (boxes[:, 0] + boxes[:, 2] <= x1) & \
           (boxes[:, 0] - x0 <= limit) & (x1 - boxes[:, 0] - boxes[:, 2] <= limit)
    return any(is_dash_like(boxes[k], height, top) for k in np.flatnonzero(cand))


def split_line(line: list[int], boxes: np.ndarray) -> list[list[int]]:
    """A line's marks cut into strings at gaps wider than SPLIT_GAP x its median height."""
    if len(line) == 1:
        return [line]
    b = boxes[line]
    order = np.argsort(b[:, 0] + b[:, 2] / 2, kind="stable")
    height = median(b[:, 3])
    strings, current = [], [line[order[0]]]
    right = b[order[0], 0] + b[order[0], 2]
    for k in order[1:]:
        x = b[k, 0]
        if x - right > SPLIT_GAP * height and \
                not _bridging_dash(boxes, boxes[current[-1]], b[k], int(right), int(x), height):
            strings.append(current)
            current = []
        current.append(line[k])
        right = max(right, x + b[k, 2])
    strings.append(current)
    return strings


def demote_small(group: Group, boxes: np.ndarray) -> Group:
    """Bodies under SMALL x the string's height, linked in as peers of a short neighbour (a
    comma beside a small '2'), moved to the string's marks."""
    if len(group.bodies) < 3:
        return group
    small = [k for k in group.bodies if boxes[k, 3] < SMALL * group.height]
    if small:
        group.bodies = [k for k in group.bodies if k not in small]
        group.marks.extend(small)
        _measure(group, boxes)
    return group


def attach_marks(groups: list[Group], boxes: np.ndarray) -> list[Group]:
    """Move each mark much smaller than a string, lying inside that string's x-span and band,
    from its own group into that string's ``marks``. Groups left empty disappear."""
    # Only strings of two or more bodies have an inside to hold a mark.
    hosts = [g for g, group in enumerate(groups) if len(group.bodies) >= 2]
    if not hosts:
        return groups
    owner = np.full(len(boxes), -1, np.int64)  # -1: already a mark of some string
    for g, group in enumerate(groups):
        owner[group.bodies] = g
    span0 = np.array([boxes[groups[g].bodies, 0].min() for g in hosts], np.float64)
    span1 = np.array([(boxes[groups[g].bodies, 0] + boxes[groups[g].bodies, 2]).max() for g in hosts],
                     np.float64)
    hgt = np.array([groups[g].height for g in hosts])
    top = np.array([groups[g].top for g in hosts])
    base = np.array([groups[g].base for g in hosts])
    cx = boxes[:, 0] + boxes[:, 2] / 2
    cy = boxes[:, 1] + boxes[:, 3] / 2
    # (marks x host strings) candidate matrix.
    fits = (boxes[:, None, 3] <= SMALL * hgt[None]) & (boxes[:, None, 2] <= 1.5 * hgt[None]) & \
           (cx[:, None] > span0[None]) & (cx[:, None] < span1[None]) & \
           (cy[:, None] >= top[None] - 0.15 * hgt[None]) & (cy[:, None] <= base[None] + 0.45 * hgt[None])
    fits &= (owner[:, None] != np.array(hosts)[None]) & (owner[:, None] >= 0)
    for k in np.flatnonzero(fits.any(axis=1)).tolist():
        cands = np.flatnonzero(fits[k])
        # Nearest band centre wins when strings overlap (rare: stacked fields).
        host = hosts[int(cands[np.argmin(np.abs(cy[k] - (top[cands] + base[cands]) / 2))])]
        groups[owner[k]].bodies.remove(k)
        groups[host].marks.append(k)
    out = []
    for group in groups:
        if group.bodies:
            out.append(_measure(group, boxes))
        elif group.marks:  # its bodies all left: hand its marks to a new owner is not worth it
            out.append(Group(bodies=group.marks, height=group.height, top=group.top, base=group.base))
    return out


def reading_order(boxes: np.ndarray) -> list[int]:
    """Order of boxes in rows top to bottom, left to right within a row; a box joins the row
    of the first box (by centre) it shares at least half its height with."""
    order = np.argsort(boxes[:, 1] + boxes[:, 3] / 2, kind="stable").tolist()
    rows: list[list[int]] = []
    r0 = np.empty(len(boxes), np.int64)  # band of each row: its first box's rows
    r1 = np.empty(len(boxes), np.int64)
    for k in order:
        y0, y1 = int(boxes[k, 1]), int(boxes[k, 1] + boxes[k, 3])
        n = len(rows)
        shared = np.minimum(y1, r1[:n]) - np.maximum(y0, r0[:n])
        fits = np.flatnonzero(shared >= 0.5 * np.minimum(y1 - y0, r1[:n] - r0[:n]))
        if len(fits):
            rows[fits[0]].append(k)
        else:
            rows.append([k])
            r0[n], r1[n] = y0, y1
    return [k for row in rows for k in sorted(row, key=lambda i: boxes[i, 0] + boxes[i, 2] / 2)]


def group_strings(boxes: np.ndarray) -> list[Group]:
    """Strings of marks (indices into ``boxes``), in reading order, marks not yet ordered."""
    if len(boxes) == 0:
        return []
    groups = [demote_small(_measure(Group(bodies=s), boxes), boxes)
              for line in link_lines(boxes) for s in split_line(line, boxes)]
    groups = attach_marks(groups, boxes)
    string_boxes = []
    for g in groups:
        b = boxes[g.bodies]
        x0, y0 = b[:, 0].min(), b[:, 1].min()
        string_boxes.append((x0, y0, (b[:, 0] + b[:, 2]).max() - x0, (b[:, 1] + b[:, 3]).max() - y0))
    order = reading_order(np.array(string_boxes, np.int64))
    return [groups[k] for k in order]
