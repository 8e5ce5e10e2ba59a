"""Scoring a run against ground truth: found strings are matched to true ones by position."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.results import LOW_CONFIDENCE  # the flag reason a threshold decides

MATCH_IOU = 0.3  # boxes of the same string overlap far more; different strings hardly at all
SWEEP = (0.5, 0.7, 0.8, 0.85, 0.9, 0.92, 0.95, 0.98, 0.99)  # digit thresholds ``threshold_sweep`` tries


def read_table(path: Path) -> pd.DataFrame:
    """A results/truth CSV with ``text`` kept as written (leading zeros, empty strings)."""
    return pd.read_csv(path, dtype={"text": str, "file": str}, keep_default_na=False)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (N, 4: x, y, w, h) with every box in ``b`` (M, 4)."""
    ax0, ay0, ax1, ay1 = a[:, 0, None], a[:, 1, None], (a[:, 0] + a[:, 2])[:, None], (a[:, 1] + a[:, 3])[:, None]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    inter = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None) * \
        np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two short strings."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def match(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per truth string with the matched found string's text, flag and row label in
    ``found`` (``found_row``; None when unmatched), greedy by IoU."""
    rows = []
    found = found.assign(_used=False)
    for (file, page), group in truth.groupby(["file", "page"], sort=False):
        candidates = found[(found["file"] == file) & (found["page"] == page)]
        overlap = iou(group[["x", "y", "w", "h"]].to_numpy(float), candidates[["x", "y", "w", "h"]].to_numpy(float)) \
            if len(candidates) else np.zeros((len(group), 0))
        taken: set[int] = set()
        pairs = sorted(((overlap[i, j], i, j) for i in range(len(group)) for j in range(len(candidates))
                        if overlap[i, j] >= MATCH_IOU), reverse=True)
        chosen: dict[int, int] = {}
        for _, i, j in pairs:
            if i not in chosen and j not in taken:
                chosen[i] = j
                taken.add(j)
        for i, (_, t) in enumerate(group.iterrows()):
            j = chosen.get(i)
            hit = candidates.iloc[j] if j is not None else None
            if hit is not None:
                found.loc[hit.name, "_used"] = True
            rows.append({"file": file, "page": page, "truth": t["text"],
                         "found": hit["text"] if hit is not None else None,
                         "flagged": bool(hit["flagged"]) if hit is not None else False,
                         "found_row": hit.name if hit is not None else None})
    matched = pd.DataFrame(rows, columns=["file", "page", "truth", "found", "flagged", "found_row"])
    matched.attrs["extra"] = found[~found["_used"]].drop(columns="_used")
    return matched


def _matched_run(results_dir: Path, truth_csv: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the run's strings on the files the truth covers, their :func:`match` to the truth)."""
    truth = read_table(Path(truth_csv))
    found = read_table(Path(results_dir) / "strings.csv")
    # Only pages the truth covers are scored (a run may also have read other files).
    found = found[found["file"].isin(set(truth["file"]))]
    return found, match(found, truth)


def evaluate(results_dir: Path, truth_csv: Path) -> dict:
    """Figures of one run: string accuracy, digit error rate, flagged share, unflagged accuracy, extras."""
    found, matched = _matched_run(results_dir, truth_csv)
    extra = matched.attrs["extra"]
    found_text = matched["found"].fillna("")
    correct = matched["found"].notna() & (found_text == matched["truth"])
    digits = lambda text: "".join(ch for ch in text if ch.isdigit())  # noqa: E731
    errors = sum(edit_distance(digits(f), digits(t)) for f, t in zip(found_text, matched["truth"]))
    total_digits = max(1, sum(len(digits(t)) for t in matched["truth"]))
    read = matched["found"].notna()
    unflagged = read & ~matched["flagged"]
    n = max(1, len(matched))
    by_kind = {}
    if "kind" in found:  # line / box / comb: where the misses and flags concentrate
        kinds = pd.Series([found.loc[int(i), "kind"] if pd.notna(i) else None for i in matched["found_row"]],
                          index=matched.index, dtype=object)
        for kind in sorted(k for k in set(kinds) if k is not None):
            of = kinds == kind
            by_kind[kind] = {"strings": int(of.sum()), "accuracy": float(correct[of].mean()),
                             "flagged_share": float(matched["flagged"][of].mean())}
    return {
        "truth_strings": int(len(matched)),
        "found_strings": int(len(found)),
        "string_accuracy": float(correct.sum() / n),
        "digit_error_rate": float(errors / total_digits),
        "flagged_share": float(matched["flagged"].sum() / n),
        "unflagged_accuracy": float((correct & unflagged).sum() / max(1, unflagged.sum())),
        "unflagged_wrong": int((unflagged & ~correct).sum()),
        "missed_strings": int((~read).sum()),
        "extra_strings": int(len(extra)),
        "extra_unflagged": int((~extra["flagged"].astype(bool)).sum()) if len(extra) else 0,
        "by_kind": by_kind,  # line / box / comb (strings.csv ``kind``): strings, accuracy, flagged share
    }


