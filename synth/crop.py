"""FIELD CROPS: one field 40-60 px tall cut out of a scanned form, as other systems hand over
(boxed, comb, underlined or plain), with bits of the field's printed lines at the edges."""
from __future__ import annotations

import numpy as np

from pipeline.results import Box
from synth import printed, texts
from synth.ink import PRINT_BLACK, jitter, paper
from synth.layout import Page, Writer
from synth.source import DigitSource

CONTEXT = 24  # page around the field, scanned with it and cut away afterwards
STYLES = ("box", "comb", "line", "plain")


def field_crop(source: DigitSource, rng: np.random.Generator, dpi: int = 200) -> Page:
    """A single field, ``window`` marking the 40-60 px tall crop to cut after scanning."""
    crop_h = int(rng.integers(40, 61))
    style = STYLES[int(rng.integers(len(STYLES)))]
    ink = jitter(PRINT_BLACK, rng)
    rule = 1 if rng.random() < 0.6 else 2
    if style == "comb":
        cell_h = crop_h - int(rng.integers(0, 5))
        cell_w = round(cell_h * rng.uniform(0.7, 0.85))
        writer = Writer(source, rng, round(cell_h * 0.68))
        digits = texts.number(rng, 4, 8)
        crop_w = cell_w * len(digits) + int(rng.integers(0, 5))
        page = paper(crop_h + 2 * CONTEXT, crop_w + 2 * CONTEXT, rng)
        window = Box(CONTEXT, CONTEXT, crop_w, crop_h)
        comb = Box(CONTEXT + (crop_w - cell_w * len(digits)) // 2, CONTEXT + (crop_h - cell_h) // 2,
                   cell_w * len(digits), cell_h)
        cells = printed.comb(page, comb, len(digits), rule, ink)
        placed = writer.comb(page, digits, cells, 0.2)
        return Page(page, dpi, [placed], window, max_skew=1.0)

    writer = Writer(source, rng, round(crop_h * rng.uniform(0.5, 0.64)))
    dh = writer.height
    hand = writer.fit(lambda: texts.pick(rng, max_len=10), 12 * dh)
    if hand is None:  # cannot happen for strings of at most 10 characters; kept as a guard
        raise RuntimeError("no string fits a field crop")
    pad = round(dh * rng.uniform(0.3, 0.8))
    crop_w = hand.alpha.shape[1] + 2 * pad
    page = paper(crop_h + 2 * CONTEXT, crop_w + 2 * CONTEXT, rng)
    window = Box(CONTEXT, CONTEXT, crop_w, crop_h)
    if style == "box":  # the field's frame lies at or just inside the crop's edge
        e = int(rng.integers(-2, 4))
        printed.frame(page, Box(window.x - e, window.y - e, window.w + 2 * e, window.h + 2 * e), rule, ink)
    base = CONTEXT + round((crop_h + dh) / 2 + rng.uniform(-0.05, 0.05) * dh)
    top = min(max(base - hand.baseline, CONTEXT + 3), CONTEXT + crop_h - 3 - hand.alpha.shape[0])
    if style == "line":  # an underline the digits stand on
        y = top + hand.baseline + int(rng.integers(0, 3))
        printed.line(page, (0, y), (page.shape[1], y), rule, ink)
    placed = writer.put(page, hand, CONTEXT + pad, top + hand.baseline)
    return Page(page, dpi, [placed], window, max_skew=1.0)
