"""Accuracy of the whole pipeline on a freshly generated set of scans (a different seed from samples/).

    python benchmarks/pipeline_accuracy.py --mnist ../shared/data/mnist [--seed 1] [--out /tmp/bench]

Prints the same figures as ``cli.py evaluate`` and checks them against the targets:
string accuracy >= 97%, unflagged accuracy >= 99.5% with at most 10% of strings flagged.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir  # noqa: E402
from pipeline.evaluate import evaluate, format_report  # noqa: E402
from pipeline.options import ReadOptions, RunOptions  # noqa: E402
from pipeline.run import run  # noqa: E402
from synth.generate import generate_set  # noqa: E402

TARGETS = {"string_accuracy": 0.97, "unflagged_accuracy": 0.995}
MAX_FLAGGED = 0.10


def check(figures: dict) -> list[str]:
    misses = [f"{k} {figures[k]:.2%} < {v:.1%}" for k, v in TARGETS.items() if figures[k] < v]
    if figures["flagged_share"] > MAX_FLAGGED:
        misses.append(f"flagged_share {figures['flagged_share']:.2%} > {MAX_FLAGGED:.0%}")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/digits-bench"))
    parser.add_argument("--scale", type=int, default=3, help="multiplies the page counts of samples/")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: the shipped models/)")
    parser.add_argument("--reuse", action="store_true", help="keep the scans already generated in --out")
    parser.add_argument("--all-digits", action="store_true",
                        help="draw from every MNIST test digit, also those most of whose 5 nearest "
                             "neighbours carry another label (the default set, like samples/, skips them)")
    args = parser.parse_args()
    if args.mnist is None:
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")
        return 2
    scans = args.out / "scans"
    s = args.scale
    if not (args.reuse and (scans / "truth.csv").is_file()):
        generate_set(scans, args.mnist, seed=args.seed, n_forms=4 * s, n_cheques=3 * s, n_ledgers=3 * s,
                     n_crops=4 * s, n_pdf_pages=2 * s, n_hires=s, legible_only=not args.all_digits)
    started = time.perf_counter()
    shutil.rmtree(args.out / "results", ignore_errors=True)
    summary = run(RunOptions(inputs=[scans], out=args.out / "results", workers=args.workers, progress=False,
                             read=ReadOptions(model_dir=args.model_dir)))
    seconds = time.perf_counter() - started
    figures = evaluate(args.out / "results", scans / "truth.csv")
    print(format_report(figures))
    print(f"pages read               {summary.pages} in {seconds:.1f} s ({summary.pages / seconds:.2f} pages/s)")
    misses = check(figures)
    print("targets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
