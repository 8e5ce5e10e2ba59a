"""Regions of a page read as one string each (a frame, a comb, a template field), the ink that
belongs to each, and the digit marks cut from it.

Around a printed frame, whose geometry is known, the frame's lines are taken out again from the
page's ink and line pixels together: a line pixel stays where a pen stroke crosses it, the ink of
strokes touching or lying along a line beyond its printed width stays, pieces of a divider that
page-wide line removal left in the ink go, and line pixels inside the cells (an upright stroke
taken for a box side) come back. Every piece whose centre of mass lies in the
region goes to it, whole; the rest of the page is segmented as usual without it. A comb's cells
split its ink into digits (digits touching across a divider are cut near it where the classifier
reads the parts best); a frame's or an unframed field's ink is segmented in the same call as the
rest of the page (:func:`segment`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import product

import cv2
import numpy as np

from forms.boxes import Frame
from forms.frame_lines import line_core
from forms.template import FieldSpec
from pipeline.geometry import pad_box
from pipeline.results import Box
from segmentation.components import label_components, stroke_width
from segmentation.normalize import batch_to_mnist, batch_to_pair
from segmentation.segment import Component, segment_page
from segmentation.touching import (AGREE_MARGIN, MAX_CANDIDATES, PAIR_SURE, PairScorer, Scorer, blend_pair,
                                   both_sides, candidate_columns, cut_parts, cuts_at, digit_values, tight_mask)

LINE_BAND = 2  # px either side of a printed line (beyond its measured width) kept as the line
MARGIN = 0.5  # x frame height: how far around a frame the ink of digits crossing it is looked for
ALONG = 2  # px along a printed line within which a crossing stroke continues on the other side
TOUCH = 2  # px beside a printed line where the ink of a stroke crossing it must be
SOLID_ROW = 0.6  # share of a frame's width dark in a row next to its horizontal line: more line
SOLID_COLUMN = 0.85  # share of a cell's height dark in a column next to an upright line: more line
SPLIT_SHARE = 0.3  # share of a component's ink in a cell of its own for touching digits to be cut
SPLIT_WIDTH = 1.3  # x cell pitch: a component narrower than this is one digit, even across a divider
CUT_REACH = 0.3  # x cell pitch: how far from the divider touching digits may be cut
RECUT_REACH = 0.5  # ... and entangled digits cut again where the pair reader reads them otherwise
FULL_SPLIT_SHARE, FULL_SPLIT_WIDTH = 0.15, 0.9  # the same where every cell is to be written
OWN = 0.3  # x cell height: a piece at least this tall is (part of) a digit of its own
SPECK = 0.12  # x cell height: a cell's ink smaller than this both ways is a speck
SLIVER = 0.08  # x cell height: ink this thin along a cell's edge is left of the printed line
EDGE = 0.2  # x cell height: how near the top or bottom a flat sliver lies
CROSS_SHARE = 0.2  # share of a component's ink over a neighbouring written cell for the cut to be tried
LOOSE_MARGIN = 0.5  # log-probability loss of its cell's reading for which a loose nub is dropped
NUB = 0.2  # x cell size: a piece this narrow (and under twice as tall) at a cell's side is not a digit
OVERLAP = 0.7  # x the print's grey level: a line pixel this much darker has pen ink over the print
OVERLAP_RUN = 3  # px along a line: a darker run this long is a stroke lying on it, not noise
# log-probability: a cell reading another digit nearly as well with a line's pixels is in doubt. A
# '2' whose curl meets a divider reads '0' at 0.6-0.9 with the divider given back (never rightly,
# 19 page sets); a '0' with its side on the divider reads '2' without it as surely as '0' with it.
RESTORE_DOUBT = 0.1
RESTORE_SPAN = 0.25  # x a cell's side: how far apart a stroke must touch a line for the line between to be tried
# Digits drawn with a straight stroke along a cell's side: the base of a '2' on the bottom line, the
# bar of a '7' or '5' on the top line. The line's pixels given back are thicker and straighter than
# the pen's, so such a trial reads a little worse than the digit would: it is taken within
# FLAT_LEAD of the cell's reading (a '2' read 0.977 against a '7' read 0.997 without its base).
FLAT_STROKES = {"bottom": "2", "top": "57"}
FLAT_LEAD = 0.1  # log-probability


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
    full: bool = False  # every cell of the comb is written (a template field as long as its comb)
    pale: bool = False  # framed by print too light to be ink: nothing to strip, no remnant in the ink


def from_frame(frame: Frame, spec: FieldSpec | None = None) -> Region:
    if frame.pale:
        # A dropout-colour frame is not in the ink: nothing to strip, no stroke cut at a divider,
        # so its content is read as it stands, as one string (digits overflowing a comb's cells
        # stay whole).
        return Region(frame.box, frame.kind, None, [], spec, pale=True)
    return Region(frame.box, frame.kind, frame, list(frame.cells), spec)


def _near(flags: np.ndarray, reach: int = ALONG) -> np.ndarray:
    """1-D bool ``flags`` widened by ``reach`` either way (a slanted stroke leaves a line a
    little further along than it entered)."""
    if flags.size == 0:
        return flags.astype(bool)
    row = np.ascontiguousarray(flags, dtype=np.uint8).reshape(1, -1)
    return cv2.dilate(row, np.ones((1, 2 * reach + 1), np.uint8)).ravel() > 0


def _grow(dark: np.ndarray, lo: int, hi: int, along: slice, vertical: bool, share: float,
          limit: int) -> tuple[int, int]:
    """A line's band [lo, hi) (rows of a horizontal line, columns of an upright one) widened,
    up to ``limit`` px each way, while the next row (column) is dark over ``share`` of the
    line's length: blur and bleed make a printed line wider in the ink than in the line mask."""
    size = dark.shape[1] if vertical else dark.shape[0]
    lo, hi = min(max(lo, 0), size), min(max(hi, 0), size)  # a frame cut by the page's edge

    def solid(k: int) -> bool:
        run = dark[along, k] if vertical else dark[k, along]
        return run.size > 0 and float(run.mean()) >= share

    for _ in range(limit):
        if lo > 0 and solid(lo - 1):
            lo -= 1
        else:
            break
    for _ in range(limit):
        if hi < size and solid(hi):
            hi += 1
        else:
            break
    return lo, hi


