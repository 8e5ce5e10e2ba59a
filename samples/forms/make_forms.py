"""Regenerate the field-reading samples: two form templates with stacks of filled scans, and
cheques, all with field truth, from MNIST *test* digits.

    python samples/forms/make_forms.py --mnist ../shared/data/mnist

writes samples/forms/{payment_slip,meter_card}.yaml and .png (templates and blank references),
samples/forms/{payment_slip,meter_card,cheques}/ (scans, truth.csv, fields_truth.csv),
sources.csv and ATTRIBUTION.md (same seed, same bytes).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from classifier.datasets import default_dir  # noqa: E402
from synth.field_sets import generate_field_set  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"),
                        help="folder with the MNIST IDX files (default: $DIGITS_MNIST_DIR or ../shared/data/mnist)")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: samples/forms/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--forms", type=int, default=3, help="scans per template")
    parser.add_argument("--cheques", type=int, default=4)
    args = parser.parse_args(argv)
    if args.mnist is None or not Path(args.mnist).is_dir():
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR", file=sys.stderr)
        return 2
    folders = generate_field_set(args.out, args.mnist, seed=args.seed, n_forms=args.forms,
                                 n_cheques=args.cheques, lossless=False)
    print(f"{', '.join(folders)} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
