"""Long fuzz run of the page stages: random arrays and damaged files, seeded and reproducible.

    python benchmarks/fuzz.py                          # 10,000 cases, seed 0 (a few minutes)
    python benchmarks/fuzz.py --cases 40000 --seed 7
    python benchmarks/fuzz.py --only files             # one property: preprocess, segment, mnist, files
    python benchmarks/fuzz.py --case files:1234        # rerun one case (as printed for a failure)

The properties are those of tests/test_properties.py (its ``check_*`` functions, imported here):

- preprocess: random arrays of every dtype (uint8, uint16, float32, float64, bool) and 0-D to
  3-D shape, and 2-D uint8 pages of every style (blank, black, grey, noise, specks, ruled,
  digits), shape (empty, 1 x 1, 1 x 3000) and memory layout -> a valid result, or ValueError for
  what is not a 2-D uint8 page.
- segment: random masks (noise of any density, blobs, strings of touching MNIST digits, full,
  empty; bool or not) with score=None or a fake scorer -> boxes inside the mask, masks of their
  boxes' shape holding only ink, 28 x 28 crops in [0, 1].
- mnist: to_mnist of random arrays of every dtype and shape, NaN and infinities included ->
  (28, 28) float32 in [0, 1], or ValueError when not 2-D.
- files: byte-mutated valid PNG / JPEG / TIFF / BMP / PDF files (bit flips, overwritten runs,
  header fields set to extremes, truncation, deleted / duplicated / inserted spans; PNG chunk
  CRCs recomputed most of the time so the damage reaches the decoder) -> pipeline.load.iter_pages
  yields 2-D uint8 pages within the limits or raises InputError, nothing else.

Case ``i`` of property ``p`` draws everything from ``numpy.random.default_rng([seed, p, i])``,
so any case reruns alone with ``--case p:i``. Prints the cases run per property, the time, the
slowest case of each, the warnings seen, and every distinct failure (exception type and where
it was raised) with the first case that showed it. Exit status 1 when anything failed.
"""
from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from pipeline.load import Limits  # noqa: E402
from pipeline.preprocess import METHODS  # noqa: E402
from tests.test_properties import (FakePairs, FakeScore, PAGE_STYLES, check_iter_pages,  # noqa: E402
                                   check_preprocess, check_segment, check_to_mnist, mutate,
                                   page_of, seed_images)

PROPERTIES = ("preprocess", "segment", "mnist", "files")
DTYPES = (np.uint8, np.uint16, np.float32, np.float64, np.bool_)
SLOW_S = 10.0  # a case slower than this counts as a failure (a hostile input must not stall a run)
FILE_LIMITS = Limits(max_pixels=4_000_000, max_pages=20, max_bytes=8 * 2**20)


# --------------------------------------------------------------------------- case generators

def random_array(rng: np.random.Generator, max_side: int = 48) -> np.ndarray:
    """Any dtype of DTYPES, 0-D to 3-D (2-D most often), sides 0..max_side or a long thin
    strip; values uniform over the dtype, constant extremes, or sparse; floats with NaN/inf."""
    dtype = np.dtype(DTYPES[int(rng.integers(0, len(DTYPES)))])
    ndim = int(rng.choice([0, 1, 2, 2, 2, 3]))
    shape = tuple(int(rng.choice([0, 1, 2, 3, int(rng.integers(4, max_side + 1))]))
                  for _ in range(ndim))
    if ndim == 2 and rng.random() < 0.15:
        shape = (int(rng.integers(1, 4)), int(rng.integers(100, 3000)))[::int(rng.choice([1, -1]))]
    style = rng.integers(0, 4)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < rng.choice([0.0, 0.05, 0.5, 1.0]))
    if dtype.kind == "u":
        top = np.iinfo(dtype).max
        if style == 0:
            return np.full(shape, rng.choice([0, top]), dtype)
        array = np.asarray(rng.integers(0, top, shape, dtype=dtype, endpoint=True))
        if style == 1:
            array[rng.random(shape) < 0.9] = top
        return array
    scale = float(rng.choice([1.0, 255.0, 65535.0, 1e30]))
    array = np.asarray(rng.standard_normal(shape) * scale).astype(dtype)
    if style == 0:
        array = np.full(shape, rng.choice([0.0, 1.0, -1.0, np.nan, np.inf, -np.inf]), dtype)
    elif style == 1 and array.size:
        specials = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0], dtype)
        spots = rng.random(shape) < 0.2
        array[spots] = rng.choice(specials, int(spots.sum()))
    return array