def strip_frame(dark: np.ndarray, frame: Frame, crop: Box, gray: np.ndarray | None = None) -> np.ndarray:
    """``dark`` (ink and line pixels over ``crop``) without ``frame``'s printed lines, except
    where a pen stroke crosses them: stroke ink touching the line on both sides (above and below
    a horizontal line, left and right of an upright one) in the same place. The frame's geometry
    is known here, so this also takes out the pieces of lines (a divider cut by a crossing
    digit) that page-wide line removal left in the ink. Only the printed line's own pixels in
    its band go (:func:`forms.frame_lines.line_core`): the ink of a stroke beyond them stays
    (the end of a '1' touching the box's top and bottom, a '7' bar lying on its top line, with
    the line's pixels under the bar), or the digit loses it and what is left reads as another
    digit or is dropped as a sliver.

    With ``gray`` (the grey page over ``crop``, uint8), line pixels markedly darker than the
    frame's print (:func:`_overlap`) are a pen stroke lying on the line, ink over ink, and stay:
    the side of a '0' written on a divider."""
    band = LINE_BAND
    height, width = dark.shape
    limit = max(3, frame.inner.y - frame.box.y)
    left, right = max(0, frame.box.x - crop.x - 1), min(width, frame.box.right - crop.x + 1)
    interiors = sorted(frame.cells or frame.holes or [frame.inner], key=lambda b: b.x)
    span = slice(left, right)
    top_band = _grow(dark, max(0, frame.box.y - crop.y - 1),
                     min(height, min(i.y for i in interiors) - crop.y + band), span, False, SOLID_ROW, limit)
    bottom_band = _grow(dark, max(0, max(i.bottom for i in interiors) - crop.y - band),
                        min(height, frame.box.bottom - crop.y + 1), span, False, SOLID_ROW, limit)
    top, bottom = top_band[1], max(top_band[1], bottom_band[0])
    rows = slice(top, bottom)
    uprights = [_grow(dark, max(0, x0), max(0, min(width, x1)), rows, True, SOLID_COLUMN, limit)
                for x0, x1 in ([(left, interiors[0].x - crop.x + band)]
                               + [(a.right - crop.x - band, b.x - crop.x + band)
                                  for a, b in zip(interiors[:-1], interiors[1:])]
                               + [(interiors[-1].right - crop.x - band, right)])]
    # The printed lines' pixels in the bands; the rest of a band's ink is a stroke along the line.
    lines = np.zeros(dark.shape, bool)
    upright = np.zeros(width, bool)
    for x0, x1 in uprights:
        upright[x0:x1] = True
    for y0, y1 in (top_band, bottom_band):
        if y1 > y0 and right > left:
            band, span = dark[y0:y1, left:right], slice(left, right)
            lines[y0:y1, span] = (line_core(band, _edge(dark, y0 - 1, span), _edge(dark, y1, span), frame.box.h,
                                            touching=True, under=True) | (band & upright[None, span]))
    for x0, x1 in uprights:
        if x1 > x0 and bottom > top:
            band, span = dark[rows, x0:x1].T, rows
            # Digits merely touching a divider are cut at it, as ever: neighbours stay apart.
            lines[rows, x0:x1] = line_core(band, _edge(dark.T, x0 - 1, span), _edge(dark.T, x1, span), frame.box.h).T
    strokes = dark & ~lines
    keep = np.zeros(dark.shape, bool)
    for x0, x1 in uprights:
        if x1 <= x0 or bottom <= top:
            continue
        before = strokes[top:bottom, max(0, x0 - TOUCH):x0].any(axis=1)
        after = strokes[top:bottom, x1:x1 + TOUCH].any(axis=1)
        keep[np.flatnonzero(_near(before) & _near(after)) + top, x0:x1] = True
    for y0, y1 in (top_band, bottom_band):
        if y1 <= y0 or right <= left:
            continue
        before = strokes[max(0, y0 - TOUCH):y0, left:right].any(axis=0)
        after = strokes[y1:y1 + TOUCH, left:right].any(axis=0)
        keep[y0:y1, np.flatnonzero(_near(before) & _near(after)) + left] = True
    if gray is not None:
        keep |= _overlap(gray, lines, [(top, bottom, x0, x1) for x0, x1 in uprights])
    return strokes | (lines & keep)


