"""Apply review decisions to ``strings.csv`` and ``digits.csv``.

The first export keeps the pipeline's files as ``*.orig.csv``; every export starts from those, so
exporting again (after more decisions, or twice) gives the same result for the same decisions.
Files are replaced atomically (temporary file in the same folder, then ``os.replace``).

Digits: a reviewed digit gets the decision as ``digit``, confidence 1.0, ``flagged`` False,
``reviewed`` True and ``corrected_from`` = the model's reading when it changed. ``index`` stays
the position in the *original* text (it is the digit's key). Strings: text with corrections
applied and digits marked "not a digit" ('?') removed; confidence (min over remaining digits),
``flagged`` and ``n_digits`` recomputed; ``reviewed`` True when any digit was reviewed and
``corrected_from`` = the original text when it changed. The string's box is left unchanged.

Decisions are matched to digits by their recorded box (review.identity), not by key alone: after
a re-run a key may name another digit. Decisions that match no digit are *stale*: counted and
listed in the summary, never applied.
"""
from __future__ import annotations

import csv
import os
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from review.data import (DIGITS, REVIEW_COLUMNS, STRINGS, DigitKey, digit_key, is_exported,
                         orig_path, parse_bool, parse_float, read_rows, string_key)
from review.identity import resolve
from review.originals import pipeline_rows
from review.store import DecisionStore, Latest, dataset_id, default_db_url

NOT_A_DIGIT = "?"
_lock = threading.Lock()  # one export at a time per process


class ExportError(Exception):
    """The results folder cannot be exported (plain-language reason)."""


@dataclass
class ExportSummary:
    decisions: int = 0  # decisions applied
    corrected: int = 0  # digits whose reading changed
    removed: int = 0  # digits marked "not a digit"
    strings_changed: int = 0
    stale: int = 0  # decisions whose digit is no longer in digits.csv (not applied)
    moved: int = 0  # applied to a digit whose key changed since (the pipeline ran again)
    mismatched: int = 0  # text position of a digit did not hold that digit (CSV inconsistency)
    stale_decisions: list[dict] = field(default_factory=list)  # what the stale ones were

    def as_json(self) -> dict:
        return asdict(self)


def _fmt_bool(value: bool) -> str:
    return "True" if value else "False"


def _fmt_conf(value: float) -> str:
    return str(round(value, 4))


def write_csv_atomic(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_atomic(source: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def keep_original(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The pipeline's columns and rows of ``path``, kept as ``*.orig.csv``: a copy of ``path``
    when it is fresh pipeline output (a re-run of the pipeline replaces an older original), the
    original plus the rows a resumed run appended to the exported file since (review.originals)."""
    original = orig_path(path)
    if path.is_file() and not is_exported(path):
        _copy_atomic(path, original)
        return read_rows(original)  # the copy: the pipeline may still be appending to ``path``
    if not original.is_file():
        raise ExportError(f"{original.name} is missing: cannot tell the pipeline's original "
                          f"{path.name} from an exported one. Re-run the pipeline.")
    columns, rows, merged = pipeline_rows(path)
    if merged:
        write_csv_atomic(original, columns, rows)
    return columns, rows


def _with_review_columns(columns: list[str]) -> list[str]:
    return columns + [c for c in REVIEW_COLUMNS if c not in columns]


def apply_digits(rows: list[dict[str, str]], decisions: dict[DigitKey, Latest],
                 summary: ExportSummary) -> None:
    for row in rows:
        try:
            latest = decisions.get(digit_key(row))
        except (KeyError, ValueError):
            latest = None
        row["reviewed"], row["corrected_from"] = _fmt_bool(latest is not None), ""
        if latest is None:
            continue
        summary.decisions += 1
        if latest.decision != row.get("digit", ""):
            row["corrected_from"] = row.get("digit", "")
            summary.corrected += 1
        summary.removed += latest.decision == NOT_A_DIGIT
        row.update(digit=latest.decision, confidence=_fmt_conf(1.0), flagged=_fmt_bool(False))


def apply_strings(rows: list[dict[str, str]], digit_rows: list[dict[str, str]],
                  summary: ExportSummary) -> None:
    by_string: dict[tuple, list[dict[str, str]]] = {}
    for row in digit_rows:
        try:
            by_string.setdefault(string_key(row), []).append(row)
        except (KeyError, ValueError):
            continue
    for row in rows:
        row["reviewed"], row["corrected_from"] = _fmt_bool(False), ""
        try:
            digits = by_string.get(string_key(row), [])
        except (KeyError, ValueError):
            continue
        reviewed = [d for d in digits if d["reviewed"] == "True"]
        if not reviewed:
            continue
        text = list(row.get("text", ""))
        for d in reviewed:
            i = int(d["index"])
            if not 0 <= i < len(text) or text[i] != (d["corrected_from"] or d["digit"]):
                summary.mismatched += 1  # text and digits.csv disagree: leave the text alone
                continue
            text[i] = "" if d["digit"] == NOT_A_DIGIT else d["digit"]
        kept = [d for d in digits if not (d["reviewed"] == "True" and d["digit"] == NOT_A_DIGIT)]
        confs = [parse_float(d.get("confidence")) for d in kept]
        new_text = "".join(text)
        if new_text != row.get("text", ""):
            row["corrected_from"] = row.get("text", "")
            summary.strings_changed += 1
        row.update(text=new_text, reviewed=_fmt_bool(True),
                   confidence=_fmt_conf(min((c for c in confs if c == c), default=0.0)),
                   flagged=_fmt_bool(any(parse_bool(d.get("flagged")) for d in kept)),
                   n_digits=str(len(kept)))


def export_results(results_dir: Path, db_url: str | None = None,
                   store: DecisionStore | None = None) -> ExportSummary:
    """Rewrite ``strings.csv`` and ``digits.csv`` of ``results_dir`` with the decisions applied."""
    results_dir = Path(results_dir)
    if not (results_dir / DIGITS).is_file() and not orig_path(results_dir / DIGITS).is_file():
        raise ExportError(f"no {DIGITS} in {results_dir}")
    own_store = store is None
    store = store or DecisionStore(db_url or default_db_url(results_dir))
    try:
        with _lock:
            summary = ExportSummary()
            digit_cols, digit_rows = keep_original(results_dir / DIGITS)
            current: dict[DigitKey, dict[str, str]] = {}
            for row in digit_rows:
                try:
                    current[digit_key(row)] = row
                except (KeyError, ValueError):
                    pass
            resolution = resolve(store.all_for(dataset_id(results_dir)), current)
            summary.stale, summary.moved = len(resolution.stale), resolution.moved
            summary.stale_decisions = [d.stale_json() for d in resolution.stale]
            apply_digits(digit_rows, resolution.applied, summary)
            string_path = results_dir / STRINGS
            if string_path.is_file() or orig_path(string_path).is_file():
                string_cols, string_rows = keep_original(string_path)
                apply_strings(string_rows, digit_rows, summary)
                write_csv_atomic(string_path, _with_review_columns(string_cols), string_rows)
            write_csv_atomic(results_dir / DIGITS, _with_review_columns(digit_cols), digit_rows)
            return summary
    finally:
        if own_store:
            store.close()
