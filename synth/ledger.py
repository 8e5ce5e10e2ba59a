"""LEDGER pages: ruled lines with free handwriting written on them (strokes touch or cross the
rule), in columns of dates, references and amounts; some strings have touching digits."""
from __future__ import annotations

import numpy as np

from synth import printed, texts
from synth.ink import PRINT_BLACK, jitter, paper, stamp
from synth.layout import Page, Writer, a4, digit_height
from synth.scribble import scribble
from synth.source import DigitSource

TITLES = ("Cash Book", "Petty Cash Ledger", "Sales Ledger", "Stock Register", "Meter Log",
          "Daily Takings")
# Column heading, kind of string, share of the writing width.
COLUMNS = (("Date", "date", 0.26), ("Details", "words", 0.22), ("Reference", "number", 0.24),
           ("Amount", "amount", 0.28))
RULE_COLOURS = ((0.60, 0.72, 0.90), (0.70, 0.70, 0.70), (0.55, 0.75, 0.60))


def ledger(source: DigitSource, rng: np.random.Generator, dpi: int) -> Page:
    """An A4 ledger page at ``dpi``: rules every ~1.9 digit heights, most lines filled in."""
    width, height = a4(dpi)
    page = paper(height, width, rng, "cream" if rng.random() < 0.5 else None)
    writer = Writer(source, rng, digit_height(dpi, rng))
    dh = writer.height
    ink = jitter(PRINT_BLACK, rng)
    rules = jitter(RULE_COLOURS[int(rng.integers(len(RULE_COLOURS)))], rng)
    font = printed.FONTS[int(rng.integers(len(printed.FONTS)))]
    rule = max(1, round(dpi / 150))
    margin = round(width * rng.uniform(0.06, 0.08))

    cap = round(height * rng.uniform(0.014, 0.018))
    printed.text(page, TITLES[int(rng.integers(len(TITLES)))], margin, margin + cap, cap, ink, font, bold=True)
    head_y = margin + 3 * cap
    # Column edges over the writing width, with a red margin line at the left.
    left = margin + round(0.04 * width)
    edges = [left]
    for _, _, share in COLUMNS:
        edges.append(edges[-1] + round(share * (width - margin - left)))
    small = max(9, round(cap * 0.55))
    for (title, _, _), x in zip(COLUMNS, edges):
        printed.text(page, title, x + small, head_y, small, ink, font)
    pitch = round(dh * rng.uniform(1.8, 2.2))
    first = head_y + round(small * 0.8)
    ys = list(range(first, height - margin, pitch))
    for y in ys:
        printed.line(page, (margin // 2, y), (width - margin // 2, y), rule, rules)
    printed.line(page, (left - rule * 3, first - 2 * small), (left - rule * 3, ys[-1]), rule, (0.9, 0.45, 0.45))
    for x in edges[1:-1]:
        printed.line(page, (x, first - 2 * small), (x, ys[-1]), rule, rules)

    strings = []
    touching = rng.uniform(0.15, 0.4)
    for y in ys[1:]:
        if rng.random() < 0.15:
            continue
        last_right = -10 ** 9
        for (title, kind, _), x0, x1 in zip(COLUMNS, edges[:-1], edges[1:]):
            if rng.random() < 0.25:
                continue
            # Writing starts a little inside the column, and at least three digit heights
            # after the previous string on the line, so strings never run together.
            start = max(x0 + round(dh * rng.uniform(0.2, 0.5)), last_right + round(3 * dh) + 1)
            room = x1 - round(0.2 * dh) - start
            if room < 2 * dh:
                continue
            # Written on the rule: the baseline sits on it or a little below, so strokes cross it.
            base = y + round(dh * rng.uniform(-0.05, 0.12))
            if kind == "words":
                h = round(dh * rng.uniform(1.2, 1.5))
                w = round(room * rng.uniform(0.5, 1.0))
                stamp(page, scribble(w, h, writer.pen, rng), start, base - round(h * 0.78), writer.colour)
                last_right = start + w
                continue
            hand = writer.fit(lambda: texts.pick(rng, (kind,), 12), room, touching=touching)
            if hand is None:
                continue
            strings.append(writer.put(page, hand, start, base))
            last_right = strings[-1].box.right
    return Page(page, dpi, strings)
