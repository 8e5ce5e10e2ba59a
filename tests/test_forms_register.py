"""Registration: a shifted, scaled, rotated scan of a blank form still puts every field on its
printed frame, with the reference image (features) and without it (frames only)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from forms.reader import plan_page
from forms.register import apply, field_rect, iou, bounding
from forms.template import load_template
from pipeline.preprocess import preprocess
from synth.field_sets import write_template
from synth.templated import METER_CARD, PAYMENT_SLIP, reference_image


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    for design in (PAYMENT_SLIP, METER_CARD):
        write_template(out, design)
    return out


def scanned(design, scale: float, angle: float, shift: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The blank form as if scanned: rotated ``angle`` degrees, scaled and shifted (a similarity
    ``matrix`` from reference to scan pixels), with a little blur."""
    ref = reference_image(design)
    h, w = ref.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += shift
    size = (round(w * scale), round(h * scale))
    page = cv2.warpAffine(ref, matrix, size, flags=cv2.INTER_LINEAR, borderValue=245)
    return cv2.GaussianBlur(page, (0, 0), 0.7), matrix


def true_boxes(template, matrix: np.ndarray, deskew: np.ndarray, size) -> dict:
    m3 = np.vstack([matrix, [0, 0, 1]])
    d3 = np.vstack([deskew, [0, 0, 1]])
    total = (d3 @ m3)[:2]
    return {f.name: bounding(apply(total, field_rect(f, size))) for f in template.fields}


@pytest.mark.parametrize("design, scale, angle, shift", [
    (PAYMENT_SLIP, 1.33, 1.5, (25.0, -30.0)),   # scanned at 200 dpi, rotated, off-centre
    (METER_CARD, 0.9, -2.0, (-20.0, 35.0)),     # shrunk
])
def test_fields_land_on_their_frames(templates, design, scale, angle, shift):
    template = load_template(templates / f"{design.name}.yaml")
    page, matrix = scanned(design, scale, angle, shift)
    prep = preprocess(page)
    plan = plan_page(prep.gray, prep.lines, 1, templates / f"{design.name}.yaml")
    assert plan.registration.ok and plan.registration.method == "features"
    assert set(plan.registration.frames) == {f.name for f in template.fields}
    truth = true_boxes(template, matrix, prep.matrix, (1240, 1754))
    fields = {r.field.name: r for r in plan.regions if r.field is not None}
    for name, box in truth.items():
        assert iou(fields[name].box, box) > 0.8, (name, fields[name].box, box)
    comb = fields[template.fields[0].name]
    assert len(comb.cells) == template.fields[0].cells


def test_frames_register_without_a_reference(templates, tmp_path):
    text = (templates / "payment_slip.yaml").read_text().replace("reference: payment_slip.png\n", "")
    (tmp_path / "noref.yaml").write_text(text)
    page, matrix = scanned(PAYMENT_SLIP, 1.0, 0.8, (15.0, 20.0))
    prep = preprocess(page)
    plan = plan_page(prep.gray, prep.lines, 1, tmp_path / "noref.yaml")
    assert plan.registration.method == "frames" and plan.registration.ok
    template = load_template(tmp_path / "noref.yaml")
    truth = true_boxes(template, matrix, prep.matrix, (1240, 1754))
    fields = {r.field.name: r for r in plan.regions if r.field is not None}
    assert all(iou(fields[n].box, b) > 0.8 for n, b in truth.items())


def test_a_foreign_page_is_not_registered(templates):
    blank = np.full((1754, 1240), 250, np.uint8)
    cv2.putText(blank, "SOMETHING ELSE ENTIRELY", (100, 300), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 4)
    prep = preprocess(blank)
    plan = plan_page(prep.gray, prep.lines, 1, templates / "payment_slip.yaml")
    assert not plan.registration.ok
