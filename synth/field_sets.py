"""Sets for field reading, with field truth: stacks of templated forms (with their templates and
blank reference images) and cheques, written with MNIST *test* digits.

Layout of ``out_dir``::

    <design>.yaml, <design>.png          the template and its blank reference, per design
    <design>/<design>_01.png ...         filled, scanned copies
    <design>/truth.csv                   string boxes (as samples/truth.csv), names relative to <design>/
    <design>/fields_truth.csv            file, page, field, text (as written), value (normalised)
    cheques/cheque_01.jpg ...            cheques, amounts in both conventions; same two CSVs
    sources.csv, ATTRIBUTION.md

Same arguments, same bytes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from synth import field_texts
from synth.attribution import write_attribution
from synth.cheque import cheque
from synth.output import save_image
from synth.scanner import scan
from synth.source import DigitSource
from synth.templated import DESIGNS, FormDesign, filled, reference_image, template_dict
from synth.truth import SOURCE_COLUMNS, TRUTH_COLUMNS, as_table, truth_rows

FIELD_TRUTH_COLUMNS = ["file", "page", "field", "text", "value"]
FORM_KIND, CHEQUE_KIND = 11, 12  # rng stream ids, apart from synth.generate's


def write_template(out_dir: Path, design: FormDesign) -> Path:
    """``<name>.yaml`` and its blank reference ``<name>.png`` in ``out_dir``; the YAML's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    save_image(out_dir / f"{design.name}.png", reference_image(design), 150)
    path = out_dir / f"{design.name}.yaml"
    header = (f"# Template of the synthetic form '{design.name}' (see samples/forms/README.md).\n"
              "# box: x, y, w, h of the printed frame as fractions of the page width and height.\n")
    path.write_text(header + yaml.safe_dump(template_dict(design, f"{design.name}.png"), sort_keys=False,
                                            default_flow_style=None), encoding="utf-8")
    return path


def _save(folder: Path, name: str, image: np.ndarray, dpi: int, rng: np.random.Generator) -> None:
    save_image(folder / name, image, dpi, int(rng.integers(75, 90)))


def form_stack(folder: Path, design: FormDesign, source: DigitSource, n: int, seed: int,
               dpis: tuple[int, ...] = (150, 200), lossless: bool = True) -> tuple[list[dict], list[dict], list[dict]]:
    """``n`` filled, scanned copies of ``design`` in ``folder``: (truth, field truth, sources)
    rows. Every other scan is a grey PNG when ``lossless``, the rest JPEG."""
    folder.mkdir(parents=True, exist_ok=True)
    truth, fields, sources = [], [], []
    design_id = sorted(DESIGNS).index(design.name) if design.name in DESIGNS else 99
    for i in range(n):
        rng = np.random.default_rng([seed, FORM_KIND, design_id, i])
        dpi = int(dpis[int(rng.integers(len(dpis)))])
        form = filled(design, source, rng, dpi)
        png = lossless and i % 2 == 0
        scanned = scan(form.page.image, rng, dpi, form.page.max_skew, grey=True if png else None)
        name = f"{design.name}_{i + 1:02d}.{'png' if png else 'jpg'}"
        _save(folder, name, scanned.image, dpi, rng)
        h, w = scanned.image.shape[:2]
        t, s = truth_rows(name, 1, form.page.strings, scanned.matrix, w, h)
        truth += t
        sources += s
        fields += [{"file": name, "page": 1, "field": k, "text": text, "value": value}
                   for k, (text, value) in form.values.items()]
    return truth, fields, sources


def cheque_stack(folder: Path, source: DigitSource, n: int, seed: int, dpi: int = 200,
                 lossless: bool = True) -> tuple[list[dict], list[dict], list[dict]]:
    """``n`` cheques in ``folder``, amounts in either convention: (truth, field truth, sources);
    every third a grey PNG when ``lossless``, the rest JPEG."""
    folder.mkdir(parents=True, exist_ok=True)
    truth, fields, sources = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, CHEQUE_KIND, i])
        page = cheque(source, rng, dpi, amounts=lambda r: field_texts.any_amount(r)[0])
        png = lossless and i % 3 == 2
        scanned = scan(page.image, rng, dpi, page.max_skew, grey=True if png else None)
        name = f"cheque_{i + 1:02d}.{'png' if png else 'jpg'}"
        _save(folder, name, scanned.image, dpi, rng)
        h, w = scanned.image.shape[:2]
        t, s = truth_rows(name, 1, page.strings, scanned.matrix, w, h)
        truth += t
        sources += s
        date, amount = page.fields.get("date", ""), page.fields.get("amount", "")
        fields += [{"file": name, "page": 1, "field": "amount", "text": amount,
                    "value": field_texts.amount_value(amount) if amount else ""},
                   {"file": name, "page": 1, "field": "date", "text": date,
                    "value": field_texts.date_value(date) if date else ""}]
    return truth, fields, sources


def _write_tables(folder: Path, truth: list[dict], fields: list[dict]) -> None:
    as_table(truth, TRUTH_COLUMNS).to_csv(folder / "truth.csv", index=False)
    pd.DataFrame(fields, columns=FIELD_TRUTH_COLUMNS).astype({"text": str, "value": str}).to_csv(
        folder / "fields_truth.csv", index=False)


def generate_field_set(out_dir: Path, mnist_dir: Path | None = None, seed: int = 0, n_forms: int = 3,
                       n_cheques: int = 4, *, digits: tuple[np.ndarray, np.ndarray] | None = None,
                       designs: tuple[str, ...] = tuple(DESIGNS), legible_only: bool = True,
                       lossless: bool = True) -> dict[str, Path]:
    """Templates, ``n_forms`` scans per design and ``n_cheques`` cheques in ``out_dir`` (layout
    in the module docstring); returns the folder of each stack (``cheques`` included).

    Digits come from the MNIST *test* split in ``mnist_dir`` or ``digits`` (test images,
    labels), as for :func:`synth.generate.generate_set`. ``lossless`` False: JPEG scans only
    (small files, for a committed sample set)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    digit_rng = np.random.default_rng([seed, 0])
    source = DigitSource.from_either(mnist_dir, digits, digit_rng, legible_only)
    folders: dict[str, Path] = {}
    sources: list[dict] = []
    for name in designs:
        design = DESIGNS[name]
        write_template(out_dir, design)
        folder = out_dir / name
        truth, fields, used = form_stack(folder, design, source, n_forms, seed, lossless=lossless)
        _write_tables(folder, truth, fields)
        sources += [{**row, "file": f"{name}/{row['file']}"} for row in used]
        folders[name] = folder
    if n_cheques:
        folder = out_dir / "cheques"
        truth, fields, used = cheque_stack(folder, source, n_cheques, seed, lossless=lossless)
        _write_tables(folder, truth, fields)
        sources += [{**row, "file": f"cheques/{row['file']}"} for row in used]
        folders["cheques"] = folder
    as_table(sources, SOURCE_COLUMNS).to_csv(out_dir / "sources.csv", index=False)
    write_attribution(out_dir / "ATTRIBUTION.md", source.used)
    return folders
