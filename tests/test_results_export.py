import io

import numpy as np
import pandas as pd

from pipeline.export import ResultWriter
from pipeline.geometry import map_box, pad_box
from pipeline.results import DIGIT_COLUMNS, STRING_COLUMNS, Box, DigitString, Glyph, PageResult, crop_name


def _glyph(label, conf, x, flagged=False, sep=False):
    return Glyph(Box(x, 10, 8, 12), label, conf, ((label, conf), ("7", 0.05), ("?", 0.01)), flagged, sep)


def _page(file="a/b.png", page=1):
    s = DigitString([_glyph("1", 0.99, 0), _glyph(".", 1.0, 9, sep=True), _glyph("5", 0.42, 20, flagged=True)], 1)
    return PageResult(file, page, 100, 50, strings=[s], artifacts={"flagged/x.png": b"png"})


def test_string_properties():
    s = _page().strings[0]
    assert s.text == "1.5" and s.confidence == 0.42 and s.flagged and len(s.digits) == 2
    assert s.box == Box(0, 10, 28, 12)


def test_rows_have_contract_columns():
    page = _page()
    strings = pd.DataFrame(page.string_rows())
    digits = pd.DataFrame(page.digit_rows())
    assert list(strings.columns) == STRING_COLUMNS
    assert list(digits.columns) == DIGIT_COLUMNS
    assert digits["index"].tolist() == [0, 2]  # positions in the text; the separator is skipped
    assert digits.loc[0, "alt1"] == "7" and digits.loc[0, "alt2"] == "?"


def test_writer_appends_whole_rows(tmp_path):
    writer = ResultWriter(tmp_path)
    writer.add(_page(page=1))
    writer.add(_page(page=2))
    writer.add(PageResult("bad.png", 1, error="not an image"))
    strings = pd.read_csv(tmp_path / "strings.csv", dtype={"text": str})
    assert strings["page"].tolist() == [1, 2] and strings["text"].tolist() == ["1.5", "1.5"]
    assert len(pd.read_csv(tmp_path / "digits.csv")) == 4
    assert pd.read_csv(tmp_path / "errors.csv")["error"].tolist() == ["not an image"]
    assert (tmp_path / "flagged/x.png").read_bytes() == b"png"
    assert not list(tmp_path.rglob("*.tmp*"))
    # A new run starts clean: no stale rows or errors.
    ResultWriter(tmp_path)
    assert len(pd.read_csv(tmp_path / "strings.csv")) == 0 and not (tmp_path / "errors.csv").exists()


def test_geometry_maps_and_clips():
    shift = np.array([[1, 0, 5], [0, 1, -3]], float)
    assert map_box(Box(10, 10, 4, 4), shift, 100, 100) == Box(15, 7, 4, 4)
    assert map_box(Box(98, 0, 10, 10), shift, 100, 100).right == 100
    assert pad_box(Box(0, 0, 5, 5), 3, 6, 100) == Box(0, 0, 6, 8)
    assert pad_box(Box(120, 5, 10, 10), 0, 100, 100) == Box(100, 5, 0, 10)  # off the page: empty
    assert crop_name("a/b c.png", 2, 3, 4) == "flagged/a__b c.png__p2_s3_i4.png"
