"""Regenerate the committed sample scans and their truth from MNIST *test* digits.

    python samples/make_samples.py --mnist ../shared/data/mnist

writes samples/*.png|jpg|tif|pdf, samples/truth.csv, samples/sources.csv and
samples/ATTRIBUTION.md (same seed, same bytes).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir  # noqa: E402
from synth.generate import generate_set  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"),
                        help="folder with the MNIST IDX files (default: $DIGITS_MNIST_DIR or ../shared/data/mnist)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: samples/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--forms", type=int, default=4)
    parser.add_argument("--cheques", type=int, default=3)
    parser.add_argument("--ledgers", type=int, default=3)
    parser.add_argument("--hires", type=int, default=1, help="how many of the ledgers are at 300 dpi")
    parser.add_argument("--crops", type=int, default=4)
    parser.add_argument("--pdf-pages", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mnist is None or not Path(args.mnist).is_dir():
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR", file=sys.stderr)
        return 2
    truth = generate_set(args.out, args.mnist, seed=args.seed, n_forms=args.forms, n_cheques=args.cheques,
                         n_ledgers=args.ledgers, n_crops=args.crops, n_pdf_pages=args.pdf_pages,
                         n_hires=args.hires)
    files = truth["file"].nunique()
    print(f"{len(truth)} strings on {len(truth.groupby(['file', 'page']))} pages in {files} files -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