def _overlap(gray: np.ndarray, lines: np.ndarray, uprights: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Pixels of the ``uprights`` (rows y0:y1, columns x0:x1 of ``lines``) where pen ink lies over
    the print: ink over ink is darker than either, so a pixel under OVERLAP x the print's own
    grey level, in a run of OVERLAP_RUN px along the line. The print's level is the median, over
    all the frame's uprights, of the darkest line pixel across each row (mostly bare print: a
    digit lies along a part of a divider at most). Print as dark as the pen shows nothing."""
    out = np.zeros(lines.shape, bool)
    spans = [(slice(y0, y1), slice(x0, x1)) for y0, y1, x0, x1 in uprights if y1 - y0 >= OVERLAP_RUN and x1 > x0]
    darkest = np.concatenate([np.where(lines[s], gray[s], 255).min(axis=1) for s in spans]) if spans else np.zeros(0)
    darkest = darkest[darkest < 255]
    if darkest.size == 0:
        return out
    level = float(np.median(darkest))
    for s in spans:
        under = ((gray[s] < OVERLAP * level) & lines[s]).view(np.uint8)
        out[s] = cv2.morphologyEx(under, cv2.MORPH_OPEN, np.ones((OVERLAP_RUN, 1), np.uint8)) > 0
    return out


def _edge(dark: np.ndarray, row: int, span: slice) -> np.ndarray:
    """Row ``row`` of ``dark`` over ``span``, all paper beyond the crop."""
    if 0 <= row < dark.shape[0]:
        return dark[row, span]
    return np.zeros(len(range(*span.indices(dark.shape[1]))), bool)


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
    stripped: np.ndarray | None = None  # the frame's line pixels taken out (bool, over crop)


def _framed_ink(ink: np.ndarray, lines: np.ndarray, region: Region, others: list[Box],
                gray: np.ndarray | None = None) -> RegionInk:
    """A frame's ink: ink and line pixels around it, its printed lines stripped (strokes crossing
    them kept, so a digit written across the frame is whole again), the pieces whose centre of
    mass lies in the frame, and the digit-sized pieces touching it from outside (unless their
    centre lies in one of the ``others`` regions)."""
    height, width = ink.shape
    margin = round(MARGIN * region.box.h)
    b = region.box
    crop = pad_box(b, margin, width, height)
    if crop.w == 0 or crop.h == 0:
        return RegionInk(crop, np.zeros((crop.h, crop.w), bool))
    window = (slice(crop.y, crop.bottom), slice(crop.x, crop.right))
    dark = ink[window] | lines[window]
    clean = strip_frame(dark, region.frame, crop, None if gray is None else gray[window])
    lab = label_components(clean)
    centroids = lab.centroids()
    cx, cy = centroids[:, 0] + crop.x, centroids[:, 1] + crop.y
    inside = (cx >= b.x) & (cx < b.right) & (cy >= b.y) & (cy < b.bottom)
    # Pieces of a digit written over the frame's edge, cut off by the line they lie along.
    x, y = lab.boxes[:, 0] + crop.x, lab.boxes[:, 1] + crop.y
    w, h = lab.boxes[:, 2], lab.boxes[:, 3]
    touching = ((x <= b.right + 2) & (x + w >= b.x - 2) & (y <= b.bottom + 2) & (y + h >= b.y - 2)
                & (w <= b.h) & (h <= b.h))
    for o in others:
        touching &= ~((cx >= o.x) & (cx < o.right) & (cy >= o.y) & (cy < o.bottom))
    members = np.flatnonzero(inside | touching) + 1
    return RegionInk(crop, np.isin(lab.labels, members) if len(members) else np.zeros(clean.shape, bool), dark & ~clean)


def take_ink(ink: np.ndarray, lines: np.ndarray, regions: list[Region],
             gray: np.ndarray | None = None) -> tuple[np.ndarray, list[RegionInk]]:
    """(the page's ink without the regions' ink, each region's ink). ``ink`` and ``lines`` are
    the preprocessed bool masks (deskewed page pixels); ``gray``, the deskewed grey page, shows
    where a stroke lies on a frame's line (:func:`strip_frame`). Unframed regions (template
    fields on a line or in free space) take the ink components whose centre of mass they hold."""
    if not regions:
        return ink, []
    height, width = ink.shape
    rest = ink.copy()
    out: list[RegionInk] = []
    owner, lab = None, None
    for i, region in enumerate(regions):
        if region.frame is not None:
            taken = _framed_ink(ink, lines, region, [r.box for r in regions if r is not region], gray)
        else:
            if lab is None:
                lab = label_components(ink)
                owner = _owner(lab.centroids(), regions)
            members = np.flatnonzero(owner == i) + 1  # labels
            boxes = [region.box] + [Box(*(int(v) for v in lab.boxes[k - 1])) for k in members]
            crop = pad_box(Box.enclosing(boxes), 0, width, height)
            window = lab.labels[crop.y: crop.bottom, crop.x: crop.right]
            taken = RegionInk(crop, np.isin(window, members) if len(members) else np.zeros(window.shape, bool))
        c = taken.crop
        rest[c.y: c.bottom, c.x: c.right] &= ~taken.mask
        if region.frame is not None:  # what is left inside a frame is pieces of its lines
            # (and its edges' anti-aliased fringe, LINE_BAND px beyond the box)
            b = pad_box(region.frame.box, LINE_BAND, width, height)
            rest[b.y: b.bottom, b.x: b.right] = False
        out.append(taken)
    return rest, out


def _tidy_cells(cell_of: np.ndarray, cells: list[Box], crop: Box, outer: Box | None = None,
                loose: list[tuple[int, np.ndarray]] | None = None) -> np.ndarray:
    """``cell_of`` (the cell of each ink pixel, -1 none) without specks (smaller than SPECK x
    the cell height both ways) and slivers of printed lines along the cells' edges (flat pieces
    at the top or bottom, hairlines at the sides). A small piece at a cell's side ("nub") is the
    end of a stroke from the next cell, cut off by the divider it crossed along: it joins that
    cell when its ink comes up to the divider there, else it goes (listed in ``loose``, when
    given, as (its cell, its mask) for :func:`_keep_loose` to judge). A piece reaching beyond the
    comb's ``outer`` edge (the frame's box) at its ends is no sliver of a printed line: it is the
    part of the first or last digit written out over the frame's side, and stays with it."""
    out = np.full(cell_of.shape, -1, np.int64)
    beyond_left = outer.x - crop.x if outer is not None else -1
    beyond_right = outer.right - crop.x if outer is not None else cell_of.shape[1] + 1
    for index, cell in enumerate(cells):
        mask = (cell_of == index).view(np.uint8)
        bx, by, bw, bh = cv2.boundingRect(mask)  # labelled there only: a comb's crop is ~10 cells wide
        if bw == 0:
            continue
        lab = label_components(mask[by:by + bh, bx:bx + bw])
        labels, window = lab.labels, out[by:by + bh, bx:bx + bw]
        small, thin = max(2, round(SPECK * cell.h)), max(3, round(SLIVER * cell.h))
        top, bottom = cell.y - crop.y, cell.bottom - crop.y
        left, right = cell.x - crop.x, cell.right - crop.x
        for k in range(1, len(lab) + 1):
            x, y, w, h = (int(v) for v in lab.boxes[k - 1])
            x, y = x + bx, y + by
            speck = w < small and h < small
            flat = h <= thin and (y + h <= top + EDGE * cell.h or y >= bottom - EDGE * cell.h)
            hair = (x <= left + 3 or x + w >= right - 3) and w <= thin and h > 2 * thin
            spill = (index == 0 and x < beyond_left) or (index == len(cells) - 1 and x + w > beyond_right)
            if speck or ((flat or hair) and not spill):
                continue
            target = index
            if w < NUB * cell.w and h < 2 * NUB * cell.h and not spill:
                side = -1 if x <= left + 3 else (1 if x + w >= right - 3 else 0)
                if side:
                    target = _across(cell_of, cells, index + side, crop, y, y + h, side)
                    if target < 0:
                        if loose is not None:
                            piece = np.zeros(cell_of.shape, bool)
                            piece[by:by + bh, bx:bx + bw] = labels == k
                            loose.append((index, piece))
                        continue
            window[labels == k] = target
    return out


