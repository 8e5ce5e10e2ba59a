"""The pages benchmarks/speed.py reads: A4 scans at 300 dpi (forms and ledgers, one of each in
turn) made by synth/ from MNIST *test* digits, generated once into a cache folder.

Page i depends only on the seed and i (its own random stream and its own draw of digits), so a
larger N reuses the pages already made. A page is complete once its truth file exists.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir, load_mnist  # noqa: E402
from synth.form import form  # noqa: E402
from synth.ledger import ledger  # noqa: E402
from synth.output import save_image  # noqa: E402
from synth.scanner import scan  # noqa: E402
from synth.source import DigitSource, legible_mask  # noqa: E402
from synth.truth import TRUTH_COLUMNS, truth_rows  # noqa: E402

DPI = 300
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "mnist_test_200.npz"


def default_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "digitreader" / "speed-a4-300dpi"


def page_name(index: int) -> str:
    # Forms are saved as grey PNG, ledgers as JPEG, as scanners deliver them.
    return f"page_{index:04d}.{'png' if index % 2 == 0 else 'jpg'}"


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """Legible MNIST test digits (the fixture's 200 when MNIST is not at hand)."""
    folder = default_dir("DIGITS_MNIST_DIR", "mnist")
    if folder is not None:
        images, labels = load_mnist(folder, split="test")
    else:
        print(f"MNIST not found: using the {FIXTURE.name} fixture's 200 digits", file=sys.stderr)
        data = np.load(FIXTURE)
        images, labels = data["images"], data["labels"]
    keep = legible_mask(images, labels)
    return images[keep], labels[keep]


def make_page(index: int, folder: Path, digits: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    rng = np.random.default_rng([seed, 300, index])
    source = DigitSource(digits[0], digits[1], np.random.default_rng([seed, 301, index]), legible_only=False)
    page = (form if index % 2 == 0 else ledger)(source, rng, DPI)
    scanned = scan(page.image, rng, page.dpi, page.max_skew, grey=True)
    name = page_name(index)
    tmp = folder / f".tmp_{name}"
    save_image(tmp, scanned.image, DPI, 85)
    os.replace(tmp, folder / name)
    h, w = scanned.image.shape[:2]
    truth, _ = truth_rows(name, 1, page.strings, scanned.matrix, w, h)
    frame = pd.DataFrame(truth, columns=TRUTH_COLUMNS)
    frame.to_csv(folder / "truth" / f".{name}.csv", index=False)
    os.replace(folder / "truth" / f".{name}.csv", folder / "truth" / f"{name}.csv")


def ensure_pages(n: int, cache: Path | None = None, seed: int = 0) -> tuple[Path, pd.DataFrame]:
    """(folder of pages 0..n-1 and only those, their truth table), generating what is missing."""
    cache = Path(cache or default_cache()) / f"seed{seed}"
    (cache / "truth").mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(n) if not (cache / "truth" / f"{page_name(i)}.csv").exists()]
    if missing:
        print(f"generating {len(missing)} A4 pages at {DPI} dpi into {cache} (once)...", file=sys.stderr)
        digits = _digits()
        for count, index in enumerate(missing, 1):
            make_page(index, cache, digits, seed)
            if count % 10 == 0:
                print(f"  {count}/{len(missing)}", file=sys.stderr)
    # A view holding exactly the first n pages (hard links: no copies, not deduplicated).
    view = cache / f"first{n}"
    view.mkdir(exist_ok=True)
    for i in range(n):
        target = view / page_name(i)
        if not target.exists():
            os.link(cache / page_name(i), target)
    truth = pd.concat([pd.read_csv(cache / "truth" / f"{page_name(i)}.csv", dtype={"text": str},
                                   keep_default_na=False) for i in range(n)], ignore_index=True)
    return view, truth


def cycled_view(n_pages: int, total: int, cache: Path | None = None, seed: int = 0) -> Path:
    """A folder of ``total`` hard links cycling over the first ``n_pages`` pages (memory test)."""
    folder, _ = ensure_pages(n_pages, cache, seed)
    view = folder.parent / f"cycle{n_pages}x{total}"
    view.mkdir(exist_ok=True)
    for i in range(total):
        source = folder / page_name(i % n_pages)
        target = view / f"c{i:05d}_{page_name(i % n_pages)}"
        if not target.exists():
            os.link(source, target)
    return view
