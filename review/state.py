"""Per-app state shared by the views: results folder, cached CSVs, decision store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from review.data import Results
from review.store import DecisionStore


@dataclass
class ReviewState:
    results_dir: Path
    results: Results
    store: DecisionStore
    dataset: str
    reviewer: str  # default reviewer name (--reviewer), the UI may send its own
    db_url: str


def state() -> ReviewState:
    return current_app.extensions["review"]