def random_page(rng: np.random.Generator) -> np.ndarray:
    """A 2-D uint8 page of a random style, sometimes degenerate in shape or memory layout."""
    style = PAGE_STYLES[int(rng.integers(0, len(PAGE_STYLES)))]
    roll = rng.random()
    if roll < 0.1:
        shape = (int(rng.integers(0, 4)), int(rng.integers(0, 4)))
    elif roll < 0.2:
        shape = (int(rng.integers(1, 4)), int(rng.integers(100, 3000)))[::int(rng.choice([1, -1]))]
    else:
        shape = (int(rng.integers(4, 400)), int(rng.integers(4, 500)))
    page = page_of(style, shape, int(rng.integers(0, 2**32)))
    view = rng.integers(0, 6)
    if view == 1:
        page = page.T
    elif view == 2:
        page = page[::-1, ::-1]
    elif view == 3:
        page = page[::2, ::3]
    elif view == 4:
        page.flags.writeable = False
    return page


def random_mask(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(0, 6))
    shape = (int(rng.integers(1, 160)), int(rng.integers(1, 400)))
    if kind == 0:  # noise: dense noise is the slow case of segmentation, so it stays smaller
        shape = (min(shape[0], 80), min(shape[1], 200))
        mask = rng.random(shape) < rng.choice([0.01, 0.05, 0.2, 0.5, 0.9])
    elif kind in (1, 2):
        mask = page_of("digits", shape, int(rng.integers(0, 2**32))) < 128
    elif kind == 3:
        mask = np.zeros(shape, bool)
        for _ in range(int(rng.integers(1, 15))):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            mask[y: y + int(rng.integers(1, 60)), x: x + int(rng.integers(1, 60))] = True
    elif kind == 4:  # lines and strokes
        mask = np.zeros(shape, bool)
        for _ in range(int(rng.integers(1, 8))):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            if rng.random() < 0.5:
                mask[y: y + int(rng.integers(1, 4)), x:] = True
            else:
                mask[y:, x: x + int(rng.integers(1, 4))] = True
    else:
        mask = np.full(shape, rng.random() < 0.5)
    dtype = [np.bool_, np.bool_, np.uint8, np.float32][int(rng.integers(0, 4))]
    return mask.astype(dtype)


def seed_files() -> dict[str, bytes]:
    """The raster seeds of tests/test_properties.py plus PDFs (a hand-written one and a
    two-page one written by Pillow)."""
    files = dict(seed_images())
    body = b"q 20 0 0 20 5 5 cm 0 g 0 0 1 1 re f Q"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 60 40] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body)]
    out, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    files["hand.pdf"] = out
    buffer = io.BytesIO()
    grey = Image.new("L", (40, 30), 255)
    grey.paste(0, (10, 5, 14, 25))
    grey.save(buffer, format="PDF", save_all=True, append_images=[grey.rotate(90)], resolution=72)
    files["pillow.pdf"] = buffer.getvalue()
    return files


# --------------------------------------------------------------------------- one case

def run_case(prop: str, index: int, seed: int, files: dict[str, bytes], workdir: Path,
             note: list[str], keep: bool = False) -> str:
    """Run case ``index`` of ``prop``; a short description of the input is appended to ``note``
    before the check runs (so a failure can say what failed) and returned."""
    rng = np.random.default_rng([seed, PROPERTIES.index(prop), index])
    if prop == "preprocess":
        array = random_page(rng) if rng.random() < 0.6 else random_array(rng)
        method = METHODS[int(rng.integers(0, len(METHODS)))]
        deskew, lines = bool(rng.random() < 0.7), bool(rng.random() < 0.8)
        note.append(f"{array.dtype} {array.shape} {method} deskew={deskew} remove_lines={lines}")
        outcome = check_preprocess(array, method, deskew, lines)
        note.append("processed" if outcome is not None else "ValueError")
        return note[-2]
    if prop == "segment":
        mask = random_mask(rng) if rng.random() < 0.8 else random_array(rng)
        columns = [None, 10, 11][int(rng.integers(0, 3))]
        note.append(f"{mask.dtype} {mask.shape} score={'None' if columns is None else columns}")
        outcome = check_segment(mask, None if columns is None else FakeScore(columns),
                                FakePairs() if columns == 11 else None)
        note.append("segmented" if outcome is not None else "ValueError")
        return note[-2]
    if prop == "mnist":
        array = random_array(rng, max_side=64)
        note.append(f"{array.dtype} {array.shape}")
        outcome = check_to_mnist(array)
        note.append("normalised" if outcome is not None else "ValueError")
        return note[-2]
    names = sorted(files)
    # PDFs cost a poppler process or two per case: one case in six is a PDF.
    pdfs = [n for n in names if n.endswith(".pdf")]
    rasters = [n for n in names if not n.endswith(".pdf")]
    name = pdfs[int(rng.integers(0, len(pdfs)))] if rng.random() < 1 / 6 else \
        rasters[int(rng.integers(0, len(rasters)))]
    data = mutate(files[name], rng)
    suffix = Path(name).suffix if rng.random() < 0.9 else [".png", ".jpg", ".tif", ".pdf"][int(rng.integers(0, 4))]
    path = workdir / f"case{index}{suffix}"
    path.write_bytes(data)
    dpi = int(rng.choice([30, 72, 150]))
    note.append(f"mutated {name} saved as {path.name} ({len(data)} bytes), dpi {dpi}")
    try:
        shapes, error = check_iter_pages(path, dpi=dpi, limits=FILE_LIMITS)
    finally:
        if not keep:
            path.unlink()
    note.append("InputError" if error and not shapes else "InputError after a page" if error
                else "read")
    return note[-2] + (f": InputError: {error}" if error else f": {len(shapes)} page(s)")


