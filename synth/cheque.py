"""CHEQUES: a guilloche background, a printed bank name, a pay line, a date box and an amount
box holding handwritten digits, and a signature."""
from __future__ import annotations

from typing import Callable

import numpy as np

from pipeline.results import Box
from synth import printed, texts
from synth.background import guilloche
from synth.ink import jitter, stamp
from synth.layout import Page, Writer, digit_height
from synth.scribble import scribble
from synth.source import DigitSource

BANKS = ("Harbour Mutual Bank", "Northgate Savings", "Meridian Trust", "Albion Cooperative Bank",
         "Riverside Building Society", "Crown and Anchor Bank")
BRANCHES = ("High Street Branch", "Market Square", "City Centre Office", "Station Road")
CURRENCIES = ("EUR", "GBP", "USD", "CHF")
PRINT_COLOURS = ((0.10, 0.15, 0.40), (0.10, 0.30, 0.18), (0.40, 0.10, 0.12), (0.15, 0.15, 0.15))
CHEQUE_INCHES = (7.0, 3.2)


def cheque(source: DigitSource, rng: np.random.Generator, dpi: int,
           amounts: Callable[[np.random.Generator], str] = texts.amount,
           dates: Callable[[np.random.Generator], str] = texts.date) -> Page:
    """A cheque scanned on its own at ``dpi`` (about 1400 x 640 at 200 dpi). ``amounts`` and
    ``dates`` make the texts written in the amount and date boxes; the page's ``fields``
    record them."""
    width, height = round(CHEQUE_INCHES[0] * dpi * rng.uniform(0.97, 1.03)), round(CHEQUE_INCHES[1] * dpi)
    page = guilloche(height, width, rng, dpi)
    writer = Writer(source, rng, digit_height(dpi, rng, 48, 75))
    dh = writer.height
    ink = jitter(PRINT_COLOURS[int(rng.integers(len(PRINT_COLOURS)))], rng)
    font = printed.FONTS[int(rng.integers(len(printed.FONTS)))]
    rule = max(1, round(dpi / 120))
    margin = round(0.04 * width)
    inset = margin // 3
    printed.frame(page, Box(inset, inset, width - 2 * inset, height - 2 * inset), rule, ink)

    cap = round(height * rng.uniform(0.055, 0.07))
    bank, branch = BANKS[int(rng.integers(len(BANKS)))], BRANCHES[int(rng.integers(len(BRANCHES)))]
    printed.text(page, bank, margin, margin + cap, cap, ink, printed.FONTS[2], bold=True)
    small = max(9, round(cap * 0.45))
    printed.text(page, branch, margin, margin + cap + 2 * small, small, ink, font)
    strings = []
    fields: dict[str, str] = {}

    # Date box, top right.
    box_h = round(dh * rng.uniform(1.45, 1.7))
    date_hand = writer.fit(lambda: dates(rng), 0.3 * width)
    if date_hand is not None:
        pad = round(dh * 0.3)
        box_w = date_hand.alpha.shape[1] + 2 * pad
        box = Box(width - margin - box_w, margin, box_w, box_h)
        label = printed.text_size("Date", small, font)[0]
        printed.text(page, "Date", box.x - label - small, box.y + (box_h + small) // 2, small, ink, font)
        printed.frame(page, box, rule, ink)
        strings.append(writer.put(page, date_hand, box.x + pad, box.y + (box_h + dh) // 2))
        fields["date"] = date_hand.text

    # Pay line, then the amount-in-words line (handwritten words: a scribble, not truth).
    pay_y = round(height * rng.uniform(0.4, 0.45))
    label = printed.text(page, "Pay", margin, pay_y, small * 2, ink, font)
    printed.line(page, (label.right + small, pay_y), (round(width * 0.93), pay_y), rule, ink)
    order_w = printed.text_size("or order", small, font)[0]
    printed.text(page, "or order", round(width * 0.93) - order_w, pay_y + 2 * small, small, ink, font)
    if rng.random() < 0.8:
        _words(page, writer, rng, label.right + 2 * small, pay_y, round(width * rng.uniform(0.3, 0.5)))
    words_y = round(height * rng.uniform(0.6, 0.64))
    words_end = round(width * 0.52)
    printed.line(page, (margin, words_y), (words_end, words_y), rule, ink)
    if rng.random() < 0.8:
        _words(page, writer, rng, margin + small, words_y, round(words_end * rng.uniform(0.5, 0.85)))

    # Amount box, right: at least two digit heights from the words line's end.
    box_x = max(words_end + round(2.5 * dh), round(width * 0.62))
    currency = CURRENCIES[int(rng.integers(len(CURRENCIES)))]
    cur_w = printed.text_size(currency, small, font, bold=True)[0]
    box_x += cur_w + small
    box_h = round(dh * rng.uniform(1.45, 1.7))
    box_y = max(round(height * 0.5), pay_y + 3 * small)
    pad = round(dh * 0.3)
    amount_hand = writer.fit(lambda: amounts(rng), width - margin - box_x - 2 * pad, touching=0.2)
    box = Box(box_x, box_y, width - margin - box_x, box_h)
    printed.text(page, currency, box_x - cur_w - small, box_y + (box_h + small) // 2, small, ink, font, bold=True)
    printed.frame(page, box, rule, ink)
    if amount_hand is not None:
        strings.append(writer.put(page, amount_hand, box_x + pad, box_y + (box_h + dh) // 2))
        fields["amount"] = amount_hand.text

    # Signature, bottom right.
    sig_y = round(height * 0.88)
    printed.line(page, (round(width * 0.6), sig_y), (width - margin, sig_y), rule, ink)
    printed.text(page, "Authorised signature", round(width * 0.6), sig_y + 2 * small, small, ink, font)
    if rng.random() < 0.9:
        h = round(dh * rng.uniform(1.5, 2.2))
        stamp(page, scribble(round(width * rng.uniform(0.2, 0.32)), h, writer.pen, rng),
              round(width * 0.63), sig_y - h + round(0.2 * h), writer.colour)
    return Page(page, dpi, strings, fields=fields)


def _words(page: np.ndarray, writer: Writer, rng: np.random.Generator, x: int, line_y: int, width: int) -> None:
    """Cursive words (payee, amount in words) written on the line at ``line_y``."""
    h = round(writer.height * rng.uniform(1.2, 1.6))
    stamp(page, scribble(width, h, writer.pen, rng), x, line_y - h, writer.colour)
