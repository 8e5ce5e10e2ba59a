"""The working resolution: pages scanned under 300 dpi are read enlarged, results come back in
the page's own pixels (pipeline.scale, pipeline.page)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import iou
from pipeline.scale import MAX_ENLARGE, WORK_SIDE, enlarge, working_scale

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.mark.parametrize("shape, expected", [
    ((3508, 2480), 1.0),                 # A4 at 300 dpi: read as it is
    ((4961, 3508), 1.0),                 # ... and at 425 dpi (never reduced)
    ((2339, 1654), WORK_SIDE / 1654),    # A4 at 200 dpi: to A4 at 300
    ((1754, 1240), 2.0),                 # A4 at 150 dpi
    ((1100, 850), 1.0),                  # letter at 100 dpi: no page-sized short side
    ((1400, 1000), MAX_ENLARGE),         # capped
    ((640, 1400), 1.0),                  # a cheque
    ((52, 292), 1.0),                    # a field crop cut out by another system
    ((1200, 20000, 3), 1.0),             # a long strip: no more than MAX_WORK_PIXELS
])
def test_working_scale(shape, expected):
    assert working_scale(shape) == pytest.approx(expected)


def test_enlarge_maps_pixel_edges_by_the_scale():
    image = np.full((1240, 1300), 255, np.uint8)
    image[50:80, 100:140] = 0
    for scale in (1.0, 1.5, 2.0):
        big = enlarge(image, scale)
        assert big.shape == (round(1240 * scale), round(1300 * scale)) and big.dtype == np.uint8
        x, y, w, h = cv2.boundingRect(cv2.compare(big, 128, cv2.CMP_LT))
        assert np.allclose([x, y, x + w, y + h], np.array([100, 50, 140, 80]) * scale, atol=1)
    assert enlarge(image, 1.0) is image


def test_an_enlarged_page_is_reported_in_its_own_pixels():
    """A 200 dpi ledger page is read 1.5 times its size; the strings found lie on their truth."""
    from classifier.runtime import DigitClassifier
    from pipeline.load import iter_pages
    from pipeline.options import ReadOptions
    from pipeline.page import read_page

    name = "ledger_02.jpg"
    (_, page), = iter_pages(SAMPLES / name)
    assert working_scale(page.shape) == pytest.approx(1.5, abs=0.01)
    result = read_page(page, DigitClassifier(), ReadOptions(overlays=False, flagged_crops=False), name)
    truth = pd.read_csv(SAMPLES / "truth.csv", dtype={"text": str}).query("file == @name")
    found = np.array([[s.box.x, s.box.y, s.box.w, s.box.h] for s in result.strings], float)
    best = iou(truth[["x", "y", "w", "h"]].to_numpy(float), found).max(axis=1)
    assert len(result.strings) >= len(truth) - 1
    assert np.median(best) > 0.8 and (best > 0.5).mean() > 0.9, best
    for s in result.strings:
        for g in s.glyphs:
            assert 0 <= g.box.x and g.box.right <= page.shape[1] and 0 <= g.box.y and g.box.bottom <= page.shape[0]
