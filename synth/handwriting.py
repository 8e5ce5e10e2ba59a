"""Handwritten strings from MNIST digits: pen strokes at a target height, hand-drawn separators,
natural spacing, baseline jitter and optionally touching neighbours.

Everything here is ink coverage: float32 arrays in [0, 1], 1 = full ink, 0 = paper.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from skimage.morphology import skeletonize

from synth.source import DigitSource

SEPARATORS = ".,/-"


@dataclass
class Mark:
    """One handwritten mark: ``alpha`` is its ink, ``drop`` how far its bottom edge lies below
    the baseline (negative: above it)."""

    alpha: np.ndarray
    char: str
    drop: int = 0
    index: int | None = None  # MNIST test index of a digit


@dataclass
class Handwriting:
    """A composed string: ``alpha`` cropped tight to its ink, ``baseline`` the row (inside
    ``alpha``) the digits stand on, ``height`` the nominal digit height."""

    alpha: np.ndarray
    text: str
    height: int
    baseline: int
    stroke: float
    indices: list[int] = field(default_factory=list)


def tight(alpha: np.ndarray, level: float = 0.02) -> np.ndarray:
    """``alpha`` cropped to the pixels above ``level``."""
    ys, xs = np.nonzero(alpha > level)
    if len(ys) == 0:
        return alpha[:1, :1] * 0
    return alpha[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _shape(mask: np.ndarray) -> tuple[int, int]:
    """(connected pieces, holes) of a binary mask: what must survive re-weighting the pen."""
    pieces = cv2.connectedComponents(mask, connectivity=8)[0] - 1
    holes = cv2.connectedComponents(1 - np.pad(mask, 1), connectivity=4)[0] - 2
    return pieces, holes


def _repen(mask: np.ndarray, target: float) -> np.ndarray:
    """``mask`` redrawn with a pen about ``target`` pixels wide, never breaking the digit apart
    nor closing or opening a loop: too thick strokes are eroded (or, where that breaks them,
    reduced to their skeleton and drawn again), too thin ones dilated."""
    shape = _shape(mask)
    steps = round((stroke_width(mask) - target) / 2.0)
    for step in range(abs(steps), 0, -1):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * step + 1, 2 * step + 1))
        out = cv2.erode(mask, kernel) if steps > 0 else cv2.dilate(mask, kernel)
        if _shape(out) == shape:
            return out
        if steps > 0:
            skeleton = skeletonize(mask.astype(bool)).astype(np.uint8)
            distance = cv2.distanceTransform(1 - skeleton, cv2.DIST_L2, 5)
            out = (distance <= max(target / 2.0, 0.8)).astype(np.uint8)
            return out if _shape(out) == shape else mask
    return mask


def digit_stroke(image: np.ndarray, height: int, pen: float | None = None, aspect: float = 1.0) -> np.ndarray:
    """A 28x28 MNIST digit as a clean pen stroke ``height`` pixels tall.

    Upscales with cubic interpolation, smooths away the 28-pixel grid, thresholds to a crisp
    shape, brings the stroke towards a pen ``pen`` pixels wide (MNIST writers used very
    different pens) and anti-aliases the edge. ``aspect`` stretches the digit horizontally.
    """
    ink = image.astype(np.float32) / 255.0
    ys, xs = np.nonzero(ink > 0.1)
    crop = np.pad(ink[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1], 3)
    scale = height / (ys.max() - ys.min() + 1)
    size = (max(3, round(crop.shape[1] * scale * aspect)), max(3, round(crop.shape[0] * scale)))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), max(0.5, 0.45 * scale))
    mask = (big > 0.42 * float(big.max())).astype(np.uint8)
    if pen is not None:
        mask = _repen(np.pad(mask, round(pen) + 2), pen)
    return tight(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.6))


def stroke_width(alpha: np.ndarray) -> float:
    """Mean pen width of a mark: twice its area over its outline length."""
    mask = (alpha > 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(perimeter, 1.0)


def _supersampled(width: int, height: int, draw, factor: int = 4) -> np.ndarray:
    """Ink drawn by ``draw(canvas, factor)`` on a ``factor``-times larger canvas, then shrunk
    (area averaging anti-aliases it)."""
    canvas = np.zeros((height * factor, width * factor), np.uint8)
    draw(canvas, factor)
    small = cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0


def separator(char: str, height: int, stroke: float, rng: np.random.Generator) -> Mark:
    """A hand-drawn ``.``, ``,``, ``/`` or ``-`` for digits ``height`` tall: dots and commas
    are small marks near the baseline, a dash sits at mid height, a slash is a slanted line."""
    pen = max(1.5, stroke * rng.uniform(0.9, 1.2))
    pad = int(np.ceil(pen)) + 2

    def pts(points, factor):
        return np.array([[round((x + pad) * factor), round((y + pad) * factor)] for x, y in points], np.int32)

    if char == ".":
        r = max(1.2, pen * rng.uniform(0.55, 0.75))
        size = int(2 * r) + 2 * pad
        alpha = _supersampled(size, size, lambda c, f: cv2.ellipse(
            c, (round((r + pad) * f), round((r + pad) * f)),
            (round(r * f * rng.uniform(0.9, 1.15)), round(r * f)), float(rng.uniform(0, 180)), 0, 360, 255, -1))
        return Mark(tight(alpha), char, drop=int(rng.integers(-1, 2)))
    if char == ",":
        r = max(1.2, pen * rng.uniform(0.55, 0.7))
        tail = height * rng.uniform(0.22, 0.32)
        w, h = int(2 * r + tail * 0.5) + 2 * pad, int(2 * r + tail) + 2 * pad
        cx = tail * 0.45 + r
        curve = [(cx + r * 0.3 - 0.6 * tail * t ** 1.5, r + tail * t) for t in np.linspace(0, 1, 8)]

        def draw(c, f):
            cv2.circle(c, (round((cx + pad) * f), round((r + pad) * f)), round(r * f), 255, -1)
            cv2.polylines(c, [pts(curve, f)], False, 255, max(1, round(pen * 0.7 * f)), cv2.LINE_AA)

        return Mark(tight(_supersampled(w, h, draw)), char, drop=round(tail * 0.6))
    if char == "-":
        length = height * rng.uniform(0.3, 0.45)
        rise = length * rng.uniform(-0.12, 0.05)
        w, h = int(length) + 2 * pad, int(abs(rise)) + 2 * pad
        y0 = abs(rise) if rise < 0 else 0.0
        alpha = _supersampled(w, h, lambda c, f: cv2.line(
            c, tuple(pts([(0, y0)], f)[0]), tuple(pts([(length, y0 + rise)], f)[0]), 255,
            max(1, round(pen * f)), cv2.LINE_AA))
        mark = tight(alpha)
        return Mark(mark, char, drop=-round(height * rng.uniform(0.38, 0.5) - mark.shape[0] / 2))
    if char == "/":
        # Clearly more slanted (33-42 degrees from upright) than a written 1.
        tall = height * rng.uniform(0.8, 0.95)
        lean = tall * rng.uniform(0.65, 0.9)
        w, h = int(lean) + 2 * pad, int(tall) + 2 * pad
        alpha = _supersampled(w, h, lambda c, f: cv2.line(
            c, tuple(pts([(0, tall)], f)[0]), tuple(pts([(lean, 0)], f)[0]), 255,
            max(1, round(pen * f)), cv2.LINE_AA))
        return Mark(tight(alpha), char, drop=round(height * rng.uniform(0.0, 0.06)))
    raise ValueError(f"not a separator: {char!r}")


def pen_width(height: int, rng: np.random.Generator) -> float:
    """A pen width for digits ``height`` tall: ballpoint to felt tip (at least 2 px, about
    0.35 mm at 150 dpi, so strokes survive the scan)."""
    return max(2.0, height * float(rng.uniform(0.08, 0.13)))


def is_usable(image: np.ndarray, limit: float = 0.2) -> bool:
    """False for an MNIST digit that would not render as one clean stroke: a broken one (in
    pieces once thresholded) or a blot (stroke wider than ``limit`` of its height, loops filled)."""
    big = digit_stroke(image, 40)
    pieces = _shape((big > 0.5).astype(np.uint8))[0]
    return pieces == 1 and stroke_width(big) <= limit * big.shape[0]


def digit_mark(digit: int, source: DigitSource, height: int, pen: float,
               rng: np.random.Generator) -> Mark:
    """One MNIST test digit drawn ``height`` (+-7 %) pixels tall with a pen ``pen`` wide,
    standing on the baseline give or take a few percent of its height. Unusable digits are
    swapped for another (up to three tries)."""
    for _ in range(3):
        index, image = source.draw(digit)
        if is_usable(image):
            break
    size = max(8, round(height * rng.uniform(0.93, 1.07)))
    alpha = digit_stroke(image, size, pen, aspect=float(rng.uniform(0.9, 1.12)))
    return Mark(alpha, str(digit), drop=round(height * rng.uniform(-0.04, 0.04)), index=index)


def _contact_x(left: np.ndarray, left_x: int, left_top: int, right: np.ndarray, right_top: int,
               overlap: int) -> int | None:
    """x of ``right`` so that its ink overlaps ``left``'s ink by ``overlap`` pixels on the row
    where they come closest; None when the two have no row in common."""
    best = None
    for row in range(max(left_top, right_top), min(left_top + left.shape[0], right_top + right.shape[0])):
        lrow, rrow = np.flatnonzero(left[row - left_top] > 0.5), np.flatnonzero(right[row - right_top] > 0.5)
        if len(lrow) and len(rrow):
            x = left_x + int(lrow[-1]) - int(rrow[0]) + 1 - overlap
            best = x if best is None else max(best, x)
    return best


def compose(marks: list[Mark], height: int, rng: np.random.Generator,
            touching: set[int] | None = None) -> Handwriting:
    """Marks written left to right with natural gaps; pairs ``(i, i+1)`` for ``i`` in
    ``touching`` are pushed together until their ink overlaps by a few pixels."""
    touching = touching or set()
    xs, tops = [], []
    baseline = 0
    for i, mark in enumerate(marks):
        top = baseline + mark.drop - mark.alpha.shape[0]
        if i == 0:
            x = 0
        else:
            prev = marks[i - 1]
            small = prev.char in SEPARATORS or mark.char in SEPARATORS
            gap = height * (rng.uniform(0.06, 0.16) if small else rng.uniform(0.08, 0.3))
            x = xs[-1] + prev.alpha.shape[1] + round(gap)
            if i - 1 in touching:
                overlap = max(1, round(height * rng.uniform(0.02, 0.05)))
                contact = _contact_x(prev.alpha, xs[-1], tops[-1], mark.alpha, top, overlap)
                # Never slide a digit far under its neighbour: it must stay readable.
                floor = xs[-1] + prev.alpha.shape[1] - round(0.35 * min(prev.alpha.shape[1], mark.alpha.shape[1]))
                if contact is not None:
                    x = max(contact, floor)
        xs.append(x)
        tops.append(top)
    left = min(xs)
    top = min(tops)
    width = max(x + m.alpha.shape[1] for x, m in zip(xs, marks)) - left
    bottom = max(t + m.alpha.shape[0] for t, m in zip(tops, marks))
    canvas = np.zeros((bottom - top, width), np.float32)
    for x, t, mark in zip(xs, tops, marks):
        region = canvas[t - top: t - top + mark.alpha.shape[0], x - left: x - left + mark.alpha.shape[1]]
        np.maximum(region, mark.alpha, out=region)
    digits = [m for m in marks if m.index is not None]
    stroke = float(np.median([stroke_width(m.alpha) for m in digits])) if digits else 2.0
    return Handwriting(canvas, "".join(m.char for m in marks), height, baseline - top, stroke,
                       [m.index for m in digits])


def write(text: str, source: DigitSource, height: int, rng: np.random.Generator,
          n_touching: int = 0, pen: float | None = None) -> Handwriting:
    """``text`` (digits and ``.,/-``) handwritten with digits about ``height`` pixels tall and
    a pen about ``pen`` pixels wide (default: 8-13 % of the height); ``n_touching``
    neighbouring digit pairs touch."""
    pen = pen_width(height, rng) if pen is None else pen
    marks: list[Mark] = [digit_mark(int(c), source, height, pen, rng) for c in text if c.isdigit()]
    stroke = float(np.median([stroke_width(m.alpha) for m in marks])) if marks else 2.0
    it = iter(marks)
    marks = [next(it) if c.isdigit() else separator(c, height, stroke, rng) for c in text]
    pairs = [i for i in range(len(text) - 1) if text[i].isdigit() and text[i + 1].isdigit()]
    chosen = rng.permutation(pairs)[:n_touching] if pairs else []
    return compose(marks, height, rng, {int(i) for i in chosen})
