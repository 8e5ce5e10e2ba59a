"""A tiny synthetic results folder (CSVs, crops, overlays) for tests and demos, written by the
pipeline's own result tree and writer so it has exactly the real format.

``python -m review.sample OUT`` writes one; then ``python -m review review OUT``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from pipeline.export import ResultWriter
from pipeline.overlay import draw_overlay, encode_overlay
from pipeline.results import (LOW_CONFIDENCE, NOT_A_DIGIT_REASON, SEPARATORS, Box, DigitString, Glyph, PageResult,
                              crop_name, overlay_name)

GLYPH_W, GLYPH_H = 24, 34
THRESHOLD = 0.7

# file -> page -> strings: (text, {index: (confidence, alt1, alt1_conf, alt2, alt2_conf)});
# listed digits are flagged, the others read with confidence 0.99.
SAMPLE = {
    "scans/a.png": {1: [("12/05", {1: (0.41, "7", 0.35, "1", 0.12), 4: (0.55, "6", 0.30, "8", 0.05)}),
                        ("3?8", {1: (0.30, "4", 0.25, "9", 0.20)})]},
    "b.pdf": {2: [("907", {2: (0.62, "1", 0.30, "4", 0.03)})]},
}


def _page(file: str, page: int, strings: list[tuple[str, dict]]) -> PageResult:
    gray = np.full((60 + 60 * len(strings), 300), 255, np.uint8)
    result = PageResult(file=file, page=page, width=gray.shape[1], height=gray.shape[0])
    for sid, (text, doubtful) in enumerate(strings):
        y, glyphs = 30 + 60 * sid, []
        for index, ch in enumerate(text):
            box = Box(30 + index * (GLYPH_W + 6), y, GLYPH_W, GLYPH_H)
            cv2.putText(gray, ch, (box.x + 2, box.bottom - 4), cv2.FONT_HERSHEY_SIMPLEX, 1.1, 0, 3)
            if ch in SEPARATORS:
                glyphs.append(Glyph(box, ch, 1.0, is_separator=True))
                continue
            conf, a1, c1, a2, c2 = doubtful.get(index, (0.99, "", 0.0, "", 0.0))
            alts = tuple((l, c) for l, c in ((ch, conf), (a1, c1), (a2, c2)) if l)
            reason = "" if index not in doubtful else NOT_A_DIGIT_REASON if ch == "?" else LOW_CONFIDENCE
            glyphs.append(Glyph(box, ch, conf, alts, flagged=bool(reason), reason=reason))
        result.strings.append(DigitString(glyphs, string_id=sid))
    for string in result.strings:  # crops of flagged digits with context, as pipeline/page.py
        for index, glyph in enumerate(string.glyphs):
            if glyph.flagged:
                m, b = max(4, glyph.box.h // 4), glyph.box
                glyph.crop = crop_name(file, page, string.string_id, index)
                result.artifacts[glyph.crop] = cv2.imencode(
                    ".png", gray[b.y - m: b.bottom + m, b.x - m: b.right + m])[1].tobytes()
    result.artifacts[overlay_name(file, page)] = encode_overlay(draw_overlay(gray, result.strings, THRESHOLD))
    return result


def make_sample_results(out: Path) -> Path:
    """Write strings.csv, digits.csv, flagged/*.png and overlays/*.jpg into ``out``."""
    writer = ResultWriter(Path(out))
    for file, pages in SAMPLE.items():
        for page, strings in pages.items():
            writer.add(_page(file, page, strings))
    return Path(out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m review.sample OUT_FOLDER")
    print(make_sample_results(Path(sys.argv[1])))
