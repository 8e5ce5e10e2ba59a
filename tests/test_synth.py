"""The synthetic scan generator: reproducible, truthful boxes, MNIST test digits only.

Uses the 200-digit fixture (first 200 MNIST test digits), so no data set is needed; skipped
only when neither the fixture nor the MNIST folder is available.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from classifier.datasets import MNIST_ATTRIBUTION, default_dir
from pipeline.results import Box
from synth import source as source_module
from synth.generate import PDF_DPI, generate_set
from synth.layout import a4
from synth.output import save_pdf
from synth.truth import TRUTH_COLUMNS, transformed_box

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_test_200.npz"
# PDF pages at 100 dpi keep the tests fast; the committed samples use the default 300 dpi.
TEST_PDF_DPI = 100
SMALL = dict(n_forms=1, n_cheques=1, n_ledgers=1, n_crops=2, n_pdf_pages=2, n_hires=0, pdf_dpi=TEST_PDF_DPI)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    if FIXTURE.exists():
        with np.load(FIXTURE) as data:
            return data["images"], data["labels"]
    if default_dir("DIGITS_MNIST_DIR", "mnist") is None:
        pytest.skip("no MNIST test digits: tests/fixtures/mnist_test_200.npz and ../shared/data/mnist are both missing")
    from tests.fixtures import load_mnist_fixture
    return load_mnist_fixture()


@pytest.fixture(scope="module")
def digits():
    return _digits()


@pytest.fixture(scope="module")
def small_set(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("synth")
    return out, generate_set(out, seed=3, digits=digits, **SMALL)


def _pages(out: Path, truth: pd.DataFrame) -> dict[tuple[str, int], np.ndarray]:
    """Every page of the set as grey pixels; PDF pages rendered at 300 dpi when poppler is here."""
    pages = {}
    for file in truth["file"].unique():
        if file.endswith(".pdf"):
            if shutil.which("pdftoppm") is None:
                continue
            subprocess.run(["pdftoppm", "-r", str(TEST_PDF_DPI), "-gray", str(out / file), str(out / "render")],
                           check=True)
            for number, path in enumerate(sorted(out.glob("render-*.pgm")), 1):
                pages[(file, number)] = np.asarray(Image.open(path).convert("L"))
        else:
            pages[(file, 1)] = np.asarray(Image.open(out / file).convert("L"))
    return pages


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path, digits):
    counts = dict(n_forms=0, n_cheques=0, n_ledgers=0, n_crops=2, n_pdf_pages=2, n_hires=0, pdf_dpi=TEST_PDF_DPI)
    first = generate_set(tmp_path / "a", seed=5, digits=digits, **counts)
    second = generate_set(tmp_path / "b", seed=5, digits=digits, **counts)
    pd.testing.assert_frame_equal(first, second)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    other = generate_set(tmp_path / "c", seed=6, digits=digits, n_forms=0, n_cheques=0, n_ledgers=0,
                         n_crops=1, n_pdf_pages=0)
    assert _hashes(tmp_path / "c")["crop_01.tif"] != _hashes(tmp_path / "a")["crop_01.tif"]
    assert not other.empty


def test_files_and_truth_table(small_set):
    out, truth = small_set
    assert list(truth.columns) == TRUTH_COLUMNS
    assert list(pd.read_csv(out / "truth.csv").columns) == TRUTH_COLUMNS
    on_disk = pd.read_csv(out / "truth.csv", dtype={"text": str}, keep_default_na=False)
    pd.testing.assert_frame_equal(on_disk, truth, check_dtype=False)
    names = set(truth["file"])
    assert {Path(n).suffix for n in names} >= {".png", ".jpg", ".tif", ".pdf"}
    assert set(truth.loc[truth["file"] == "scans.pdf", "page"]) == {1, 2}
    assert all(set(text) <= set("0123456789.,/-") and text[0].isdigit() and text[-1].isdigit()
               for text in truth["text"])
    for crop in sorted(n for n in names if n.startswith("crop_")):
        assert 40 <= Image.open(out / crop).height <= 60


def test_pdf_pages_render_back_to_the_same_pixels(small_set, tmp_path):
    out, _ = small_set
    if shutil.which("pdfinfo") is None:
        pytest.skip("poppler's pdfinfo is not installed")
    info = subprocess.run(["pdfinfo", str(out / "scans.pdf")], capture_output=True, text=True, check=True).stdout
    assert "Pages:           2" in info
    width, height = a4(TEST_PDF_DPI)
    assert f"{width * 72 / TEST_PDF_DPI:g} x {height * 72 / TEST_PDF_DPI:g} pts" in info
    # The same holds at the pipeline's 300 dpi: an A4 page of 2480 x 3508 pixels.
    save_pdf(tmp_path / "one.pdf", [np.full(a4(PDF_DPI)[::-1], 255, np.uint8)], PDF_DPI)
    info = subprocess.run(["pdfinfo", str(tmp_path / "one.pdf")], capture_output=True, text=True, check=True).stdout
    assert "595.2 x 841.92 pts" in info


def test_truth_boxes_inside_pages_and_on_ink(small_set):
    out, truth = small_set
    pages = _pages(out, truth)
    assert pages
    for (file, page), rows in truth.groupby(["file", "page"]):
        if (file, page) not in pages:
            continue
        image = pages[(file, page)]
        paper = float(np.median(image))
        for row in rows.itertuples():
            assert row.w > 0 and row.h > 0
            assert 0 <= row.x and 0 <= row.y and row.x + row.w <= image.shape[1] and row.y + row.h <= image.shape[0]
            region = image[row.y: row.y + row.h, row.x: row.x + row.w]
            assert (region < paper - 80).mean() > 0.03, (file, page, row.text)
            # The box sits on the string: ink in its left and right quarters, top and bottom thirds.
            quarter, third = max(1, row.w // 4), max(1, row.h // 3)
            for part in (region[:, :quarter], region[:, -quarter:], region[:third], region[-third:]):
                assert (part < paper - 80).mean() > 0.005, (file, page, row.text)


def test_strings_well_apart(small_set):
    """Strings side by side on a line are far apart (boxes are after skew, so a little
    taller than the digits: 1.8 box heights is more than two digit heights)."""
    _, truth = small_set
    for _, rows in truth.groupby(["file", "page"]):
        boxes = rows[["x", "y", "w", "h"]].to_numpy()
        for a in boxes:
            for b in boxes:
                shared_rows = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
                if b[0] > a[0] and shared_rows > 0.3 * min(a[3], b[3]):
                    assert b[0] - (a[0] + a[2]) > 1.8 * max(a[3], b[3])


def test_only_mnist_test_digits(small_set, digits, tmp_path, monkeypatch):
    out, truth = small_set
    images, labels = digits
    sources = pd.read_csv(out / "sources.csv", dtype={"text": str, "mnist_test_indices": str},
                          keep_default_na=False)
    assert list(sources["text"]) == list(truth["text"])
    for text, cell in zip(sources["text"], sources["mnist_test_indices"]):
        indices = [int(i) for i in cell.split()]
        assert all(0 <= i < len(images) for i in indices)
        assert "".join(str(labels[i]) for i in indices) == "".join(c for c in text if c.isdigit())
    attribution = (out / "ATTRIBUTION.md").read_text()
    assert MNIST_ATTRIBUTION in attribution and "test" in attribution
    # Loading from a folder asks for the test split and nothing else.
    splits = []

    def fake_load(folder, split="train", verify=True):
        splits.append(split)
        return images, labels

    monkeypatch.setattr(source_module, "load_mnist", fake_load)
    generate_set(tmp_path, Path("unused"), seed=1, n_forms=0, n_cheques=0, n_ledgers=0, n_crops=1, n_pdf_pages=0)
    assert splits == ["test"]


def test_transformed_box_encloses_rotated_corners():
    import cv2

    matrix = cv2.getRotationMatrix2D((50.0, 50.0), 90.0, 1.0)
    assert transformed_box(Box(40, 45, 20, 10), matrix, 100, 100) == Box(45, 40, 10, 20)
    assert transformed_box(Box(90, 90, 30, 30), np.eye(2, 3), 100, 100) == Box(90, 90, 10, 10)
