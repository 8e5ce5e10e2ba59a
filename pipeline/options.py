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
    template: Path | None = None  # a form template (forms.template): read its fields into fields.csv
    cheque: bool = False  # pages are cheques: read the courtesy amount and the date into fields.csv
    boxes: bool = True  # find printed frames and combs and read each as one string (kind box/comb)
    keep_inputs: bool = False  # keep each digit's 28x28 classifier input on its Glyph (training crops)


@dataclass
class RunOptions:
    """A batch run: inputs, where results go, and how pages are read."""

    inputs: list[Path]
    out: Path
    dpi: int = 300
    read: ReadOptions = field(default_factory=ReadOptions)
    limits: Limits = field(default_factory=Limits)
    workers: int = 1  # 1 = serial in this process; 0 = every core (the CLI's default)
    progress: bool = True
    resume: bool = False  # keep the pages already complete in ``out`` and read only the rest
    engine: str = "local"  # local (serial or process pool) | ray (pipeline.ray_engine)
    ray_address: str | None = None  # ray.init address: None starts a local Ray, "auto" joins one
