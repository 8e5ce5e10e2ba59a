"""Tesseract on the same pages, as a baseline: one single-threaded ``tesseract`` process per core
(sparse text, digits and separators only), its words scored by pipeline/evaluate.py's matching."""
from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.results import STRING_COLUMNS

WHITELIST = "0123456789.,/-"  # the digits and the separators the truth strings hold


@dataclass
class TesseractRun:
    pages: int
    wall: float
    cpu: float
    strings: pd.DataFrame  # as strings.csv: file, page, x, y, w, h, text, flagged, ...
    version: str


def available() -> bool:
    return shutil.which("tesseract") is not None


def version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def _words(path: Path) -> list[dict]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", str(path), "stdout", "--psm", "11", "-c",
                           f"tessedit_char_whitelist={WHITELIST}", "tsv"],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return []
    table = pd.read_csv(io.StringIO(done.stdout), sep="\t", quoting=3, dtype={"text": str},
                        keep_default_na=False)
    words = table[(table["level"] == 5) & (table["text"].str.strip() != "")]
    return [{"file": path.name, "page": 1, "string_id": i + 1, "x": int(r.left), "y": int(r.top),
             "w": int(r.width), "h": int(r.height), "text": r.text.strip(), "confidence": float(r.conf) / 100,
             "flagged": False, "n_digits": sum(c.isdigit() for c in r.text), "kind": "line"}
            for i, r in enumerate(words.itertuples())]


def run_tesseract(pages: list[Path], processes: int) -> TesseractRun:
    """Every page through ``processes`` concurrent tesseract processes; wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        rows = [row for words in pool.map(_words, pages) for row in words]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return TesseractRun(len(pages), wall, cpu, pd.DataFrame(rows, columns=STRING_COLUMNS), version())
