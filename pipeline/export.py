"""Writing results: CSV rows appended page by page as whole rows, images written atomically.

Rows of a page go to disk in one ``write`` of a fully encoded block, so a run that is killed
leaves CSVs whose every line is complete; images are written to a temporary name and renamed.

After ``cli.py export`` (review/export.py), strings.csv and digits.csv carry two review columns
and the pipeline's own rows are kept as ``*.orig.csv``. A resume then writes each new row to
both: to the exported CSV with the review columns (not reviewed) and to the original, so every
row matches its file's header (recover() drops those that do not) and the review sees every page.
"""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.results import DIGIT_COLUMNS, ERROR_COLUMNS, PAGE_COLUMNS, STRING_COLUMNS, PageResult

TABLES = {"strings.csv": STRING_COLUMNS, "digits.csv": DIGIT_COLUMNS, "pages.csv": PAGE_COLUMNS}
OPTIONAL = ("errors.csv", "fields.csv")  # exist only when they hold rows
# The columns review's export adds to strings.csv and digits.csv (review/ uses these), and their
# values for a row nobody reviewed, as export writes them.
REVIEW_COLUMNS = ["reviewed", "corrected_from"]
UNREVIEWED = ["False", ""]


class FieldsMismatch(ValueError):
    """A resumed run would read fields unlike the run it continues (another template, or with
    and without one): fields.csv would lose rows or mix columns."""


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


def _filter_table(path: Path, keep: Callable[[list[str]], bool], tail: Sequence[list[str]] = ()) -> int:
    """Rewrite ``path`` (atomically) with its header, the rows ``keep`` accepts, then ``tail``;
    returns how many were kept. Streams, so memory does not grow with the file."""
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
        writer.writerows(tail)
    os.replace(tmp, path)
    return kept + len(tail)


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        return next(csv.reader(handle), [])


def _keys(path: Path) -> set[tuple[str, str]]:
    """(file, page) of the whole rows of a per-page table."""
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        return {(row[0], row[1]) for row in reader if len(row) == len(header)}


def orig_path(path: Path) -> Path:
    """Where export keeps the pipeline's own rows: ``digits.csv`` -> ``digits.orig.csv``."""
    return path.with_name(f"{path.stem}.orig{path.suffix}")


def exported_tables(out: Path) -> dict[str, Path | None]:
    """The tables of ``out`` that export rewrote (the pipeline's columns, then the review
    columns), each with its original (``*.orig.csv`` with the pipeline's columns) or None."""
    found = {}
    for name in ("strings.csv", "digits.csv"):
        path, original = out / name, orig_path(out / name)
        if path.exists() and _header(path) == TABLES[name] + REVIEW_COLUMNS:
            found[name] = original if original.exists() and _header(original) == TABLES[name] else None
    return found


def _fold_appended(out: Path) -> None:
    """Rows appended to an exported table without the review columns (as resumes did before
    they wrote both files) moved into the original and, with the review columns, to the end of
    the table: left as they are, recover() would drop them while pages.csv lists their pages, so
    they would never be read again. Other rows of their pages go, as review/originals.py merges
    them. Idempotent."""
    for name, original in exported_tables(out).items():
        path, width = out / name, len(TABLES[name])
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            short = [row for row in csv.reader(handle) if len(row) == width]
        if not short:
            continue
        pages = {(row[0], row[1]) for row in short}
        if original is not None:  # first: killed in between, this is done again from the start
            _filter_table(original, lambda row: (row[0], row[1]) not in pages, short)
        _filter_table(path, lambda row: (row[0], row[1]) not in pages, [row + UNREVIEWED for row in short])


