"""The model card: ``model_card.json`` (machine readable, read by the runtime) and
``MODEL_CARD.md`` (human readable, carries the MNIST attribution)."""
from __future__ import annotations

import json
from pathlib import Path

from classifier.datasets import MNIST_ATTRIBUTION


def write_json(card: dict, folder: Path) -> Path:
    """Write ``model_card.json`` into ``folder``."""
    path = Path(folder) / "model_card.json"
    path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    return path


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _scan_text(scan: dict | None) -> str:
    if not scan:
        return ""
    pieces = f"{scan['not_a_digit']:,} " if "not_a_digit" in scan else ""  # older cards lack the count
    return (f", plus {scan['crops']:,} digits as the reading pipeline cut them from {scan['sets']} generated "
            f"sets of scans written with those training digits (labelled by the generator's truth, "
            f"{pieces}pieces of a digit the pipeline cut in two and stray marks as '?'; read "
            f"with the model `{scan['model']}`, sha256 `{str(scan.get('model_sha256'))[:12]}`, which "
            f"misread {scan['misread']:,} of them)")


def _budget_cut(training: dict) -> bool:
    """Whether the time budget shortened a single model's schedule (early stopping, which
    also ends a run before its planned epochs, does not count)."""
    end, planned = training.get("schedule_epochs"), training.get("epochs")
    return isinstance(end, int) and planned is not None and end < planned


def _finetune_lines(f: dict | None) -> list[str]:
    if not f:
        return []
    b, a = f["before"], f["after"]
    return [f"- Fine-tuned on {f['corrections_train']:,} reviewed digits from `{f['corrections']}` "
            f"({f['corrections_heldout']:,} more held out) mixed with MNIST, with `{f['command']}`: "
            f"held-out corrections {_pct(b['corrections_heldout'])} -> {_pct(a['corrections_heldout'])}, "
            f"MNIST test {_pct(b['mnist_test'])} -> {_pct(a['mnist_test'])} (Keras model, before calibration)."]