def _across(cell_of: np.ndarray, cells: list[Box], neighbour: int, crop: Box, y0: int, y1: int,
            side: int) -> int:
    """``neighbour`` when it has ink near its edge facing the cell on ``side`` (-1: the
    neighbour lies left) over rows ``y0``-``y1``, else -1."""
    if not 0 <= neighbour < len(cells):
        return -1
    c = cells[neighbour]
    reach = max(3, round(NUB * c.w))
    x0 = c.right - crop.x - reach if side < 0 else c.x - crop.x
    rows = slice(max(0, y0 - ALONG), y1 + ALONG)
    near = cell_of[rows, max(0, x0): max(0, x0 + reach)] == neighbour
    return neighbour if near.any() else -1


def _cut_columns(profile: np.ndarray, x0: int, cells: list[int], dividers: np.ndarray,
                 pitch: float) -> np.ndarray:
    """The cell of each column of a component spanning ``cells`` (sorted): cut between
    neighbours at the column with least ink within CUT_REACH pitches of their divider."""
    cuts = []
    smooth = np.convolve(profile.astype(float), np.ones(3) / 3, mode="same")
    for a in cells[:-1]:
        centre = dividers[a] - x0
        lo, hi = int(max(0, centre - CUT_REACH * pitch)), int(min(len(profile), centre + CUT_REACH * pitch + 1))
        cuts.append(lo + int(np.argmin(smooth[lo:hi])) if hi > lo else int(centre))
    return np.asarray(cells)[np.searchsorted(np.asarray(cuts), np.arange(len(profile)), side="right")]


def _cut_options(mask: np.ndarray, dividers: list[float], reach: float) -> tuple[list[list[np.ndarray]], list[np.ndarray]]:
    """Cuts (one column per row of ``mask`` each, left to right) that split ``mask`` across
    ``dividers`` (their columns in ``mask``), and the parts of each (tight crops, concatenated):
    near each divider (within ``reach`` px) the touching-digit splitter's candidate positions as
    straight cuts and as minimum-ink paths, and a straight cut at the divider itself; every
    combination that leaves ink in every part."""
    w = mask.shape[1]
    columns = candidate_columns(mask, len(dividers) + 1, stroke_width(mask))
    options = []
    for divider in dividers:
        near = [c for c in columns if abs(c - divider) <= reach] + [int(round(divider))]
        cuts = {}
        for x0 in near:
            if 0 < x0 < w:
                for cut in cuts_at(mask, x0):
                    cuts[cut.tobytes()] = cut
        options.append(list(cuts.values())[:2 * MAX_CANDIDATES])
    combos, crops = [], []
    for combo in product(*options):
        combo = list(np.maximum.accumulate(np.stack(combo), axis=0))  # cuts must not cross
        parts = [tight_mask(p) for p in cut_parts(mask, combo)]
        if all(p.any() for p in parts):
            combos.append(combo)
            crops.extend(parts)
    return combos, crops