def threshold_sweep(results_dir: Path, truth_csv: Path, thresholds: tuple[float, ...] = SWEEP) -> pd.DataFrame:
    """What other digit thresholds would have given on this run, to choose ``--threshold`` on
    one's own pages: per threshold, the share of truth strings flagged and the accuracy of the
    read, unflagged rest. A digit counts as flagged below the threshold or for any reason but its
    confidence (``flag_reason`` in ``digits.csv``); a digit whose confidence alone flagged it
    counts as unflagged above it (approximately a run with ``--threshold``: a close call that
    only showed above the run's threshold stays unseen)."""
    found, matched = _matched_run(results_dir, truth_csv)
    path = Path(results_dir) / "digits.csv"
    digits = pd.read_csv(path, dtype={"file": str, "digit": str}, keep_default_na=False)
    if "flag_reason" not in digits:
        raise ValueError(f"{path} has no flag_reason column (written by an older version): read the pages again to sweep")
    digits["other"] = (digits["flag_reason"] != "") & (digits["flag_reason"] != LOW_CONFIDENCE)
    per_string = digits.groupby(["file", "page", "string_id"]).agg(lowest=("confidence", "min"), other=("other", "any"))
    read = matched["found"].notna()
    rows = matched[read]
    keys = [tuple(found.loc[i, ["file", "page", "string_id"]]) for i in rows["found_row"].astype(int)]
    strings = per_string.reindex(pd.MultiIndex.from_tuples(keys, names=["file", "page", "string_id"]))
    lowest, other = strings["lowest"].fillna(1.0).to_numpy(), strings["other"].fillna(False).to_numpy(bool)
    right = (rows["found"] == rows["truth"]).to_numpy()
    n = max(1, len(matched))
    out = []
    for t in thresholds:
        flagged = other | (lowest < t)
        kept = ~flagged
        out.append({"threshold": t, "flagged_share": float(flagged.sum() / n),
                    "unflagged_accuracy": float(right[kept].mean()) if kept.any() else float("nan"),
                    "unflagged_wrong": int((kept & ~right).sum())})
    return pd.DataFrame(out)


def format_sweep(sweep: pd.DataFrame) -> str:
    lines = ["threshold  share flagged  unflagged accuracy"]
    for r in sweep.itertuples():
        lines.append(f"{r.threshold:9.2f}  {r.flagged_share:13.2%}  {r.unflagged_accuracy:18.2%}  ({r.unflagged_wrong} wrong)")
    return "\n".join(lines)


def format_report(figures: dict) -> str:
    return "\n".join([
        f"truth strings            {figures['truth_strings']}",
        f"found strings            {figures['found_strings']}",
        f"string accuracy          {figures['string_accuracy']:.2%}",
        f"digit error rate         {figures['digit_error_rate']:.2%}",
        f"share flagged            {figures['flagged_share']:.2%}",
        f"unflagged accuracy       {figures['unflagged_accuracy']:.2%}  ({figures['unflagged_wrong']} wrong and unflagged)",
        f"missed strings           {figures['missed_strings']}",
        f"strings without truth    {figures['extra_strings']}  ({figures['extra_unflagged']} unflagged)",
        *(f"  kind {kind:<5}            {k['strings']} strings, {k['accuracy']:.2%} right, {k['flagged_share']:.2%} flagged"
          for kind, k in figures.get("by_kind", {}).items()),
    ])
