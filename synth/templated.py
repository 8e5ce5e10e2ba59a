"""TEMPLATED forms: the same printed form filled in by many people and scanned off-centre, at
another resolution, slightly scaled and rotated, as stacks of one form arrive in a back office.

A :class:`FormDesign` fixes the form in design pixels (A4 at DESIGN_DPI); from it come the blank
reference image and the YAML template that ``forms`` reads (:func:`template_dict`), and any
number of filled pages with the value of every field (:func:`filled`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pipeline.results import Box
from synth import field_texts, printed
from synth.ink import PRINT_BLACK, jitter, paper, stamp
from synth.layout import Page, Writer, a4
from synth.scribble import scribble
from synth.source import DigitSource
from synth.truth import Placed

DESIGN_DPI = 150
DESIGN_SIZE = a4(DESIGN_DPI)  # (1240, 1754)
MARK = 26  # px: the corner registration marks' side, at DESIGN_DPI
MARK_INSET = 48


@dataclass(frozen=True)
class FieldDesign:
    """A field in design pixels: ``box`` (x, y, w, h) is the printed frame, ``cells`` > 0 a comb;
    ``make`` writes (text, value); ``rules`` are the template keys that check it; ``blank`` the
    chance it is left empty (optional fields)."""

    name: str
    label: str
    type: str
    box: tuple[int, int, int, int]
    make: Callable[[np.random.Generator], tuple[str, str]]
    cells: int = 0
    rules: dict = field(default_factory=dict)
    blank: float = 0.0


@dataclass(frozen=True)
class FormDesign:
    name: str
    title: str
    subtitle: str
    fields: tuple[FieldDesign, ...]
    notes: tuple[str, ...] = ()
    label_x: int = 110
    font: int = printed.FONTS[0]  # one printed form: every copy has the same type


PAYMENT_SLIP = FormDesign(
    name="payment_slip", title="Payment Instruction", subtitle="Write one digit in each box",
    fields=(
        FieldDesign("account", "Account number", "digits", (430, 330, 460, 58),
                    lambda rng: field_texts.luhn_number(rng, 10), cells=10,
                    rules={"length": 10, "check": "luhn"}),
        FieldDesign("sort_code", "Sort code", "digits", (430, 450, 260, 62), field_texts.sort_code,
                    rules={"pattern": r"\d{2}-\d{2}-\d{2}"}),
        FieldDesign("amount", "Amount", "amount", (430, 570, 400, 64),
                    lambda rng: field_texts.amount(rng, "."), rules={"decimal": ".", "decimals": 2}),
        FieldDesign("date", "Payment date", "date", (430, 690, 368, 58),
                    lambda rng: field_texts.date(rng, "", (2015, 2030), 0.0), cells=8,
                    rules={"order": "DMY", "years": [2000, 2035]}),
        FieldDesign("reference", "Payment reference", "digits", (430, 810, 330, 62),
                    lambda rng: field_texts.number(rng, 6, 8), rules={"length": [6, 8], "required": False},
                    blank=0.15),
    ),
    notes=("Payments received after the cut off time are made on the next working day",
           "Please check the account number and sort code with the payee",
           "Keep a copy of this instruction for your records"),
)

METER_CARD = FormDesign(
    name="meter_card", title="Meter Reading Card", subtitle="Customer service copy",
    fields=(
        FieldDesign("customer", "Customer number", "digits", (470, 360, 400, 62),
                    lambda rng: field_texts.luhn_number(rng, 8), cells=8,
                    rules={"length": 8, "check": "luhn"}),
        FieldDesign("meter", "Meter reading", "digits", (470, 480, 300, 62),
                    lambda rng: field_texts.number(rng, 6, 6), cells=6, rules={"length": 6}),
        FieldDesign("reading_date", "Date of reading", "date", (470, 600, 340, 64),
                    lambda rng: field_texts.date(rng, "/-.", (2010, 2030), 0.2),
                    rules={"order": "DMY", "years": [2000, 2035]}),
        FieldDesign("amount_due", "Amount due", "amount", (470, 720, 380, 64),
                    lambda rng: field_texts.amount(rng, ",", 5), rules={"decimal": ",", "decimals": 2}),
        FieldDesign("phone", "Contact telephone", "digits", (470, 840, 430, 64), field_texts.phone,
                    rules={"pattern": r"\d{3,4}-\d{3}-\d{4}", "required": False}, blank=0.2),
    ),
    notes=("Read the meter from left to right and ignore the red figures",
           "We use your reading to work out your next bill",
           "Return this card in the envelope provided"),
    label_x=90, font=printed.FONTS[1],
)

DESIGNS = {d.name: d for d in (PAYMENT_SLIP, METER_CARD)}


class _Canvas:
    """Design pixels onto a page: page = offset + scale x design."""

    def __init__(self, page: np.ndarray, scale: float, offset: tuple[float, float]):
        self.page, self.s, self.offset = page, scale, offset

    def pt(self, x: float, y: float) -> tuple[int, int]:
        return round(self.offset[0] + self.s * x), round(self.offset[1] + self.s * y)

    def box(self, box: tuple[float, float, float, float]) -> Box:
        x0, y0 = self.pt(box[0], box[1])
        x1, y1 = self.pt(box[0] + box[2], box[1] + box[3])
        return Box(x0, y0, x1 - x0, y1 - y0)

    def size(self, v: float) -> int:
        return max(1, round(self.s * v))


def _draw_blank(c: _Canvas, design: FormDesign, ink, font: int) -> dict[str, list[Box] | Box]:
    """The printed form; returns each field's cells (combs) or frame (boxes) in page pixels."""
    page = c.page
    width, height = DESIGN_SIZE
    rule = c.size(2)
    for mx, my in ((MARK_INSET, MARK_INSET), (width - MARK_INSET - MARK, MARK_INSET),
                   (MARK_INSET, height - MARK_INSET - MARK), (width - MARK_INSET - MARK, height - MARK_INSET - MARK)):
        x, y = c.pt(mx, my)
        stamp(page, np.ones((c.size(MARK), c.size(MARK)), np.float32), x, y, ink)
    x, y = c.pt(design.label_x, 150)
    printed.text(page, design.title, x, y, c.size(36), ink, font, bold=True)
    x, y = c.pt(design.label_x, 200)
    printed.text(page, design.subtitle, x, y, c.size(16), ink, font)
    printed.line(page, c.pt(design.label_x, 225), c.pt(width - design.label_x, 225), rule, ink)
    where: dict[str, list[Box] | Box] = {}
    for f in design.fields:
        frame = c.box(f.box)
        cap = c.size(18)
        x, _ = c.pt(design.label_x, 0)
        printed.text(page, f.label, x, frame.y + (frame.h + cap) // 2, cap, ink, font)
        if f.cells:
            where[f.name] = printed.comb(page, frame, f.cells, rule, ink)
        else:
            printed.frame(page, frame, rule, ink)
            where[f.name] = frame
    y = max(f.box[1] + f.box[3] for f in design.fields) + 110
    for note in design.notes:
        x, yy = c.pt(design.label_x, y)
        printed.text(page, note, x, yy, c.size(15), ink, font)
        y += 34
    sig = c.pt(design.label_x, height - 260)
    label = printed.text(page, "Signature", sig[0], sig[1], c.size(18), ink, font)
    printed.line(page, (label.right + c.size(30), sig[1]), c.pt(width - 300, height - 260), rule, ink)
    return where


def reference_image(design: FormDesign) -> np.ndarray:
    """The blank form at DESIGN_DPI as a clean grey uint8 image (the template's reference)."""
    width, height = DESIGN_SIZE
    page = np.ones((height, width, 3), np.float32)
    _draw_blank(_Canvas(page, 1.0, (0.0, 0.0)), design, np.array(PRINT_BLACK, np.float32), design.font)
    grey = page.mean(axis=2)
    return np.clip(grey * 255.0 + 0.5, 0, 255).astype(np.uint8)


def template_dict(design: FormDesign, reference: str) -> dict:
    """The YAML template of ``design`` (positions as fractions of the page)."""
    width, height = DESIGN_SIZE
    fields = []
    for f in design.fields:
        x, y, w, h = f.box
        entry = {"name": f.name, "type": f.type,
                 "box": [round(x / width, 4), round(y / height, 4), round(w / width, 4), round(h / height, 4)]}
        if f.cells:
            entry["cells"] = f.cells
        fields.append({**entry, **f.rules})
    return {"name": design.name, "reference": reference, "fields": fields}


@dataclass
class Filled:
    """A filled form before scanning: the page and each field's (text, value)."""

    page: Page
    values: dict[str, tuple[str, str]]


def filled(design: FormDesign, source: DigitSource, rng: np.random.Generator, dpi: int) -> Filled:
    """One filled copy of ``design`` as scanned at ``dpi``: placed off-centre (up to 2% of the
    page) at DESIGN_DPI/dpi scale +-6%; the scanner adds its skew later."""
    width, height = a4(dpi)
    scale = dpi / DESIGN_DPI * float(rng.uniform(0.94, 1.06))
    offset = ((width - scale * DESIGN_SIZE[0]) / 2 + rng.uniform(-0.02, 0.02) * width,
              (height - scale * DESIGN_SIZE[1]) / 2 + rng.uniform(-0.02, 0.02) * height)
    page = paper(height, width, rng)
    c = _Canvas(page, scale, offset)
    where = _draw_blank(c, design, jitter(PRINT_BLACK, rng), design.font)
    writer = Writer(source, rng, c.size(rng.uniform(31, 38)))
    # As synth.form: on some forms a third of the comb digits overflow their cells, on others none.
    crossing = 0.3 if rng.random() < 0.5 else 0.0
    strings: list[Placed] = []
    values: dict[str, tuple[str, str]] = {}
    for f in design.fields:
        if rng.random() < f.blank:
            values[f.name] = ("", "")
            continue
        text, value = f.make(rng)
        place = where[f.name]
        if f.cells:
            strings.append(writer.comb(page, text, place, crossing))
        else:
            placed = _write_box(writer, rng, page, place, text)
            if placed is None:
                values[f.name] = ("", "")
                continue
            strings.append(placed)
        values[f.name] = (text, value)
    _sign(c, writer, rng)
    return Filled(Page(page, dpi, strings, fields={k: v[0] for k, v in values.items()}), values)


def _write_box(writer: Writer, rng: np.random.Generator, page: np.ndarray, frame: Box, text: str) -> Placed | None:
    """``text`` handwritten inside ``frame``, shrunk a little if it would not fit."""
    pad = round(writer.height * rng.uniform(0.25, 0.5))
    hand = writer.fit(lambda: text, frame.w - 2 * pad - 4, touching=0.15)
    if hand is None:
        return None
    base = frame.y + round((frame.h + hand.height) / 2 + rng.uniform(-0.06, 0.06) * hand.height)
    top = min(max(base - hand.baseline, frame.y + 3), frame.bottom - 3 - hand.alpha.shape[0])
    return writer.put(page, hand, frame.x + pad, top + hand.baseline)


def _sign(c: _Canvas, writer: Writer, rng: np.random.Generator) -> None:
    """A signature scribble on the signature line (not truth)."""
    if rng.random() < 0.15:
        return
    width, height = DESIGN_SIZE
    h = round(writer.height * rng.uniform(1.4, 2.0))
    w = c.size(rng.uniform(250, 450))
    x, y = c.pt(380, height - 260)
    stamp(c.page, scribble(w, h, writer.pen, rng), x, y - round(0.8 * h), writer.colour)
