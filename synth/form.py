"""FORM pages: a printed title and labels (letters only), boxed fields holding one handwritten
string each, and comb fields holding one digit per cell."""
from __future__ import annotations

import numpy as np

from pipeline.results import Box
from synth import printed, texts
from synth.ink import PRINT_BLACK, jitter, paper, stamp
from synth.layout import Page, Writer, a4, digit_height
from synth.scribble import scribble
from synth.source import DigitSource

TITLES = ("Account Opening Form", "Customer Details", "Payment Instruction", "Direct Debit Mandate",
          "Claim Form", "Change of Details", "Delivery Note", "Membership Application",
          "Expenses Claim", "Meter Reading Card")
INSTRUCTIONS = ("Please write clearly in black or blue ink", "Write one digit in each box",
                "Complete all sections and return this form", "For office use see overleaf")
SECTIONS = ("Personal details", "Payment details", "Account details", "Contact details")
FIELDS = (("Account number", "number"), ("Customer reference", "number"), ("Policy number", "number"),
          ("Membership number", "number"), ("Order number", "number"), ("Meter reading", "number"),
          ("Date of birth", "date"), ("Date", "date"), ("Start date", "date"),
          ("Amount", "amount"), ("Total amount", "amount"), ("Amount paid", "amount"),
          ("Telephone", "phone"), ("Contact number", "phone"), ("Sort code", "sortcode"))
DROPOUT = ((0.95, 0.62, 0.62), (0.62, 0.75, 0.95), (0.95, 0.75, 0.5))


def form(source: DigitSource, rng: np.random.Generator, dpi: int) -> Page:
    """One A4 form at ``dpi`` with as many fields as fit, some left blank."""
    width, height = a4(dpi)
    page = paper(height, width, rng)
    writer = Writer(source, rng, digit_height(dpi, rng))
    dh = writer.height
    margin = round(width * rng.uniform(0.06, 0.09))
    font = printed.FONTS[int(rng.integers(len(printed.FONTS)))]
    ink = jitter(PRINT_BLACK, rng)
    # Forms meant for machine reading print their boxes in a pale "dropout" colour.
    lines = jitter(DROPOUT[int(rng.integers(len(DROPOUT)))], rng) if rng.random() < 0.3 else ink
    rule = max(1, round(dpi / 100))

    cap = round(height * rng.uniform(0.014, 0.019))
    y = margin + cap
    printed.text(page, TITLES[int(rng.integers(len(TITLES)))], margin, y, cap, ink, font, bold=True)
    small = max(8, round(cap * 0.5))
    y += 2 * small + small
    printed.text(page, INSTRUCTIONS[int(rng.integers(len(INSTRUCTIONS)))], margin, y, small, ink, font)
    y += small
    printed.line(page, (margin, y), (width - margin, y), rule, ink)
    y += round(dh * rng.uniform(1.2, 2.0))

    label_cap = max(10, round(dh * rng.uniform(0.35, 0.45)))
    order = rng.permutation(len(FIELDS))
    label_w = max(printed.text_size(FIELDS[i][0], label_cap, font)[0] for i in order)
    field_x = margin + label_w + round(dh * rng.uniform(0.8, 1.5))
    avail = width - margin - field_x
    footer = round(4 * dh)
    strings = []
    for i in order:
        label, kind = FIELDS[i]
        if rng.random() < 0.2 and y + 3 * dh < height - margin - footer:  # a section heading
            y += round(0.5 * dh)
            printed.text(page, SECTIONS[int(rng.integers(len(SECTIONS)))], margin, y + label_cap,
                         label_cap, ink, font, bold=True)
            y += label_cap + round(0.9 * dh)
        use_comb = kind in ("number", "date") and rng.random() < 0.45
        box_h = round(dh * (rng.uniform(1.3, 1.55) if use_comb else rng.uniform(1.45, 1.8)))
        if y + box_h > height - margin - footer:
            break
        printed.text(page, label, margin, y + (box_h + label_cap) // 2, label_cap, ink, font)
        blank = rng.random() < 0.12
        if use_comb:
            cell_w = round(dh * rng.uniform(0.9, 1.15))
            digits = texts.date(rng, "/").replace("/", "") if kind == "date" else texts.number(rng, 4, 10)
            digits = digits[: avail // cell_w]
            cells = min(len(digits) + (int(rng.integers(1, 3)) if rng.random() < 0.25 else 0), avail // cell_w)
            boxes = printed.comb(page, Box(field_x, y, cells * cell_w, box_h), cells, rule, lines)
            if not blank:
                strings.append(writer.comb(page, digits, boxes, 0.3 if rng.random() < 0.5 else 0.0))
        else:
            pad = round(dh * rng.uniform(0.25, 0.6))
            hand = None if blank else writer.fit(lambda: texts.pick(rng, (kind,)), avail - 2 * pad, touching=0.15)
            inner = hand.alpha.shape[1] + 2 * pad if hand is not None else round(avail * 0.5)
            box = Box(field_x, y, round(rng.uniform(inner, max(inner, avail) + 1)), box_h)
            printed.frame(page, box, rule, lines)
            if hand is not None:
                # Baseline about a digit height below the box's top, kept inside the frame.
                base = y + round((box_h + dh) / 2 + rng.uniform(-0.06, 0.06) * dh)
                top = min(max(base - hand.baseline, y + 2 * rule), box.bottom - 2 * rule - hand.alpha.shape[0])
                strings.append(writer.put(page, hand, field_x + pad, top + hand.baseline))
        y += box_h + round(dh * rng.uniform(1.0, 1.8))
    _signature(page, writer, rng, margin, height - margin - footer // 2, label_cap, ink, font, rule)
    return Page(page, dpi, strings)


def _signature(page: np.ndarray, writer: Writer, rng: np.random.Generator, x: int, y: int, cap: int,
               ink, font: int, rule: int) -> None:
    """A printed signature line at row ``y``, usually signed (a scribble, not part of the truth)."""
    box = printed.text(page, "Signature", x, y, cap, ink, font)
    start, end = box.right + writer.height, min(page.shape[1] - x, box.right + 9 * writer.height)
    printed.line(page, (start, y), (end, y), rule, ink)
    if rng.random() < 0.8:
        h = round(writer.height * rng.uniform(1.5, 2.2))
        alpha = scribble(round((end - start) * rng.uniform(0.5, 0.9)), h, writer.pen, rng)
        stamp(page, alpha, start + writer.height // 2, y - round(h * 0.8), writer.colour)
