"""Regions of a page read as one string each (a frame, a comb, a template field), the ink that
belongs to each, and the digit marks cut from it.

Every ink component whose centre of mass lies in a region goes to that region, whole, even where
it crosses the frame (line removal hands crossing pixels back to the ink): the rest of the page
is segmented as usual without it. Inside a frame, line pixels away from the printed lines are
upright pen strokes that line removal took for box sides (the stem of a '5' in a comb cell, off
the comb's grid): they are handed back too. A comb's cells split its ink
into digits, so touching digits across a divider need no guessing; a frame's or an unframed
field's ink is segmented like a small page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from forms.boxes import Frame
from forms.template import FieldSpec
from pipeline.results import Box
from segmentation.segment import Component, segment_page

Scorer = Callable[[np.ndarray], np.ndarray]

LINE_BAND = 2  # px either side of a printed line (beyond its measured width) kept as the line
SPLIT_SHARE = 0.3  # a component with this share of its ink in a second cell is cut at the divider
SPECK = 0.12  # x cell height: a cell's ink smaller than this both ways is a speck
SLIVER = 0.08  # x cell height: ink this thin along a cell's edge is left of the printed line
EDGE = 0.2  # x cell height: how near the top or bottom a flat sliver lies


@dataclass
class Region:
    """Where one string is read: ``box`` in deskewed page pixels (a frame's outer edge, or a
    template field's area), ``kind`` (box, comb or line), the printed ``frame`` found there,
    the comb's ``cells``, and the template ``field`` it answers, if any."""

    box: Box
    kind: str
    frame: Frame | None = None
    cells: list[Box] = field(default_factory=list)
    field: FieldSpec | None = None


def from_frame(frame: Frame, spec: FieldSpec | None = None) -> Region:
    return Region(frame.box, frame.kind, frame, list(frame.cells), spec)


def _frame_lines(frame: Frame, crop: Box) -> np.ndarray:
    """Bool mask over ``crop`` of the printed lines of ``frame`` (with LINE_BAND px to spare):
    everything outside a comb's cells, or outside a box's holes."""
    mask = np.ones((crop.h, crop.w), bool)
    band = LINE_BAND
    for inside in frame.cells or frame.holes or [frame.inner]:
        x0, y0 = max(0, inside.x - crop.x + band), max(0, inside.y - crop.y + band)
        mask[y0: max(y0, inside.bottom - crop.y - band), x0: max(x0, inside.right - crop.x - band)] = False
    return mask


def _owner(centres: np.ndarray, regions: list[Region]) -> np.ndarray:
    """Index of the region holding each centre (x, y), -1 for none; the smallest region wins."""
    owner = np.full(len(centres), -1, np.int64)
    order = sorted(range(len(regions)), key=lambda i: regions[i].box.w * regions[i].box.h, reverse=True)
    for i in order:
        b = regions[i].box
        inside = ((centres[:, 0] >= b.x) & (centres[:, 0] < b.right)
                  & (centres[:, 1] >= b.y) & (centres[:, 1] < b.bottom))
        owner[inside] = i
    return owner


@dataclass
class RegionInk:
    """A region's ink: ``mask`` (bool) over ``crop`` (page pixels), empty when nothing is there."""

    crop: Box
    mask: np.ndarray


def take_ink(ink: np.ndarray, lines: np.ndarray, regions: list[Region]) -> tuple[np.ndarray, list[RegionInk]]:
    """(the page's ink without the regions' ink, each region's ink). ``ink`` and ``lines`` are
    the preprocessed bool masks (deskewed page pixels)."""
    if not regions:
        return ink, []
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(ink, dtype=bool).view(np.uint8), connectivity=8)
    owner = _owner(centroids[1:], regions) if n > 1 else np.zeros(0, np.int64)
    rest = ink.copy()
    out = []
    height, width = ink.shape
    for i, region in enumerate(regions):
        members = np.flatnonzero(owner == i) + 1  # labels
        boxes = [region.box] + [Box(*(int(v) for v in stats[k, :4])) for k in members]
        crop = Box.enclosing(boxes)
        x0, y0 = min(max(0, crop.x), width), min(max(0, crop.y), height)
        crop = Box(x0, y0, max(0, min(width, crop.right) - x0), max(0, min(height, crop.bottom) - y0))
        window = labels[crop.y: crop.bottom, crop.x: crop.right]
        mask = np.isin(window, members) if len(members) else np.zeros(window.shape, bool)
        if len(members):
            rest[crop.y: crop.bottom, crop.x: crop.right] &= ~mask
        if region.frame is not None:
            taken = lines[crop.y: crop.bottom, crop.x: crop.right] & ~_frame_lines(region.frame, crop)
            mask |= taken
        out.append(RegionInk(crop, mask))
    return rest, out


