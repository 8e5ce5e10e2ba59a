"""What every page kind shares: page sizes, the page record, and a writer that fits
handwritten strings into the space a layout offers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pipeline.results import Box
from synth.handwriting import Handwriting, digit_mark, pen_width, write
from synth.ink import pen_colour, write_ink
from synth.source import DigitSource
from synth.truth import Placed

A4_INCHES = (8.2677, 11.6929)
# Rough advance of each character in digit heights, to avoid drawing strings that cannot fit.
ADVANCE = {".": 0.35, ",": 0.4, "-": 0.6, "/": 0.75}


def a4(dpi: int) -> tuple[int, int]:
    """(width, height) of an A4 page in pixels at ``dpi`` (1240 x 1754 at 150 dpi)."""
    return round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)


def digit_height(dpi: int, rng: np.random.Generator, low: float = 50, high: float = 90) -> int:
    """A handwritten digit height: ``low``..``high`` px at 300 dpi, scaled to ``dpi``."""
    return round(rng.uniform(low, high) * dpi / 300.0)


def estimate_width(text: str, height: float) -> float:
    return height * sum(ADVANCE.get(c, 0.8) for c in text)


@dataclass
class Page:
    """A page before scanning: float32 RGB ``image``, its ``dpi``, the handwritten strings on
    it, for a field crop the ``window`` to cut out after scanning, and ``fields``: the text
    written in each named field (a cheque's ``amount`` and ``date``), for field truth."""

    image: np.ndarray
    dpi: int
    strings: list[Placed] = field(default_factory=list)
    window: Box | None = None
    max_skew: float = 3.0
    fields: dict[str, str] = field(default_factory=dict)


class Writer:
    """One person filling in one page: a pen (colour and width) and a usual digit height."""

    def __init__(self, source: DigitSource, rng: np.random.Generator, height: int):
        self.source, self.rng, self.height = source, rng, height
        self.colour = pen_colour(rng)
        self.pen = pen_width(height, rng)

    def fit(self, make_text: Callable[[], str], max_width: float, height: int | None = None,
            touching: float = 0.0, tries: int = 12) -> Handwriting | None:
        """A string from ``make_text`` handwritten no wider than ``max_width``, shrinking the
        writing a little when nothing fits; ``touching`` is the chance of touching digits."""
        height = height or self.height
        for attempt in range(tries):
            size = max(8, round(height * 0.92 ** (attempt // 4)))
            text = make_text()
            if estimate_width(text, size) > max_width:
                continue
            n_touching = int(self.rng.integers(1, 3)) if self.rng.random() < touching else 0
            hand = write(text, self.source, size, self.rng, n_touching, self.pen)
            if hand.alpha.shape[1] <= max_width:
                return hand
        return None

    def comb(self, page: np.ndarray, digits: str, cells: list[Box], crossing: float = 0.0) -> Placed:
        """One digit per cell of a comb field. With chance ``crossing`` per digit it is drawn
        larger or off-centre, so its strokes cross the cell's printed lines."""
        boxes, indices = [], []
        for digit, cell in zip(digits, cells):
            cross = self.rng.random() < crossing
            size = round(cell.h * (self.rng.uniform(0.85, 1.0) if cross else self.rng.uniform(0.6, 0.76)))
            mark = digit_mark(int(digit), self.source, size, self.pen, self.rng)
            h, w = mark.alpha.shape
            dx = self.rng.uniform(-0.12, 0.12) * cell.w
            dy = self.rng.uniform(-0.06, 0.06) * cell.h
            if cross:  # push it towards a side or the bottom line
                dx += self.rng.choice([-1, 1]) * self.rng.uniform(0.08, 0.2) * cell.w
                dy += self.rng.uniform(0.05, 0.15) * cell.h
            x = round(cell.x + (cell.w - w) / 2 + dx)
            y = round(cell.y + (cell.h - h) / 2 + dy)
            boxes.append(write_ink(page, mark.alpha, x, y, self.colour, self.rng))
            indices.append(mark.index)
        return Placed(Box.enclosing(boxes), digits, indices)

    def put(self, page: np.ndarray, hand: Handwriting, x: int, baseline: int) -> Placed:
        """Lay ``hand`` with its left edge at ``x`` and its baseline on row ``baseline``."""
        box = write_ink(page, hand.alpha, x, baseline - hand.baseline, self.colour, self.rng)
        return Placed(box, hand.text, list(hand.indices))
