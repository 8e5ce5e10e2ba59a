"""Ground truth of synthetic pages: one row per handwritten string, boxes in scan pixels."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.results import Box

TRUTH_COLUMNS = ["file", "page", "x", "y", "w", "h", "text"]
SOURCE_COLUMNS = ["file", "page", "text", "mnist_test_indices"]


@dataclass
class Placed:
    """A handwritten string as laid on the unskewed page: its tight ink box and its text."""

    box: Box
    text: str
    indices: list[int] = field(default_factory=list)


def transformed_box(box: Box, matrix: np.ndarray, width: int, height: int) -> Box:
    """The box enclosing ``box``'s corners mapped by the 2x3 affine ``matrix``, clipped to a
    ``width`` x ``height`` page."""
    corners = np.array([[box.x, box.y, 1.0], [box.right, box.y, 1.0],
                        [box.x, box.bottom, 1.0], [box.right, box.bottom, 1.0]])
    mapped = np.round(corners @ np.asarray(matrix, np.float64).T, 6)  # no 44.9999 -> 44
    x0, y0 = np.floor(mapped.min(0)).astype(int)
    x1, y1 = np.ceil(mapped.max(0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    return Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def truth_rows(file: str, page: int, placed: list[Placed], matrix: np.ndarray,
               width: int, height: int, offset: tuple[int, int] = (0, 0)) -> tuple[list[dict], list[dict]]:
    """(truth rows, source rows) of one page; ``offset`` is subtracted from the boxes (a crop)."""
    ox, oy = offset
    truth, sources = [], []
    for item in placed:
        moved = transformed_box(item.box, matrix, width + ox, height + oy)
        box = Box(moved.x - ox, moved.y - oy, moved.w, moved.h)
        box = transformed_box(box, np.eye(2, 3), width, height)
        truth.append({"file": file, "page": page, "x": box.x, "y": box.y, "w": box.w, "h": box.h,
                      "text": item.text})
        sources.append({"file": file, "page": page, "text": item.text,
                        "mnist_test_indices": " ".join(str(i) for i in item.indices)})
    return truth, sources


def as_table(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly ``columns`` (text kept as strings)."""
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({"text": str}) if "text" in columns else out