def _scored_cuts(mask: np.ndarray, dividers: list[float], pitch: float, score: Scorer) -> list[np.ndarray] | None:
    """Of :func:`_cut_options` within CUT_REACH cell pitches of ``dividers``, the cuts that
    split digits touching across them into the parts the classifier reads best (every
    combination scored in one batch). None when none leaves ink in every part."""
    combos, crops = _cut_options(mask, dividers, CUT_REACH * pitch)
    if not combos:
        return None
    values, _, _ = digit_values(score(batch_to_mnist(crops)), crops)
    return combos[int(np.argmax(values.reshape(len(combos), -1).sum(axis=1)))]


def _settle_crossing(cell_of: np.ndarray, window: np.ndarray, x: int, y: int, spans: list[int],
                     dividers: np.ndarray, pitch: float, score: Scorer) -> None:
    """A component ``window`` (at ``x``, ``y`` in the crop) given whole to one of the ``spans``
    cells that also lies over the others, each holding a digit of its own: cut it near the
    dividers instead (each part joining its cell's other ink) when the cells, read whole, then
    read better. The count of digits is the same either way (every cell in ``spans`` has ink),
    so the sums of the cells' values compare fairly. ``cell_of`` is updated in place."""
    cuts = _scored_cuts(window, [dividers[c] - x for c in spans[:-1]], pitch, score)
    if cuts is None:
        return
    h, w = window.shape
    cut = cell_of[y:y + h, x:x + w].copy()
    for c, part in zip(spans, cut_parts(window, cuts)):
        cut[part] = c
    trial = cell_of.copy()
    trial[y:y + h, x:x + w] = cut
    crops = [tight_mask(cell_of == c) for c in spans] + [tight_mask(trial == c) for c in spans]
    if not all(c.any() for c in crops):
        return
    values, _, _ = digit_values(score(batch_to_mnist(crops)), crops)
    whole, split = values.reshape(2, len(spans)).sum(axis=1)
    if split > whole:
        cell_of[y:y + h, x:x + w] = cut


def _keep_loose(cell_of: np.ndarray, loose: list[tuple[int, np.ndarray]], score: Scorer) -> None:
    """Give back to its cell each ``loose`` piece (cell, mask over the crop): a nub at the
    cell's side that tidying took for the end of a neighbour's stroke, though no neighbour's ink
    reaches it. It is more often a stroke of the cell's own digit parted from the rest by a pale
    gap (the stem of a '6', without which the loop reads '0'), so it stays unless the cell then
    reads as no digit or worse by LOOSE_MARGIN. A cell with no other ink does not take it."""
    loose = [(cell, piece) for cell, piece in loose if (cell_of == cell).any()]
    if not loose:
        return
    crops = []
    for cell, piece in loose:
        crops += [tight_mask(cell_of == cell), tight_mask((cell_of == cell) | piece)]
    values, unread, _ = digit_values(score(batch_to_mnist(crops)), crops)
    for i, (cell, piece) in enumerate(loose):
        if values[2 * i + 1] > values[2 * i] - LOOSE_MARGIN and not unread[2 * i + 1]:
            cell_of[piece] = cell


def _line_contacts(ink: np.ndarray, line: np.ndarray, axis: int) -> tuple[int, int] | None:
    """The first and last position along a printed line's strip (columns of a horizontal line,
    ``axis`` 1; rows of an upright one, ``axis`` 0) where ``ink`` touches its stripped pixels
    ``line``; None when it touches them nowhere."""
    near = cv2.dilate(line.view(np.uint8), np.ones((2 * TOUCH + 1,) * 2, np.uint8)) > 0
    touched = np.flatnonzero((ink & near).any(axis=1 - axis))
    return (int(touched[0]), int(touched[-1])) if len(touched) else None


