"""Accuracy, flag rates and speed of the shipped digit classifier (LiteRT, no TensorFlow).

    python benchmarks/classifier_accuracy.py --mnist ../shared/data/mnist --usps ../shared/data/usps [--models models]

Figures: MNIST test accuracy (as distributed, and re-normalised with ``to_mnist``), USPS test
accuracy with each 16x16 digit passed through ``to_mnist`` like a scanned crop (accuracy of the
digit read, the best of the ten digits, as the pipeline writes it; a digit whose top class is '?'
is read so and flagged; the stricter top-class-of-eleven accuracy is printed too), the share of
held-out generated non-digit crops and of MNIST test digits flagged at the card's threshold,
load time and batched throughput through ``DigitClassifier``. Exit status 1 if a target is missed
(MNIST: 99.6% for one model, 99.7% for an ensemble).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from classifier.datasets import default_dir, load_mnist  # noqa: E402
from classifier.evaluate import digit_metrics, nondigit_metrics, usps_as_crops  # noqa: E402
from classifier.nondigits import HELD_OUT_SEED, generate  # noqa: E402
from classifier.runtime import DEFAULT_DIR, DigitClassifier  # noqa: E402
from segmentation.normalize import batch_to_mnist  # noqa: E402

TARGETS = {"MNIST test accuracy": (">=", 0.996), "USPS test accuracy (to_mnist)": (">=", 0.98),
           "non-digit crops flagged": (">=", 0.90), "MNIST test digits flagged": ("<=", 0.02)}
ENSEMBLE_MNIST = 0.997  # an ensemble (train --ensemble N, or several --from-keras runs) must do better


def throughput(classifier: DigitClassifier, images: np.ndarray, repeats: int = 3) -> tuple[float, float]:
    """(digits/s batched over all ``images``, milliseconds for one digit alone); best of ``repeats``."""
    classifier.predict(images[:256])  # warm up the interpreter at both batch sizes
    batched = min(_time(lambda: classifier.predict(images)) for _ in range(repeats))
    single = min(_time(lambda: classifier.predict(images[:1])) for _ in range(50))
    return len(images) / batched, 1000 * single


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--usps", type=Path, default=default_dir("DIGITS_USPS_DIR", "usps"))
    parser.add_argument("--models", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--nondigits", type=int, default=2000, help="held-out non-digit crops to generate")
    args = parser.parse_args()
    if args.mnist is None:
        parser.error("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")

    start = time.perf_counter()
    classifier = DigitClassifier(args.models)
    load_ms = 1000 * (time.perf_counter() - start)
    threshold = classifier.threshold

    images, labels = load_mnist(args.mnist, "test")
    images = images.astype(np.float32) / 255.0
    mnist = digit_metrics(classifier.predict(images), labels, threshold)
    renormalised = digit_metrics(classifier.predict(batch_to_mnist(list(images))), labels, threshold)
    nondigits = nondigit_metrics(classifier.predict(generate(args.nondigits, HELD_OUT_SEED)), threshold)
    rows = {
        "MNIST test accuracy": mnist["accuracy"],
        "MNIST test top class right of 11 ('?' wrong)": mnist["accuracy_all_classes"],
        "MNIST test macro F1": mnist["macro_f1"],
        "MNIST test accuracy, re-normalised with to_mnist": renormalised["accuracy"],
        "MNIST test digits flagged": mnist["flag_rate"],
        "non-digit crops flagged": nondigits["flag_rate"],
        "non-digit crops read as '?'": nondigits["predicted_not_digit"],
    }
    if args.usps is not None:
        crops, usps_labels = usps_as_crops(args.usps)
        usps = digit_metrics(classifier.predict(crops), usps_labels, threshold)
        rows["USPS test accuracy (to_mnist)"] = usps["accuracy"]
        rows["USPS test top class right of 11 ('?' wrong)"] = usps["accuracy_all_classes"]
        rows["USPS test digits flagged"] = usps["flag_rate"]
    per_second, single_ms = throughput(classifier, images)

    print(f"model {args.models / 'digits.tflite'} ({classifier.card['architecture']}, "
          f"sha256 {classifier.card['sha256'][:12]}...), threshold {threshold:.4f}, "
          f"temperature {classifier.temperature:.3f}")
    targets = dict(TARGETS)
    if classifier.card.get("training", {}).get("ensemble", 1) > 1:
        targets["MNIST test accuracy"] = (">=", ENSEMBLE_MNIST)
    misses = []
    for name, value in rows.items():
        target = targets.get(name)
        mark = ""
        if target:
            ok = value >= target[1] if target[0] == ">=" else value <= target[1]
            mark = f"  (target {target[0]} {target[1]:.1%}: {'ok' if ok else 'MISSED'})"
            if not ok:
                misses.append(name)
        print(f"{name:<50} {value:8.2%}{mark}")
    print(f"{'load time (model + card + sha256)':<50} {load_ms:8.1f} ms")
    print(f"{'throughput, batched':<50} {per_second:8.0f} digits/s")
    print(f"{'latency, one digit':<50} {single_ms:8.2f} ms")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
