"""The forms stage of reading a page: where to read (a plan of regions) before segmentation, and
the named fields assembled from the strings read there afterwards.

- No template: every printed frame and comb found is a region (strings of kind box / comb).
- ``--template``: the page is registered to the template; each field is a region at its
  registered place (snapped to its printed frame when one is there); frames that are no field
  are still read as boxes. Fields are checked by their rules.
- ``--cheque``: every frame is a region; the amount and date are picked among all strings read
  (:mod:`forms.cheque`) and checked as a cheque's (amounts need their cents).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from forms import cheque as cheques
from forms.boxes import Frame, comb_grid, find_frames
from forms.decode import best_valid
from forms.regions import Region, from_frame
from forms.register import Registration, apply, bounding, field_rect, iou, load_reference, register
from forms.rules import check_field
from forms.template import CHEQUE, FieldSpec, Template, load_template
from pipeline.results import Box, DigitString, FieldResult

NOT_REGISTERED = "form not recognised on this page"
OVERLAP = 0.3  # a frame overlapping a field's region this much is that field's, not a box of its own
# Weakest digit's confidence below which a field is flagged even when each digit passes the
# model's threshold: chosen on generated forms and cheques (seed 7, not the benchmark's) as the
# lowest value that let no wrong field through there.
FIELD_CONFIDENCE = 0.97


@dataclass
class Plan:
    """What the forms stage decided before segmentation."""

    regions: list[Region] = field(default_factory=list)
    template: Template | None = None
    template_page: int = 1
    registration: Registration | None = None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.template.fields] if self.template else []


def equal_cells(box: Box, n: int, inset: float = 0.04) -> list[Box]:
    """``box`` cut into ``n`` equal cells, each a little inside its share (printed lines)."""
    edges = np.linspace(box.x, box.right, n + 1)
    dx, dy = inset * box.w / n, inset * box.h
    return [Box(int(round(a + dx)), int(round(box.y + dy)), max(1, int(round(b - a - 2 * dx))),
                max(1, int(round(box.h - 2 * dy)))) for a, b in zip(edges[:-1], edges[1:])]


def _field_region(spec: FieldSpec, frame: Frame | None, predicted: Box, gray: np.ndarray) -> Region:
    # A comb whose field needs a digit in every cell (fixed length, a date) is read expecting that.
    full = bool(spec.cells) and (spec.type == "date" or (spec.length is not None and spec.length[0] >= spec.cells))
    pale = frame is not None and frame.pale  # found, but not in the ink: nothing to strip
    if frame is None or pale:
        box = frame.box if pale else predicted
        cells = equal_cells(box, spec.cells) if spec.cells else []
        return Region(box, spec.kind, None, cells, spec, full, pale)
    cells: list[Box] = []
    if spec.cells:
        # The template knows the cell count; detected cells are used when they agree, else its
        # grid is laid over the frame (snapped to the printed dividers where they show).
        if len(frame.cells) == spec.cells:
            cells = list(frame.cells)
        else:
            cells = comb_grid(frame, spec.cells, gray) if frame.holes else equal_cells(frame.inner, spec.cells)
            frame = replace(frame, cells=cells)  # its lines are stripped where the template's are
    return Region(frame.box, spec.kind, frame, cells, spec, full)


def template_plan(gray: np.ndarray, frames: list[Frame], template: Template, page: int) -> Plan:
    """Regions of the template's fields on this page, registered, plus frames of no field."""
    template_page = template.page_of(page)
    specs = template.fields_on(template_page)
    reference = None
    if len(template.references) >= template_page:
        reference = load_reference(template.references[template_page - 1])
    size = reference.size if reference is not None else (gray.shape[1], gray.shape[0])
    registration = register(gray, specs, frames, size, reference)
    regions = []
    for spec in specs:
        predicted = bounding(apply(registration.matrix, field_rect(spec, size)))
        regions.append(_field_region(spec, registration.frames.get(spec.name), predicted, gray))
    used = {id(f) for f in registration.frames.values()}
    for frame in frames:
        if id(frame) not in used and all(iou(frame.box, r.box) < OVERLAP for r in regions):
            regions.append(from_frame(frame))
    return Plan(regions, template, template_page, registration)


def plan_page(gray: np.ndarray, lines: np.ndarray, page: int, template: Path | None = None,
              cheque: bool = False, boxes: bool = True, ink: np.ndarray | None = None) -> Plan:
    """The regions to read on a preprocessed page (``gray``, ``lines`` and ``ink`` in deskewed
    pixels; with ``ink``, frames printed too light to be ink are found too)."""
    if template is None and not cheque and not boxes:
        return Plan()
    frames = find_frames(lines, gray, ink)
    if template is not None:
        return template_plan(gray, frames, load_template(Path(template)), page)
    plan = Plan([from_frame(f) for f in frames])
    if cheque:
        plan.template = CHEQUE
    return plan


def _field(spec: FieldSpec, string: DigitString | None, registered: bool, threshold: float) -> FieldResult:
    text = string.text if string is not None else ""
    checked = check_field(text, spec)
    problems = list(checked.problems)
    confidence = string.confidence if string is not None and string.digits else 1.0
    if problems and string is not None and string.digits:
        # The rules rule the best reading out: propose the likeliest one they allow (still
        # flagged: a person confirms it), and say what was read.
        valid = best_valid(string, spec)
        if valid is not None:
            proposed, checked, confidence = valid
            problems = [f"read {text}: {'; '.join(problems)}; the rules allow {proposed}"]
    if not registered:
        problems.insert(0, NOT_REGISTERED)
    # A field is wrong when any digit is: it is held to a stricter confidence than one digit.
    doubtful = string is not None and (string.flagged or confidence < max(threshold, FIELD_CONFIDENCE))
    if doubtful and not problems:
        problems.append("doubtful digit")
    return FieldResult(name=spec.name, value=checked.value, text=text, confidence=confidence,
                       flagged=bool(problems), problems=tuple(problems),
                       string_id=string.string_id if string is not None else 0)


def assemble(plan: Plan, region_strings: list[DigitString | None], strings: list[DigitString],
             width: int, height: int, threshold: float = 0.0) -> list[FieldResult]:
    """The page's fields: each template field from its region's string, or for a cheque the
    amount and date picked among all ``strings`` (page of ``width`` x ``height`` pixels).
    ``threshold`` is the digits' flag threshold; fields use at least FIELD_CONFIDENCE."""
    if plan.template is None:
        return []
    if plan.template is CHEQUE:
        picked = cheques.pick(strings, width, height)
        return [_field(spec, picked[spec.name], True, threshold) for spec in CHEQUE.fields]
    registered = plan.registration is None or plan.registration.ok
    out = []
    for region, string in zip(plan.regions, region_strings):
        if region.field is not None:
            out.append(_field(region.field, string, registered, threshold))
    return out