def _restore_along_lines(cell_of: np.ndarray, mask: np.ndarray, stripped: np.ndarray, cells: list[Box],
                         crop: Box, score: Scorer) -> set[int]:
    """Give back to a written cell the printed line's pixels that a stroke of its digit lay along
    (a '2' whose base was written on the comb's bottom line, a '0' whose side lies on a divider):
    stripping the frame took them with the line, and what is left reads as another digit ('7',
    '3'). Along each side of the cell, the stripped pixels between the first and last places
    where the cell's ink (or ink of no cell: a sliver of the stroke beside the line) touches
    them, at least RESTORE_SPAN of the side apart, are tried with the cell's ink; the cell takes
    the trial reading another digit best when it reads better than without (or nearly as well,
    FLAT_LEAD, when that digit is drawn with a straight stroke along that side: FLAT_STROKES).
    A divider's trial is only taken when the ink touches the divider itself that far apart, not
    only in the corners, where it may touch the top or bottom line instead (a '2' whose curl
    meets the divider and whose base meets the bottom line reads '0' with the divider between).
    ``cell_of`` is updated in place. Returned, to be flagged: the cells so changed (a reading from
    pixels the frame had) and those whose trial, taken or not, came within RESTORE_DOUBT of their
    reading."""
    free = mask & (cell_of < 0)
    # trials: (cell, its crop's index, the trial's, the pixels tried, digits drawn along that side, may it be taken)
    trials, crops = [], []
    for index, cell in enumerate(cells):
        mark = cell_of == index
        if not mark.any():
            continue
        x0, x1, y0, y1 = cell.x - crop.x, cell.right - crop.x, cell.y - crop.y, cell.bottom - crop.y
        reach = max(4, round(EDGE * cell.h))
        # Each side's strip runs on into the corners: a stroke along a side may end there.
        across, along = slice(max(0, x0 - reach), x1 + reach), slice(max(0, y0 - reach), y1 + reach)
        sides = {"bottom": (slice(max(0, y1 - reach), y1 + reach), across, 1),
                 "top": (slice(max(0, y0 - reach), y0 + reach), across, 1),
                 "left": (along, slice(max(0, x0 - reach), x0 + reach), 0),  # the dividers
                 "right": (along, slice(max(0, x1 - reach), x1 + reach), 0)}
        base = None  # the cell's own crop, read once for all its sides
        for side, (rows, columns, axis) in sides.items():
            line = stripped[rows, columns]
            if not line.any():
                continue
            touching = mark[rows, columns] | free[rows, columns]
            ends = _line_contacts(touching, line, axis)
            length = cell.w if axis == 1 else cell.h
            if ends is None or ends[1] - ends[0] < RESTORE_SPAN * length:
                continue
            takeable = True
            if axis == 0:  # a divider: its contacts away from the top and bottom lines' corners
                inner = np.zeros(line.shape, bool)
                inner[max(0, y0 + reach) - along.start:max(0, y1 - reach) - along.start] = True
                core = _line_contacts(touching, line & inner, axis)
                takeable = core is not None and core[1] - core[0] >= RESTORE_SPAN * length
            span = [slice(None), slice(None)]
            span[axis] = slice(ends[0], ends[1] + 1)
            piece = np.zeros(mask.shape, bool)
            piece[rows, columns][tuple(span)] = (line | (free[rows, columns]))[tuple(span)]
            if base is None:
                base = len(crops)
                crops.append(tight_mask(mark))
            trials.append((index, base, len(crops), piece, FLAT_STROKES.get(side, ""), takeable))
            crops.append(tight_mask(mark | piece))
    doubtful: set[int] = set()
    if not trials:
        return doubtful
    values, unread, labels = digit_values(score(batch_to_mnist(crops)), crops)
    best: dict[int, tuple[float, float, np.ndarray, float]] = {}  # cell: its best takeable trial reading another digit
    for index, k0, k1, piece, flat, takeable in trials:
        before, after = values[k0], values[k1]
        if labels[k1] == labels[k0] or unread[k1]:
            continue
        if after > before - RESTORE_DOUBT:
            doubtful.add(index)
        if takeable and after > best.get(index, (0, -np.inf))[1]:
            best[index] = (before, after, piece, FLAT_LEAD if str(labels[k1]) in flat else 0.0)
    for index, (before, after, piece, lead) in best.items():
        if after > before - lead:
            cell_of[piece & (cell_of < 0)] = index
    return doubtful


def _entangled(cell_of: np.ndarray, labels: np.ndarray) -> list[tuple[int, int]]:
    """Neighbouring written cells (a, a + 1) whose digits are entangled: one ink component
    lies in both (digits touching across the divider, cut apart), or the ink of one reaches
    past the other's first column (a digit written out over the divider under its neighbour)."""
    written = [int(c) for c in np.unique(cell_of) if c >= 0]
    out = []
    for a, b in zip(written[:-1], written[1:]):
        if b != a + 1:
            continue
        in_a, in_b = cell_of == a, cell_of == b
        shared = np.intersect1d(labels[in_a], labels[in_b])
        columns_a, columns_b = np.flatnonzero(in_a.any(axis=0)), np.flatnonzero(in_b.any(axis=0))
        if shared.any() or columns_a[-1] >= columns_b[0]:
            out.append((a, b))
    return out


def _recut_pairs(cell_of: np.ndarray, joined: list[tuple[int, int]], sides: np.ndarray, own: dict[int, np.ndarray],
                 dividers: np.ndarray, pitch: float, score: Scorer) -> set[int]:
    """Share out anew the ink of entangled neighbours (``joined``) whose digits the pair reader
    is sure of (``sides``, both together at least PAIR_SURE) where the cells (``own``
    probabilities) read otherwise: of the cuts of their ink near the divider (within RECUT_REACH
    pitches), the one whose parts the classifier reads best as exactly the pair reader's digits,
    if its parts' values trail the cells' by less than AGREE_MARGIN ('6' written out over the
    divider into the next cell's '0', read '4' '2', the pair reader sure of '6' '0'). A cell is
    recut once. ``cell_of`` is updated in place; returned: the cells recut."""
    todo = []  # (a, b, digits, window's offset, mask, combos, first crop)
    crops: list[np.ndarray] = []
    taken: set[int] = set()
    for (a, b), two in zip(joined, sides):
        digits = tuple(int(k) for k in np.argmax(two, axis=1))
        if digits == (int(np.argmax(own[a][:10])), int(np.argmax(own[b][:10]))) or both_sides(two) < PAIR_SURE:
            continue
        if a in taken or b in taken:
            continue
        ys, xs = np.nonzero((cell_of == a) | (cell_of == b))
        y0, x0 = ys.min(), xs.min()
        window = np.isin(cell_of[y0: ys.max() + 1, x0: xs.max() + 1], (a, b))
        combos, parts = _cut_options(window, [dividers[a] - x0], RECUT_REACH * pitch)
        if combos:
            todo.append((a, b, digits, (y0, x0), window, combos, len(crops)))
            crops.extend(parts)
            taken.update((a, b))
    if not todo:
        return set()
    values, unread, labels = digit_values(score(batch_to_mnist(crops)), crops)
    recut: set[int] = set()
    for a, b, digits, (y0, x0), window, combos, first in todo:
        now = sum(float(np.log(max(own[c][:10].max(), 1e-6))) for c in (a, b))
        best, best_value = None, now - AGREE_MARGIN
        for k, combo in enumerate(combos):
            i = first + 2 * k
            if tuple(labels[i: i + 2]) == digits and not unread[i: i + 2].any() and values[i: i + 2].sum() > best_value:
                best, best_value = combo, float(values[i: i + 2].sum())
        if best is None:
            continue
        h, w = window.shape
        view = cell_of[y0: y0 + h, x0: x0 + w]
        left, right = cut_parts(window, best)
        view[left], view[right] = a, b
        recut.update((a, b))
    return recut


