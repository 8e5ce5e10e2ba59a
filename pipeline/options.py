"""One options model for the CLI and the Python API."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.load import Limits


@dataclass(frozen=True)
class ReadOptions:
    """How one page is read. Picklable, so it travels to worker processes unchanged."""

    binarization: str = "sauvola"  # otsu | sauvola (see pipeline.preprocess)
    deskew: bool = True
    remove_lines: bool = True
    threshold: float | None = None  # flag digits below this confidence; None: the model card's
    overlays: bool = True
    flagged_crops: bool = True
    model_dir: Path | None = None  # None: the shipped models/ folder


@dataclass
class RunOptions:
    """A batch run: inputs, where results go, and how pages are read."""

    inputs: list[Path]
    out: Path
    dpi: int = 300
    read: ReadOptions = field(default_factory=ReadOptions)
    limits: Limits = field(default_factory=Limits)
    workers: int = 1  # 1 = serial in this process
    progress: bool = True