def write_markdown(card: dict, folder: Path) -> Path:
    """Write ``MODEL_CARD.md`` into ``folder`` from the same dictionary."""
    m = card.get("metrics", {})
    t = card["training"]
    lines = [
        "# Handwritten digit classifier — model card",
        "",
        f"`{card['model_file']}`: {card.get('format', 'LiteRT').split(';')[0]}; "
        f"{card['size_bytes'] / 1024:.0f} KiB, sha256 `{card['sha256']}`.",
        "",
        "## What it does",
        "Input: (N, 28, 28) float32 in [0, 1], ink bright on black, normalised with "
        "`segmentation.normalize.to_mnist`. Output: logits over "
        f"{', '.join(repr(x) for x in card['labels'])}; '?' means *not a digit*. "
        f"The runtime divides the logits by the temperature ({card['temperature']:.3f}) before "
        "the softmax, giving calibrated probabilities.",
        "",
        "## Training",
        f"- Architecture: `{card['architecture']}` — {card['architecture_summary']}; "
        f"{card['parameters']:,} parameters.",
        f"- Command: `{t['command']}`",
        *([f"- Calibrated, exported and measured again (same weights) with: `{t['release_command']}`"]
          if t.get("release_command") else []),
        f"- Optimizer {t['optimizer']}, {t['epochs_run']} epochs (max {t['epochs']}), batch "
        f"{t['batch_size']}, seed {t['seed']}, ensemble of {t['ensemble']}; training time "
        f"{t['seconds'] / 60:.1f} min wall clock, data preparation included ({t.get('cpu_seconds', 0) / 60:.1f} "
        f"min CPU summed over threads) on {t['machine']}"
        + (f"; the time budget ({float(t['options']['time_budget_min']):g} min for the whole run) shortened "
           f"the schedule to end at epoch {t['schedule_epochs']}." if _budget_cut(t) else "."),
        *([f"- Started from the weights of `{t['init']['model']}` (themselves trained with "
           f"`{t['init'].get('command', '?')}`, {t['init'].get('epochs_run', '?')} epochs); the epochs "
           "above continue that run."] if t.get("init") else []),
        *_finetune_lines(t.get("finetune")),
        f"- Data: MNIST training set minus its last {t['validation_size']:,} images (validation, "
        "used for early stopping, temperature and threshold; the test set is never used for tuning), "
        f"plus {t['nondigit_train']:,} generated non-digit crops and {t.get('pair_train', 0):,} crops of "
        "touching digit pairs or a digit with a piece of its neighbour (both class '?')"
        + _scan_text(t.get("scan_crops")) + ". Augmentation: "
        "rotation, shear, zoom, elastic distortion, thicker/thinner strokes, binarisation, "
        "ruling-line stubs, then re-normalisation with `to_mnist`; post-normalisation jitter, blur, noise.",
        "",
        "## Results (shipped file, calibrated, default threshold)",
        "| measure | value |",
        "|---|---|",
        f"| MNIST test accuracy (digit read) | {_pct(m.get('mnist_test_accuracy'))} |",
        f"| MNIST test top class right of 11 ('?' counted wrong) | {_pct(m.get('mnist_test_accuracy_all_classes'))} |",
        f"| MNIST test macro F1 | {m.get('mnist_test_macro_f1', 0):.4f} |",
        f"| USPS test accuracy (16x16 through to_mnist, digit read) | {_pct(m.get('usps_test_accuracy'))} |",
        f"| USPS test top class right of 11 ('?' counted wrong) | {_pct(m.get('usps_test_accuracy_all_classes'))} |",
        f"| held-out non-digit crops flagged | {_pct(m.get('nondigit_flag_rate'))} |",
        f"| touching pairs of MNIST test digits flagged | {_pct(m.get('pair_flag_rate'))} |",
        f"| MNIST test digits flagged | {_pct(m.get('mnist_test_flag_rate'))} |",
        f"| USPS test digits flagged | {_pct(m.get('usps_test_flag_rate'))} |",
        f"| ECE on MNIST test, before / after temperature | {_pct(m.get('ece_test_before'))} / "
        f"{_pct(m.get('ece_test_after'))} |",
        f"| ECE on validation, before / after | {_pct(m.get('ece_val_before'))} / {_pct(m.get('ece_val_after'))} |",
        "",
        "A digit's *reading* is the most probable of the ten digits; a digit whose top class is '?' "
        "is still read as its best digit and flagged (the pipeline writes it so, for review), hence "
        "two accuracies: of the digits read, comparable with ten-class MNIST results, and the stricter "
        "top class of eleven. ECE uses 15 confidence bins. The temperature is fitted for log-likelihood on validation "
        "(digits and non-digit crops); when the network is already well calibrated, ECE differences "
        "of a tenth of a percent are within the noise of 10,000 test digits.",
        "",
        "## Flagging threshold",
        f"A digit is *flagged* for review when the top class is '?' or its calibrated probability is "
        f"below **{card['threshold']:.4f}**. {card['threshold_reason']}",
        "",
        "## Limits",
        "- Trained on MNIST (American writers of the 1990s, Census staff and students); other "
        "handwriting styles (e.g. continental 1 and 7) are weaker. USPS measures one such shift.",
        "- The non-digit class is learned from synthetic marks; unusual marks may still be read as digits. "
        "Marks shaped like digits (vertical strokes, O-shapes) cannot be told apart by shape alone.",
        "- Probabilities are calibrated on MNIST validation digits; on real scans they are "
        "typically over-confident. Keep the flag review step.",
        "",
        "## Data and licence",
        MNIST_ATTRIBUTION + " The model weights are derived from MNIST and are shared under the same licence.",
        "",
        "MNIST files used (md5): " + ", ".join(f"{k} `{v}`" for k, v in card["data_md5"].items()) + ".",
        "",
    ]
    path = Path(folder) / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path