def _pair_readings(cell_of: np.ndarray, labels: np.ndarray, score: Scorer, pairs: PairScorer,
                   dividers: np.ndarray, pitch: float) -> dict[int, np.ndarray]:
    """Final probabilities of the cells whose digits are entangled with a neighbour's
    (:func:`_entangled`): their own reading :func:`blend_pair`-ed with the pair reader's reading
    of the two cells' ink together (averaged over both neighbours for a cell between two), as
    for digits cut apart in free writing. Where a digit spills over the divider, whichever way
    its ink was shared out, the pair reader sees both digits whole; a disagreement shows as a
    low confidence, unless a cut of the two cells' ink reads as the pair reader does
    (:func:`_recut_pairs`; ``cell_of`` is then updated in place). The classifier on those cells
    and the pair reader on the pairs, once each, and twice the classifier where a cut is tried."""
    joined = _entangled(cell_of, labels)
    if not joined:
        return {}
    cells = sorted({c for pair in joined for c in pair})
    own = dict(zip(cells, score(batch_to_mnist([tight_mask(cell_of == c) for c in cells]))))
    digits, _ = pairs(batch_to_pair([tight_mask((cell_of == a) | (cell_of == b)) for a, b in joined]))
    digits = np.asarray(digits)
    recut = sorted(_recut_pairs(cell_of, joined, digits, own, dividers, pitch, score))
    if recut:
        own.update(zip(recut, score(batch_to_mnist([tight_mask(cell_of == c) for c in recut]))))
    sides: dict[int, list[np.ndarray]] = {}
    for (a, b), two in zip(joined, digits):
        sides.setdefault(a, []).append(two[0])
        sides.setdefault(b, []).append(two[1])
    return {c: blend_pair(own[c], np.mean(sides[c], axis=0)) for c in cells}


