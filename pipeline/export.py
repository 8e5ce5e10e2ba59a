"""Writing results: CSV rows appended page by page as whole rows, images written atomically.

Rows of a page go to disk in one ``write`` of a fully encoded block, so a run that is killed
leaves CSVs whose every line is complete; images are written to a temporary name and renamed.
"""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path

from pipeline.results import DIGIT_COLUMNS, ERROR_COLUMNS, PAGE_COLUMNS, STRING_COLUMNS, PageResult

TABLES = {"strings.csv": STRING_COLUMNS, "digits.csv": DIGIT_COLUMNS, "pages.csv": PAGE_COLUMNS}


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _cell(value: object) -> object:
    # As pandas wrote them: a missing value (None, NaN) is an empty cell.
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def csv_block(rows: list[dict], columns: list[str], header: bool) -> bytes:
    """Rows as CSV bytes with the given column order (QUOTE_MINIMAL, "\n" line ends). The csv
    module rather than pandas: importing pandas alone costs more than reading a small page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    writer.writerows([_cell(row.get(column)) for column in columns] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _drop_partial_line(path: Path) -> None:
    """Cut ``path`` after its last newline: a write cut short leaves at most one partial line."""
    size = path.stat().st_size
    with open(path, "rb+") as handle:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            handle.seek(start)
            cut = handle.read(end - start).rfind(b"\n")
            if cut >= 0:
                end = start + cut + 1
                break
            end = start
        if end != size:
            handle.truncate(end)


def _filter_table(path: Path, keep: Callable[[list[str]], bool]) -> int:
    """Rewrite ``path`` (atomically) with its header and the rows ``keep`` accepts; returns
    how many were kept. Streams, so memory does not grow with the file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    kept = 0
    with open(path, newline="", encoding="utf-8", errors="replace") as source, \
            open(tmp, "w", newline="", encoding="utf-8") as target:
        reader = csv.reader(source)
        header = next(reader, None) or []
        # QUOTE_MINIMAL and "\n", as csv_block writes: kept rows come out byte for byte the same.
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(header)
        for row in reader:
            if len(row) == len(header) and keep(row):
                writer.writerow(row)
                kept += 1
    os.replace(tmp, path)
    return kept


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle), [])


def recover(out: Path) -> set[tuple[str, int]]:
    """Bring the CSVs of an interrupted run in ``out`` back to a consistent state and return
    the pages complete in it, as ``(file, page)``.

    pages.csv is written last for each page, so a page listed there is complete in every file.
    Partial trailing lines are dropped, as are rows of every other per-page CSV (strings.csv,
    digits.csv, errors.csv, any CSV whose columns start with file, page) whose page is not in
    pages.csv: a failed page never is, so failures are tried again. Each file is rewritten
    atomically: recovering twice, or after a crash in here, is safe.
    """
    out = Path(out)
    done: set[tuple[str, str]] = set()

    def first_time(row: list[str]) -> bool:
        key = (row[0], row[1])
        if not row[1].isdigit() or key in done:
            return False
        done.add(key)
        return True

    pages = out / "pages.csv"
    if pages.exists():
        _drop_partial_line(pages)
        if _header(pages)[:2] == ["file", "page"]:
            _filter_table(pages, first_time)
    for path in sorted(out.glob("*.csv")):
        if path.name == "pages.csv":
            continue
        _drop_partial_line(path)
        if _header(path)[:2] != ["file", "page"]:
            continue  # not a per-page table (or empty): not ours to filter
        kept = _filter_table(path, lambda row: (row[0], row[1]) in done)
        if path.name == "errors.csv" and kept == 0:
            path.unlink()  # errors.csv exists only when something failed
    return {(file, int(page)) for file, page in done}


class ResultWriter:
    """Collects page results into ``out``: strings.csv, digits.csv, pages.csv, errors.csv,
    fields.csv (a template's fields), flagged/, overlays/.

    With ``resume`` the CSVs already in ``out`` are recovered (see :func:`recover`) and kept;
    ``done`` holds their complete pages."""

    def __init__(self, out: Path, resume: bool = False):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.done: set[tuple[str, int]] = recover(self.out) if resume else set()
        for name, columns in TABLES.items():
            path = self.out / name
            if not (resume and path.exists() and path.stat().st_size > 0):
                write_atomic(path, csv_block([], columns, header=True))
        if not resume:
            # errors.csv exists only when something failed in this run, fields.csv with a template
            (self.out / "errors.csv").unlink(missing_ok=True)
            (self.out / "fields.csv").unlink(missing_ok=True)

    def _append(self, name: str, rows: list[dict], columns: list[str]) -> None:
        if not rows:
            return
        fd = os.open(self.out / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            block = csv_block(rows, columns, header=os.fstat(fd).st_size == 0)
            view = memoryview(block)
            while view:  # one write in practice; a short write (disk full) is resumed, not lost
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def add(self, result: PageResult) -> None:
        """Write one page's images, then its rows (rows last: a row never names a missing crop)."""
        for relative, data in result.artifacts.items():
            write_atomic(self.out / relative, data)
        self._append("strings.csv", result.string_rows(), STRING_COLUMNS)
        self._append("digits.csv", result.digit_rows(), DIGIT_COLUMNS)
        self._append("errors.csv", result.error_rows(), ERROR_COLUMNS)
        self._append("fields.csv", result.field_rows(), result.field_columns())  # with a template only
        # pages.csv last: a page listed there is complete in every other file (resume relies on it).
        self._append("pages.csv", result.page_rows(), PAGE_COLUMNS)
