"""After fitting: calibrate on validation, choose the threshold, export to LiteRT, write the card,
measure the exported file on the evaluation sets, and write the run's report."""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from classifier import card as model_card
from classifier import reports
from classifier.calibration import choose_threshold, error_reject_curve, expected_calibration_error, fit_temperature, softmax
from classifier.datasets import load_mnist, mnist_checksums
from classifier.evaluate import LABELS, evaluate_all
from classifier.export import FORMATS, RELEASE_QUANTIZED, to_tflite
from classifier.fit import TrainData
from classifier.runtime import CARD_FILE, MODEL_FILE, DigitClassifier, sha256sum

KERAS_FILE = "model.keras"  # the same weights for further training
TARGET_ERROR = 0.001   # accepted-digit error aimed for on validation
MAX_REJECT = 0.015     # flag at most this share of validation digits (margin under the 2% goal)
SUMMARIES = {
    "mlp": "dense 512-256 with dropout",
    "cnn": "conv32-conv32-pool-conv64-conv64-pool-dense128 (3x3 valid convs, batch norm, dropout)",
    "deep": "2x(conv-conv-strided conv5) 32/64 + conv128, batch norm, dropout",
}


def _calibrate(model: keras.Model, data: TrainData) -> dict:
    logits = model.predict(data.x_val, batch_size=512, verbose=0)
    temperature = fit_temperature(logits, data.y_val)
    before, after = softmax(logits), softmax(logits, temperature)
    digits = slice(0, data.val_digits)
    threshold = choose_threshold(after[digits], data.y_val[digits], TARGET_ERROR, MAX_REJECT)
    curve = error_reject_curve(after[digits], data.y_val[digits])
    k = int(np.argmin(np.abs(curve["threshold"] - threshold)))
    return {"temperature": temperature, "threshold": threshold, "val_curve": curve,
            "ece_val_before": expected_calibration_error(before, data.y_val),
            "ece_val_after": expected_calibration_error(after, data.y_val),
            "val_reject": float(curve["reject"][k]), "val_error": float(curve["error"][k])}


def _threshold_reason(cal: dict) -> str:
    return (f"Chosen on the validation digits (last MNIST training images; never the test set) from "
            f"the error-reject curve: the lowest threshold at which the error among accepted digits "
            f"is at most {100 * TARGET_ERROR:.1f}%, provided no more than {100 * MAX_REJECT:.1f}% of "
            f"digits are flagged; if both cannot hold the reject budget wins; never below 0.5. The "
            f"goal is about 0.1% silent errors with at most 2% of genuine digits sent to review; the "
            f"1.5% budget on validation leaves margin for unseen handwriting. On validation this "
            f"threshold flags {100 * cal['val_reject']:.2f}% of digits and leaves "
            f"{100 * cal['val_error']:.3f}% errors among the accepted ones. Non-digit marks are "
            f"flagged by the '?' class whatever the threshold. Raise it for fewer silent errors at "
            f"the cost of more review (see error_reject.png in the training report).")


def _atomic_write(path: Path, write) -> None:
    # Other processes load models/ while we train: write aside, then rename into place. The
    # temporary name keeps the suffix (Keras picks the file format from it).
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    write(tmp)
    os.replace(tmp, path)


def training_record(options, histories: list[dict], seconds: float, cpu_seconds: float,
                    command: str, machine: str, schedule_ends: list[int]) -> dict:
    """The card's ``training`` section for a model fitted in this run; ``schedule_ends``: the
    epoch each member's learning-rate schedule ended at (earlier than ``options.epochs`` when
    the time budget shortened it)."""
    one = len(histories) == 1
    return {
        "command": command, "machine": machine, "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1), "seed": options.seed, "epochs": options.epochs,
        "epochs_run": len(histories[0]["loss"]) if one else [len(h["loss"]) for h in histories],
        "schedule_epochs": schedule_ends[0] if one else schedule_ends,
        "optimizer": options.optimizer, "batch_size": options.batch_size,
        "ensemble": options.ensemble, "validation_size": options.validation_size,
        "nondigit_train": options.nondigits, "pair_train": options.pairs, "augment": options.augment,
        "options": {k: str(v) for k, v in asdict(options).items()},
        "history": histories,
    }


def previous_training(cards: list[dict], command: str) -> dict:
    """The ``training`` section for models fitted earlier (``--from-keras``): the original
    run's record (members listed for an ensemble), plus the command that released it now."""
    records = [c.get("training", {}) for c in cards]
    if len(records) == 1:
        return {**records[0], "release_command": command}
    first = records[0]
    return {**first, "command": " ; ".join(r.get("command", "?") for r in records),
            "seconds": sum(r.get("seconds", 0) for r in records),
            "cpu_seconds": sum(r.get("cpu_seconds", 0) for r in records),
            "epochs_run": [r.get("epochs_run") for r in records], "ensemble": len(records),
            "member_architectures": [r.get("options", {}).get("arch", "?") for r in records],
            "history": [h for r in records for h in r.get("history", [])],
            "release_command": command}


def _members_text(archs: list[str] | None, members: int, arch: str) -> str:
    """'9 x deep', or '7 x deep + 2 x cnn' for an ensemble of runs of several architectures."""
    if not archs:
        return f"{members} x {arch}"
    counts = {a: archs.count(a) for a in dict.fromkeys(archs)}
    return " + ".join(f"{n} x {a}" for a, n in counts.items())