def where(error: BaseException) -> str:
    """The innermost frame of the project's code where ``error`` came from."""
    frames = traceback.extract_tb(error.__traceback__)
    root = str(Path(__file__).resolve().parents[1])
    ours = [f for f in frames if f.filename.startswith(root) and "/tests/" not in f.filename]
    frame = (ours or frames)[-1]
    return f"{Path(frame.filename).name}:{frame.lineno} ({frame.name})"


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases in all, split evenly (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=PROPERTIES, action="append", help="property to fuzz (repeatable)")
    parser.add_argument("--case", help="rerun one case, PROPERTY:INDEX, and show its traceback")
    args = parser.parse_args(argv)

    files = seed_files()
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-"))
    if args.case:  # one case, in the open: its traceback shows; a damaged file is kept
        prop, index = args.case.split(":")
        note: list[str] = []
        try:
            print(run_case(prop, int(index), args.seed, files, workdir, note, keep=True))
        finally:
            print(f"case {args.case}: {note[0] if note else '?'} (files kept in {workdir})")
        print("passed")
        return 0

    props = args.only or list(PROPERTIES)
    per = -(-args.cases // len(props))
    ran: Counter[str] = Counter()
    failures: dict[tuple[str, str, str], tuple[int, str, str]] = {}
    failed_cases: Counter[str] = Counter()
    slowest: dict[str, tuple[float, int, str]] = {}
    seen_warnings: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {prop: Counter() for prop in PROPERTIES}
    started = time.perf_counter()
    for prop in props:
        prop_started = time.perf_counter()
        for index in range(per):
            t0 = time.perf_counter()
            note: list[str] = []
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    run_case(prop, index, args.seed, files, workdir, note)
                    problem = None
                except Exception as error:  # noqa: BLE001 - that is what we are looking for
                    problem = (type(error).__name__, where(error), str(error).splitlines()[0][:200]
                               if str(error) else "")
            elapsed = time.perf_counter() - t0
            description = note[0] if note else ""
            if problem is None:
                outcomes[prop][note[-1]] += 1
            for w in caught:
                seen_warnings[f"{prop}: {w.category.__name__}: {str(w.message)[:80]}"] += 1
            if problem is None and elapsed > SLOW_S:
                problem = ("Slow", f"{elapsed:.1f} s", description)
            ran[prop] += 1
            if problem:
                failed_cases[prop] += 1
                key = (prop, problem[0], problem[1])
                failures.setdefault(key, (index, problem[2], description))
            if elapsed > slowest.get(prop, (0.0,))[0]:
                slowest[prop] = (elapsed, index, description)
        print(f"{prop:>10}: {ran[prop]:6d} cases, {failed_cases[prop]:4d} failed, "
              f"{time.perf_counter() - prop_started:7.1f} s; slowest {slowest[prop][0]:.2f} s "
              f"(case {prop}:{slowest[prop][1]}: {slowest[prop][2][:80]})", flush=True)
        print(" " * 12 + ", ".join(f"{n} {what}" for what, n in outcomes[prop].most_common()))
    shutil.rmtree(workdir, ignore_errors=True)
    total = sum(ran.values())
    print(f"{'total':>10}: {total:6d} cases, {sum(failed_cases.values()):4d} failed, "
          f"{time.perf_counter() - started:7.1f} s (seed {args.seed})")
    if seen_warnings:
        print(f"warnings ({sum(seen_warnings.values())}):")
        for text, count in seen_warnings.most_common(12):
            print(f"  {count:5d}  {text}")
    if failures:
        print(f"distinct failures ({len(failures)}):")
        for (prop, kind, place), (index, message, description) in sorted(failures.items()):
            print(f"  {prop}: {kind} at {place}: {message}\n      first case {prop}:{index} "
                  f"({description or 'input not described: it failed while being checked'}); "
                  f"rerun: python benchmarks/fuzz.py --seed {args.seed} --case {prop}:{index}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
