"""The Python API: read an image array, a file, or a whole batch, with the same options as the CLI."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.load import Limits
from pipeline.options import ReadOptions, RunOptions
from pipeline.page import read_page
from pipeline.results import PageResult
from pipeline.run import FileTask, Summary, read_file, run, shared_classifier

__all__ = ["read_image", "read_path", "run", "ReadOptions", "RunOptions", "Summary"]


def read_image(image: np.ndarray, options: ReadOptions = ReadOptions(), name: str = "image") -> PageResult:
    """Read a 2-D uint8 grey (or 3-channel BGR) page image held in memory."""
    import cv2

    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return read_page(image, shared_classifier(options.model_dir), options, name, 1)


def read_path(path: str | Path, options: ReadOptions = ReadOptions(), dpi: int = 300,
              limits: Limits = Limits()) -> list[PageResult]:
    """Read every page of one image or PDF file; unreadable input gives results with ``error`` set."""
    path = Path(path)
    return read_file(FileTask(path, path.name, dpi, limits, options))