def finish(options, data: TrainData, model: keras.Model, training: dict, report: Path) -> dict:
    """Calibrate, export, evaluate and report; returns the metrics dictionary. ``training``
    is the card's record of how the model was fitted (see :func:`training_record`)."""
    histories = training.get("history", [])
    report.mkdir(parents=True, exist_ok=True)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    cal = _calibrate(model, data)
    model.save(report / "model.keras")
    # Shipped beside the LiteRT file so ``train --corrections`` can fine-tune it.
    _atomic_write(out / KERAS_FILE, model.save)
    model_path = out / MODEL_FILE
    _atomic_write(model_path, lambda p: to_tflite(model, p, quantize=RELEASE_QUANTIZED))
    members = training.get("ensemble", 1)
    arch = training.get("options", {}).get("arch", options.arch)
    card = {
        "model_file": MODEL_FILE,
        "sha256": sha256sum(model_path),
        "keras_file": KERAS_FILE,
        "keras_sha256": sha256sum(out / KERAS_FILE),
        "size_bytes": model_path.stat().st_size,
        "format": f"{FORMATS[RELEASE_QUANTIZED]}; input 'image' (N, 28, 28) float32 in [0, 1] "
                  "ink-bright (segmentation.normalize.to_mnist); output logits (N, 11)",
        "labels": list(LABELS),
        "output": "logits",
        "temperature": cal["temperature"],
        "threshold": cal["threshold"],
        "threshold_reason": _threshold_reason(cal),
        "architecture": (arch if members <= 1 else _members_text(training.get("member_architectures"), members, arch)) + (
            f", each read as is and rotated by +-{training['rotated_views']:g} degrees (logits averaged)"
            if training.get("rotated_views") else ""),
        "architecture_summary": SUMMARIES.get(arch, arch),
        "parameters": int(model.count_params()),
        "training": {k: v for k, v in training.items() if k != "history"},
        "data_md5": mnist_checksums(options.mnist),
    }
    _atomic_write(out / CARD_FILE, lambda p: p.write_text("{}"))  # placeholder, replaced below
    model_card.write_json(card, out)

    classifier = DigitClassifier(out)  # measure the exported file, not the Keras model
    results = evaluate_all(classifier.predict, cal["threshold"], options.mnist, options.usps)
    test_images, test_labels = load_mnist(options.mnist, "test")
    test_images = test_images.astype(np.float32) / 255.0
    test_logits = classifier.logits(test_images)
    metrics = {
        "mnist_test_accuracy": results["mnist_test"]["accuracy"],
        "mnist_test_accuracy_all_classes": results["mnist_test"]["accuracy_all_classes"],
        "mnist_test_answered_not_digit": results["mnist_test"]["rejected_as_not_digit"],
        "mnist_test_macro_f1": results["mnist_test"]["macro_f1"],
        "mnist_test_flag_rate": results["mnist_test"]["flag_rate"],
        "usps_test_accuracy": results.get("usps_test", {}).get("accuracy"),
        "usps_test_accuracy_all_classes": results.get("usps_test", {}).get("accuracy_all_classes"),
        "usps_test_answered_not_digit": results.get("usps_test", {}).get("rejected_as_not_digit"),
        "usps_test_flag_rate": results.get("usps_test", {}).get("flag_rate"),
        "nondigit_flag_rate": results["nondigit_heldout"]["flag_rate"],
        "nondigit_predicted_not_digit": results["nondigit_heldout"]["predicted_not_digit"],
        "pair_flag_rate": results["pairs_heldout"]["flag_rate"],
        "ece_test_before": expected_calibration_error(softmax(test_logits), test_labels),
        "ece_test_after": expected_calibration_error(softmax(test_logits, cal["temperature"]), test_labels),
        "ece_val_before": cal["ece_val_before"],
        "ece_val_after": cal["ece_val_after"],
    }
    card["metrics"] = metrics
    model_card.write_json(card, out)
    model_card.write_markdown(card, out)

    full = {**metrics, "temperature": cal["temperature"], "threshold": cal["threshold"],
            "training_seconds": training.get("seconds"),
            "training_cpu_seconds": training.get("cpu_seconds"), "parameters": card["parameters"],
            "size_bytes": card["size_bytes"], "per_class": results["mnist_test"]["per_class"],
            "confusion": results["mnist_test"]["confusion"], "history": histories,
            "usps_per_class": results.get("usps_test", {}).get("per_class"),
            "options": card["training"].get("options"), "sha256": card["sha256"]}
    reports.write_metrics(full, report)
    model_card.write_json(card, report)
    probs = results["_mnist_probs"]
    reports.confusion_png(np.array(results["mnist_test"]["confusion"]), report / "confusion_matrix.png")
    if histories:
        reports.curves_png(histories, report / "training_curves.png")
    reports.misclassified_png(test_images, test_labels, probs, report / "misclassified.png")
    reports.error_reject_png({"validation": cal["val_curve"],
                              "MNIST test": error_reject_curve(probs, test_labels)},
                             cal["threshold"], report / "error_reject.png")
    return full