def comb_marks(region: Region, ink: RegionInk, score: Scorer | None = None,
               pairs: PairScorer | None = None) -> list[Component]:
    """One component per written cell of a comb, left to right. Each ink component goes whole
    to the cell holding most of it: a digit crossing a divider stays one digit. A component at
    least SPLIT_WIDTH cells wide with SPLIT_SHARE of its ink in a cell that has no ink of its
    own is digits touching across the divider: with ``score`` (the classifier), they are
    cut where the parts read best near the dividers (:func:`_scored_cuts`; up to three cells);
    otherwise near each divider where ink is least. A component that is at least two cells
    wide is cut so from FULL_SPLIT_SHARE of its ink in an empty cell (no one digit is that
    wide). With ``score``, a component over CROSS_SHARE of a neighbouring cell that has a
    digit of its own is cut too where the cells then read better (:func:`_settle_crossing`),
    and a loose nub at a cell's side stays with it unless it spoils the reading
    (:func:`_keep_loose`), and a cell gets back the line pixels a stroke of its digit lay along
    where it then reads better (:func:`_restore_along_lines`; such cells come out doubtful).
    With ``pairs`` too, cells whose digits are entangled with a neighbour's carry probabilities
    blended with the pair reader's (:func:`_pair_readings`), their ink cut again where that
    makes the two readers agree (:func:`_recut_pairs`)."""
    crop, mask = ink.crop, ink.mask
    if not mask.any():
        return []
    cells = region.cells
    # Dividers: the middle of the gap between neighbouring cells (crop pixels).
    dividers = np.asarray([(a.right + b.x) / 2 - crop.x for a, b in zip(cells[:-1], cells[1:])])
    pitch = float(np.median([b.x - a.x for a, b in zip(cells[:-1], cells[1:])])) if len(cells) > 1 else cells[0].w
    column_cell = np.searchsorted(dividers, np.arange(mask.shape[1]), side="right")
    lab = label_components(mask)
    labels = lab.labels
    found = []
    own = np.zeros(len(cells))  # ink each cell holds of components mostly its own
    for k in range(1, len(lab) + 1):
        x, y, w, h = (int(v) for v in lab.boxes[k - 1])
        area = int(lab.areas[k - 1])
        profile = (labels[y:y + h, x:x + w] == k).sum(axis=0)
        shares = np.bincount(column_cell[x:x + w], weights=profile, minlength=len(cells))
        major = int(np.argmax(shares))
        found.append((k, x, y, w, h, area, profile, shares, major))
        if h >= OWN * cells[major].h:  # specks and line slivers are no digit of the cell's own
            own[major] += area
    # In a comb meant to be full, a cell left empty beside a wide mark means two digits touch.
    share, wide = (FULL_SPLIT_SHARE, FULL_SPLIT_WIDTH) if region.full else (SPLIT_SHARE, SPLIT_WIDTH)
    cell_of = np.full(mask.shape, -1, np.int64)
    crossing = []
    for k, x, y, w, h, area, profile, shares, major in found:
        window = labels[y:y + h, x:x + w] == k
        # No single digit is two cells wide: then a smaller share in an empty cell is a digit.
        least = FULL_SPLIT_SHARE if w >= 2 * pitch else share
        minor = [c for c in range(len(cells)) if c != major and shares[c] >= least * area and own[c] == 0]
        if not minor and score is not None:
            inked = [c for c in range(len(cells)) if c != major and shares[c] >= CROSS_SHARE * area]
            if inked and len(inked) <= 2:
                crossing.append((k, x, y, w, h, sorted([major] + inked)))
        if minor and w >= wide * pitch:
            spans = sorted([major] + minor)
            cuts = None
            if score is not None and len(spans) <= 3:
                cuts = _scored_cuts(window, [dividers[c] - x for c in spans[:-1]], pitch, score)
            if cuts is not None:  # between consecutive cuts: one cell each
                for cell, part in zip(spans, cut_parts(window, cuts)):
                    cell_of[y:y + h, x:x + w][part] = cell
                continue
            columns = _cut_columns(profile, x, spans, dividers, pitch)
            cell_of[y:y + h, x:x + w][window] = np.broadcast_to(columns, window.shape)[window]
        else:
            cell_of[y:y + h, x:x + w][window] = major
    for k, x, y, w, h, spans in crossing:
        _settle_crossing(cell_of, labels[y:y + h, x:x + w] == k, x, y, spans, dividers, pitch, score)
    loose: list[tuple[int, np.ndarray]] = []
    cell_of = _tidy_cells(cell_of, cells, crop, region.frame.box if region.frame is not None else None, loose)
    if score is not None:
        _keep_loose(cell_of, loose, score)
    doubtful = set()
    if score is not None and ink.stripped is not None:
        doubtful = _restore_along_lines(cell_of, mask, ink.stripped, cells, crop, score)
    read = _pair_readings(cell_of, labels, score, pairs, dividers, pitch) if score is not None and pairs is not None else {}
    out = []
    for index, cell in enumerate(cells):
        piece = cell_of == index
        ys, xs = np.nonzero(piece)
        if len(ys) == 0:
            continue
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        out.append(Component(Box(crop.x + int(x0), crop.y + int(y0), int(x1 - x0), int(y1 - y0)),
                             piece[y0:y1, x0:x1].copy(), doubtful=index in doubtful,
                             scores=read.get(index)))
    return out


def segment(rest: np.ndarray, regions: list[Region], inks: list[RegionInk],
            score: Scorer | None, pairs: PairScorer | None = None) -> tuple[list[list[Component]], list[list[Component]]]:
    """(the strings of the page outside the regions, the marks of each region in reading order).

    Combs are cut by their grid. Every other region's ink is segmented together with the rest
    of the page in one call, its crop stacked below the page far from anything else: the page's
    scale is then measured on all of its writing as without regions (so small print beside the
    fields stays small print), and every touching-digit cut is scored in one batch. A region's
    strings are joined into one (a field holds one string). A frame's lines were stripped here
    by their geometry (a pale frame's were never in the ink), so its ink is exempt from the page's
    filter of frame remnants (a '1' from line to line stands taller than the other digits:
    ``segment_page``'s ``framed``)."""
    marks: list[list[Component]] = [comb_marks(r, ink, score, pairs) if r.cells else [] for r, ink in zip(regions, inks)]
    boxed = [i for i, (r, ink) in enumerate(zip(regions, inks)) if not r.cells and ink.mask.any()]
    if not boxed:
        return segment_page(rest, score, pairs=pairs), marks
    height, width = rest.shape
    gap = max(inks[i].mask.shape[0] for i in boxed) // 2 + 8
    tops, y = [], height + gap
    for i in boxed:
        tops.append(y)
        y += inks[i].mask.shape[0] + gap
    canvas = np.zeros((y, max(width, max(inks[i].mask.shape[1] for i in boxed) + 2 * gap)), bool)
    canvas[:height, :width] = rest
    for i, top in zip(boxed, tops):
        h, w = inks[i].mask.shape
        canvas[top: top + h, gap: gap + w] = inks[i].mask
    bottoms = np.asarray([top + inks[i].mask.shape[0] for i, top in zip(boxed, tops)])
    framed = [Box(gap, top, inks[i].mask.shape[1], inks[i].mask.shape[0])
              for i, top in zip(boxed, tops) if regions[i].frame is not None or regions[i].pale]
    page: list[list[Component]] = []
    for string in segment_page(canvas, score, framed=framed, pairs=pairs):
        if string[0].box.y < height:
            page.append(string)
            continue
        for c in string:
            k = min(int(np.searchsorted(bottoms, c.box.y + c.box.h / 2, side="right")), len(boxed) - 1)
            crop = inks[boxed[k]].crop
            box = Box(c.box.x - gap + crop.x, c.box.y - tops[k] + crop.y, c.box.w, c.box.h)
            marks[boxed[k]].append(replace(c, box=box))  # back to page pixels, all else kept
    for i in boxed:
        marks[i].sort(key=lambda c: c.box.x + c.box.w / 2)
    return page, marks
