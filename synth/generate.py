"""A set of synthetic scans with ground truth: forms, cheques, ledgers, field crops and one
multi-page PDF, all written with MNIST *test* digits, plus truth.csv, sources.csv and
ATTRIBUTION.md."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from synth.attribution import write_attribution
from synth.cheque import cheque
from synth.crop import field_crop
from synth.form import form
from synth.layout import Page
from synth.ledger import ledger
from synth.output import save_image, save_pdf
from synth.scanner import scan
from synth.source import DigitSource
from synth.truth import SOURCE_COLUMNS, TRUTH_COLUMNS, as_table, truth_rows

PDF_DPI = 300  # the pipeline renders PDF pages at 300 dpi; PDF truth is in those pixels
PDF_NAME = "scans.pdf"


def _rng(seed: int, kind: int, index: int) -> np.random.Generator:
    """An independent stream per page, so a page's look depends only on the seed and its place."""
    return np.random.default_rng([seed, kind, index])


def _build(make: Callable[..., Page], source: DigitSource, rng: np.random.Generator, dpi: int,
           grey: bool | None = None):
    """(page, scan image, truth rows maker) of one page of kind ``make``; ``grey`` forces the
    scan mode (None: chosen at random)."""
    page = make(source, rng, dpi)
    scanned = scan(page.image, rng, page.dpi, page.max_skew, grey=grey)
    image, offset = scanned.image, (0, 0)
    if page.window is not None:
        w = page.window
        image, offset = image[w.y: w.bottom, w.x: w.right].copy(), (w.x, w.y)
    h, w = image.shape[:2]
    return page, image, lambda file, number: truth_rows(file, number, page.strings, scanned.matrix, w, h, offset)


def generate_set(out_dir: Path, mnist_dir: Path | None = None, seed: int = 0, n_forms: int = 4,
                 n_cheques: int = 3, n_ledgers: int = 3, n_crops: int = 4, n_pdf_pages: int = 3, *,
                 digits: tuple[np.ndarray, np.ndarray] | None = None, n_hires: int = 1,
                 legible_only: bool = True, pdf_dpi: int = PDF_DPI) -> pd.DataFrame:
    """Write a synthetic scan set into ``out_dir`` and return its truth table.

    Digits come from the MNIST *test* split in ``mnist_dir`` or, for tests, from ``digits`` =
    (images (N, 28, 28) uint8, labels (N,)) which must themselves be test digits. Forms are A4
    at 150 or 200 dpi, the first ``n_hires`` ledgers at 300 dpi, cheques at 200 dpi, field crops
    40-60 px tall, and ``n_pdf_pages`` pages (forms and ledgers) go into one PDF at ``pdf_dpi``
    (keep the default 300, the dpi the pipeline renders PDFs at: PDF truth is in those pixels).
    Files: ``truth.csv`` (file, page, x, y, w, h, text: boxes in scan pixels, after skew),
    ``sources.csv`` (the MNIST test indices of each string) and ``ATTRIBUTION.md``.
    Same arguments, same bytes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digit_rng = np.random.default_rng([seed, 0])
    source = DigitSource.from_either(mnist_dir, digits, digit_rng, legible_only)

    truth: list[dict] = []
    sources: list[dict] = []

    def single(name: str, make, kind: int, index: int, dpi_choices: tuple[int, ...], quality=(75, 90)):
        rng = _rng(seed, kind, index)
        dpi = int(dpi_choices[int(rng.integers(len(dpi_choices)))])
        # Lossless pages are grey scans: a noisy colour PNG of an A4 page is several MB.
        grey = True if name.endswith(("png", "tif")) and make is not field_crop else None
        page, image, rows = _build(make, source, rng, dpi, grey)
        save_image(out_dir / name, image, page.dpi, int(rng.integers(*quality)))
        t, s = rows(name, 1)
        truth.extend(t)
        sources.extend(s)

    for i in range(n_forms):
        single(f"form_{i + 1:02d}.{'png' if i % 2 == 0 else 'jpg'}", form, 1, i, (150, 200))
    for i in range(n_cheques):
        single(f"cheque_{i + 1:02d}.{'jpg' if i % 3 < 2 else 'png'}", cheque, 2, i, (200,))
    for i in range(n_ledgers):
        hires = i < n_hires
        single(f"ledger_{i + 1:02d}.{'jpg' if hires or i % 2 else 'png'}", ledger, 3, i,
               (300,) if hires else (150, 200), (70, 80) if hires else (75, 90))
    for i in range(n_crops):
        single(f"crop_{i + 1:02d}.{'tif' if i % 2 == 0 else 'png'}", field_crop, 4, i, (200,))
    if n_pdf_pages:
        pages = []
        for i in range(n_pdf_pages):
            rng = _rng(seed, 5, i)
            _, image, rows = _build(form if i % 2 == 0 else ledger, source, rng, pdf_dpi)
            pages.append(image)
            t, s = rows(PDF_NAME, i + 1)
            truth.extend(t)
            sources.extend(s)
        save_pdf(out_dir / PDF_NAME, pages, pdf_dpi)

    table = as_table(truth, TRUTH_COLUMNS)
    table.to_csv(out_dir / "truth.csv", index=False)
    source_table = as_table(sources, SOURCE_COLUMNS)
    source_table.to_csv(out_dir / "sources.csv", index=False)
    used = sorted({int(i) for cell in source_table["mnist_test_indices"] for i in str(cell).split()})
    write_attribution(out_dir / "ATTRIBUTION.md", used)
    return table
