"""Writing results: CSV rows appended page by page as whole rows, images written atomically.

Rows of a page go to disk in one ``write`` of a fully encoded block, so a run that is killed
leaves CSVs whose every line is complete; images are written to a temporary name and renamed.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd

from pipeline.results import DIGIT_COLUMNS, ERROR_COLUMNS, PAGE_COLUMNS, STRING_COLUMNS, PageResult

TABLES = {"strings.csv": STRING_COLUMNS, "digits.csv": DIGIT_COLUMNS, "pages.csv": PAGE_COLUMNS}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def csv_block(rows: list[dict], columns: list[str], header: bool) -> bytes:
    """Rows as CSV bytes with the given column order (pandas does the quoting)."""
    frame = pd.DataFrame(rows, columns=columns)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=header, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


class ResultWriter:
    """Collects page results into ``out``: strings.csv, digits.csv, pages.csv, errors.csv, flagged/, overlays/."""

    def __init__(self, out: Path, resume: bool = False):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        for name, columns in TABLES.items():
            path = self.out / name
            if not (resume and path.exists()):
                write_atomic(path, csv_block([], columns, header=True))
        if not resume:
            # errors.csv exists only when something failed in this run
            (self.out / "errors.csv").unlink(missing_ok=True)

    def _append(self, name: str, rows: list[dict], columns: list[str]) -> None:
        if not rows:
            return
        path = self.out / name
        block = csv_block(rows, columns, header=not path.exists())
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, block)
        finally:
            os.close(fd)

    def add(self, result: PageResult) -> None:
        """Write one page's images, then its rows (rows last: a row never names a missing crop)."""
        for relative, data in result.artifacts.items():
            write_atomic(self.out / relative, data)
        self._append("strings.csv", result.string_rows(), STRING_COLUMNS)
        self._append("digits.csv", result.digit_rows(), DIGIT_COLUMNS)
        self._append("errors.csv", result.error_rows(), ERROR_COLUMNS)
        # pages.csv last: a page listed there is complete in every other file (resume relies on it).
        self._append("pages.csv", result.page_rows(), PAGE_COLUMNS)
