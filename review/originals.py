"""The pipeline's own rows of ``strings.csv`` / ``digits.csv``, whatever export did to them.

Export keeps the pipeline's file as ``*.orig.csv`` and rewrites ``*.csv`` with the review columns.
A later ``run --resume`` into the folder keeps that exported file and appends the new pages' rows
to it *without* the review columns. Reading only ``*.orig.csv`` then would hide those pages from
the review and drop them from the next export, while pages.csv says they are done (so no
resume reads them again). Here such appended rows (one field per original column, fewer than the
exported header) are recognised and merged into the originals.
"""
from __future__ import annotations

import csv
from pathlib import Path

from review.data import REVIEW_COLUMNS, is_exported, orig_path, read_rows


def _page(row: dict[str, str]) -> tuple[str, str]:
    return (row.get("file", ""), row.get("page", ""))


def appended_rows(path: Path, columns: list[str]) -> tuple[list[dict[str, str]], set[tuple[str, str]]]:
    """Rows the pipeline appended to the exported ``path`` (as dicts over the original
    ``columns``), and the pages of the rows export wrote (those still kept by a resume)."""
    appended, exported = [], set()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if header[len(columns):] != [c for c in REVIEW_COLUMNS if c not in columns] \
                or header[:len(columns)] != columns:
            return [], set()  # not the layout export writes: leave it alone
        for values in reader:
            if len(values) == len(header):
                exported.add((values[0], values[1]))
            elif len(values) == len(columns):
                appended.append(dict(zip(columns, values)))
    return appended, exported


def pipeline_rows(path: Path) -> tuple[list[str], list[dict[str, str]], bool]:
    """(columns, rows, merged) of the pipeline's output for ``path`` (e.g. results/digits.csv):
    the file itself when the pipeline wrote it last, else ``*.orig.csv`` with the rows appended
    by a resumed run since the export (``merged`` True when there were such rows)."""
    original = orig_path(path)
    if not is_exported(path):
        return (*read_rows(path if path.is_file() else original), False)
    columns, rows = read_rows(original)
    if not columns:
        return columns, rows, False
    appended, exported = appended_rows(path, columns)
    if not appended:
        return columns, rows, False
    # A resume drops a page's rows unless pages.csv lists it, then reads it again: keep the
    # original rows of pages still in the exported file, and none of the pages read again.
    fresh = {_page(r) for r in appended}
    kept = [r for r in rows if _page(r) in exported and _page(r) not in fresh]
    return columns, kept + appended, True