def recover(out: Path) -> set[tuple[str, int]]:
    """Bring the CSVs of an interrupted run in ``out`` back to a consistent state and return
    the pages complete in it, as ``(file, page)``.

    pages.csv is written last for each page, so a page listed there is complete in every file.
    fields.csv (a templated or cheque run) holds exactly one row for every page read, so where
    it exists a page listed in pages.csv but missing from it is not complete either (a run
    resumed with another template, or without one). Partial trailing lines are dropped, as are
    rows of every per-page CSV (strings.csv, digits.csv, errors.csv, fields.csv, any CSV whose
    columns start with file, page) whose page is not complete, and repeated rows of a one-row-
    per-page table: a failed page is never complete, so failures are tried again. errors.csv
    and fields.csv are removed when nothing is left in them (they exist only when they hold
    rows). Each file is rewritten atomically: recovering twice, or after a crash in here, is safe.
    Rows a resume appended to an exported table without its review columns are kept (see
    :func:`_fold_appended`); ``*.orig.csv`` are per-page tables like the others.
    """
    out = Path(out)
    for path in out.glob("*.csv"):
        _drop_partial_line(path)
    _fold_appended(out)
    tables = {}
    for path in sorted(out.glob("*.csv")):
        if _header(path)[:2] == ["file", "page"]:  # else not a per-page table (or empty): not ours
            tables[path.name] = path
    done: set[tuple[str, str]] = set()
    if "pages.csv" in tables:
        done = {key for key in _keys(tables["pages.csv"]) if key[1].isdigit()}
    if "fields.csv" in tables:
        done &= _keys(tables["fields.csv"])
    for name, path in tables.items():
        once = name in ("pages.csv", "fields.csv")  # one row per page: a repeat is dropped
        seen: set[tuple[str, str]] = set()

        def keep(row: list[str]) -> bool:
            key = (row[0], row[1])
            if key not in done or (once and key in seen):
                return False
            seen.add(key)
            return True

        if _filter_table(path, keep) == 0 and name in OPTIONAL:
            path.unlink()
    for name in OPTIONAL:  # cut to nothing (killed while its first block was written)
        if (out / name).exists() and (out / name).stat().st_size == 0:
            (out / name).unlink()
    return {(file, int(page)) for file, page in done}


class ResultWriter:
    """Collects page results into ``out``: strings.csv, digits.csv, pages.csv, errors.csv,
    fields.csv (a template's fields), flagged/, overlays/.

    With ``resume`` the CSVs already in ``out`` are recovered (see :func:`recover`) and kept;
    ``done`` holds their complete pages. Where export rewrote strings.csv or digits.csv, their
    rows go to it with the review columns (not reviewed) and to its ``*.orig.csv``."""

    def __init__(self, out: Path, resume: bool = False):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.done: set[tuple[str, int]] = recover(self.out) if resume else set()
        self._fields_checked = False
        self._exported = exported_tables(self.out) if resume else {}
        self._headers: dict[str, list[str]] = {}  # the header each table already on disk has
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
            fresh = os.fstat(fd).st_size == 0
            if not fresh:
                # A run resumed into a folder an older version wrote keeps that folder's columns
                # (a column added since is left out) rather than write rows of another width.
                if name not in self._headers:
                    self._headers[name] = _header(self.out / name) or columns
                columns = self._headers[name]
            block = csv_block(rows, columns, header=fresh)
            view = memoryview(block)
            while view:  # one write in practice; a short write (disk full) is resumed, not lost
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    def _append_table(self, name: str, rows: list[dict], columns: list[str]) -> None:
        if name not in self._exported:
            self._append(name, rows, columns)
            return
        original = self._exported[name]
        if original is not None:
            self._append(original.name, rows, columns)
        unreviewed = dict(zip(REVIEW_COLUMNS, UNREVIEWED))
        self._append(name, [{**row, **unreviewed} for row in rows], columns + REVIEW_COLUMNS)

    def _check_fields(self, result: PageResult) -> None:
        """Raise :class:`FieldsMismatch` when this page's fields.csv columns (none without a
        template) differ from those of the pages already in ``out``; checked on the first page
        read, before anything of it is written."""
        if self._fields_checked or result.error:
            return
        path = self.out / "fields.csv"
        header = _header(path) if path.exists() and path.stat().st_size else None
        columns = result.field_columns() if result.field_names else None
        if header is None and columns is not None and self.done:
            problem = "the pages already done were read without a template (they have no fields rows)"
        elif header is not None and header != columns:
            problem = "its fields.csv was written with " + ("another template" if columns else "a template or --cheque")
        else:
            self._fields_checked = True
            return
        raise FieldsMismatch(f"cannot resume in {self.out}: {problem}; resume with the same --template "
                             "or --cheque as the interrupted run, or write to a new --out")

    def add(self, result: PageResult) -> None:
        """Write one page's images, then its rows (rows last: a row never names a missing crop)."""
        self._check_fields(result)
        for relative, data in result.artifacts.items():
            write_atomic(self.out / relative, data)
        self._append_table("strings.csv", result.string_rows(), STRING_COLUMNS)
        self._append_table("digits.csv", result.digit_rows(), DIGIT_COLUMNS)
        self._append("errors.csv", result.error_rows(), ERROR_COLUMNS)
        self._append("fields.csv", result.field_rows(), result.field_columns())  # with a template only
        # pages.csv last: a page listed there is complete in every other file (resume relies on it).
        self._append("pages.csv", result.page_rows(), PAGE_COLUMNS)
