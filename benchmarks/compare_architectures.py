"""Architectures and optimisers compared with the same small training budget.

    python benchmarks/compare_architectures.py --mnist ../shared/data/mnist [--limit 12000] [--epochs 3]

Each configuration is trained with the project's own training code (same data, seed, epochs and
augmentation), exported to LiteRT, calibrated and measured; one table is printed: parameters,
file size, MNIST test accuracy, macro F1, USPS accuracy, non-digit flag rate, training time and
batched LiteRT throughput. Models and reports go under --out (never into models/).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from classifier.datasets import default_dir, load_mnist  # noqa: E402
from classifier.runtime import DigitClassifier  # noqa: E402
from classifier.train import TrainOptions, train  # noqa: E402

CONFIGS = [("mlp", "adam"), ("cnn", "adam"), ("deep", "adam"), ("cnn", "sgd"), ("cnn", "adadelta")]


def digits_per_second(model_dir: Path, images: np.ndarray) -> float:
    classifier = DigitClassifier(model_dir)
    classifier.predict(images[:256])
    start = time.perf_counter()
    classifier.predict(images)
    return len(images) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--usps", type=Path, default=default_dir("DIGITS_USPS_DIR", "usps"))
    parser.add_argument("--limit", type=int, default=12000, help="training digits per configuration")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bn-momentum", type=float, default=0.9,
                        help="0.9: with only a few hundred steps Keras' 0.99 leaves batch norm unsettled")
    parser.add_argument("--only", nargs="*", default=None, help="e.g. cnn:adam mlp:adam")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "digits-compare")
    args = parser.parse_args()
    if args.mnist is None:
        parser.error("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")
    configs = [tuple(c.split(":")) for c in args.only] if args.only else CONFIGS

    test_images = load_mnist(args.mnist, "test")[0][:2000].astype(np.float32) / 255.0
    rows = []
    for arch, optimizer in configs:
        name = f"{arch}-{optimizer}"
        options = TrainOptions(mnist=args.mnist, usps=args.usps, arch=arch, optimizer=optimizer,
                               epochs=args.epochs, seed=args.seed, limit=args.limit,
                               nondigits=max(200, args.limit // 10), pairs=max(200, args.limit // 10), time_budget_min=0,
                               scan_sets=0,
                               bn_momentum=args.bn_momentum,
                               out=args.out / name, report=args.out / name / "report")
        m = train(options)
        rows.append((name, m["parameters"], m["size_bytes"] / 1024, m["mnist_test_accuracy"],
                     m["mnist_test_macro_f1"], m.get("usps_test_accuracy") or float("nan"),
                     m["nondigit_flag_rate"], m["training_seconds"],
                     digits_per_second(args.out / name, test_images)))

    print(f"\nSame budget for all: {args.limit} training digits + {max(200, args.limit // 10)} "
          f"non-digits, {args.epochs} epochs, seed {args.seed}, augmentation on, batch-norm momentum "
          f"{args.bn_momentum}.")
    header = ("config", "params", "KiB", "MNIST acc", "macro F1", "USPS acc", "non-digit flagged",
              "train s", "digits/s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, params, kib, acc, f1, usps, nd, seconds, speed in rows:
        print(f"| {name} | {params:,} | {kib:.0f} | {acc:.2%} | {f1:.4f} | {usps:.2%} | {nd:.2%} "
              f"| {seconds:.0f} | {speed:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
