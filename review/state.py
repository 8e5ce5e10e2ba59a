"""Per-app state shared by the views: results folder, cached CSVs, decision store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from review.data import Results, Snapshot
from review.identity import Resolution, resolve
from review.store import DecisionStore


@dataclass
class ReviewState:
    results_dir: Path
    results: Results
    store: DecisionStore
    dataset: str
    reviewer: str  # default reviewer name (--reviewer), the UI may send its own
    db_url: str

    def decisions(self, snap: Snapshot | None = None) -> tuple[Snapshot, Resolution]:
        """The current digits (or ``snap``'s) and the stored decisions matched to them by box
        (review.identity): never by key alone, which a re-run may have given to another digit."""
        snap = snap or self.results.get()
        return snap, resolve(self.store.all_for(self.dataset), snap.digits)


def state() -> ReviewState:
    return current_app.extensions["review"]