def _clean_cell(mask: np.ndarray, cell: Box, crop: Box) -> np.ndarray:
    """A cell's ink without specks (smaller than SPECK x the cell's height both ways) and
    without slivers of the printed lines left along its edges (flat pieces at its top or
    bottom, hairlines hugging its sides)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    small, thin = max(2, round(SPECK * cell.h)), max(3, round(SLIVER * cell.h))
    top, bottom = cell.y - crop.y, cell.bottom - crop.y
    left, right = cell.x - crop.x, cell.right - crop.x
    keep = np.zeros(n, bool)
    for k in range(1, n):
        x, y, w, h = stats[k, :4]
        speck = w < small and h < small
        flat = h <= thin and (y + h <= top + EDGE * cell.h or y >= bottom - EDGE * cell.h)
        hair = w <= thin and h > 2 * thin and (x + w <= left + 3 or x >= right - 3)
        keep[k] = not (speck or flat or hair)
    return keep[labels]


def comb_marks(region: Region, ink: RegionInk) -> list[Component]:
    """One component per written cell of a comb, left to right. Each ink component goes to the
    cell holding most of it; one with SPLIT_SHARE of its ink in another cell too (digits
    touching across a divider) is cut at the divider."""
    crop, mask = ink.crop, ink.mask
    if not mask.any():
        return []
    # Dividers: the middle of the gap between neighbouring cells.
    cuts = [(a.right + b.x) / 2 - crop.x for a, b in zip(region.cells[:-1], region.cells[1:])]
    column_cell = np.searchsorted(np.asarray(cuts), np.arange(mask.shape[1]), side="right")
    n, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    cell_of = np.full(mask.shape, -1, np.int64)
    for k in range(1, n):
        ys, xs = np.nonzero(labels == k)
        cells = column_cell[xs]
        counts = np.bincount(cells, minlength=len(region.cells))
        order = np.argsort(counts)[::-1]
        if len(order) > 1 and counts[order[1]] >= SPLIT_SHARE * len(xs):
            cell_of[ys, xs] = cells  # touching digits: each part goes to its own cell
        else:
            cell_of[ys, xs] = order[0]
    out = []
    for index, cell in enumerate(region.cells):
        piece = cell_of == index
        if not piece.any():
            continue
        piece = _clean_cell(piece, cell, crop)
        ys, xs = np.nonzero(piece)
        if len(ys) == 0:
            continue
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        out.append(Component(Box(crop.x + int(x0), crop.y + int(y0), int(x1 - x0), int(y1 - y0)),
                             piece[y0:y1, x0:x1].copy()))
    return out


def box_marks(ink: RegionInk, score: Scorer | None) -> list[Component]:
    """The marks of a frame's or a field's ink, left to right: segmented like a small page, every
    string found there joined into one (a field holds one string)."""
    if not ink.mask.any():
        return []
    strings = segment_page(ink.mask, score)
    x, y = ink.crop.x, ink.crop.y
    marks = [Component(Box(c.box.x + x, c.box.y + y, c.box.w, c.box.h), c.mask, c.separator)
             for string in strings for c in string]  # back to page pixels
    return sorted(marks, key=lambda c: c.box.x + c.box.w / 2)


def region_marks(region: Region, ink: RegionInk, score: Scorer | None) -> list[Component]:
    """The marks of one region in reading order."""
    return comb_marks(region, ink) if region.cells else box_marks(ink, score)
