"""Scoring fields (fields.csv rows) against field truth (file, page, field, text, value).

A field is right when its normalised value equals the true value exactly (a blank field is
right when read as blank). "Wrongly accepted" is the figure that matters for straight-through
processing: fields that are wrong yet not flagged, so nobody looks at them.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_truth(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"file": str, "field": str, "text": str, "value": str},
                       keep_default_na=False)


def long_form(rows: pd.DataFrame | list[dict], names: list[str]) -> pd.DataFrame:
    """fields.csv rows (wide) as one row per field: file, page, field, found, confidence, flagged."""
    wide = pd.DataFrame(rows)
    out = []
    for _, row in wide.iterrows():
        for name in names:
            flagged = row.get(f"{name}_flagged", True)
            out.append({"file": str(row["file"]), "page": int(row["page"]), "field": name,
                        "found": "" if pd.isna(row.get(name, "")) else str(row.get(name, "")),
                        "confidence": row.get(f"{name}_confidence", ""),
                        "flagged": str(flagged) == "True" or flagged is True})
    return pd.DataFrame(out, columns=["file", "page", "field", "found", "confidence", "flagged"])


def join(found: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Truth rows with what was found for each (a page never read counts as blank and flagged)."""
    merged = truth.merge(found, on=["file", "page", "field"], how="left")
    merged["found"] = merged["found"].fillna("")
    merged["flagged"] = merged["flagged"].fillna(True).astype(bool)
    merged["right"] = merged["found"] == merged["value"]
    return merged


def figures(joined: pd.DataFrame) -> dict:
    """Counts and rates of one set of fields."""
    n = len(joined)
    right = int(joined["right"].sum())
    flagged = int(joined["flagged"].sum())
    accepted = joined[~joined["flagged"]]
    wrong_accepted = int((~accepted["right"]).sum())
    return {"fields": n, "right": right, "accuracy": right / n if n else float("nan"),
            "flagged": flagged, "flagged_share": flagged / n if n else float("nan"),
            "wrong_accepted": wrong_accepted, "wrong_accepted_rate": wrong_accepted / n if n else float("nan"),
            "accepted_accuracy": (len(accepted) - wrong_accepted) / len(accepted) if len(accepted) else float("nan")}


def format_figures(title: str, f: dict) -> str:
    return (f"{title:<28} {f['right']:>4}/{f['fields']:<4} right {f['accuracy']:7.2%}   "
            f"flagged {f['flagged_share']:7.2%}   wrongly accepted {f['wrong_accepted']:>3} "
            f"({f['wrong_accepted_rate']:.2%})")
