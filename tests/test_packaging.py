"""The wheel a user installs holds every package, the CLI and the shipped model, so a
non-editable ``pip install .`` reads pages without the checkout beside it."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_packages_and_model(tmp_path):
    pytest.importorskip("setuptools", minversion="61")
    # Built from a copy without build/ or *.egg-info: a stale build folder would hide omissions.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "build", "*.egg-info", "runs", "results", "samples", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "cli.py" in names
    for package in ("pipeline", "segmentation", "classifier", "forms", "review", "synth"):
        assert f"{package}/__init__.py" in names, package
    for shipped in ("digits.tflite", "model_card.json", "model.keras", "pairs.tflite", "pairs_card.json"):
        assert f"models/{shipped}" in names, shipped
    # The model in the wheel is the one its card describes (the runtime checks the same).
    with zipfile.ZipFile(wheel) as archive:
        card = json.loads(archive.read("models/model_card.json"))
        assert hashlib.sha256(archive.read("models/digits.tflite")).hexdigest() == card["sha256"]
        pairs = json.loads(archive.read("models/pairs_card.json"))
        assert hashlib.sha256(archive.read("models/pairs.tflite")).hexdigest() == pairs["sha256"]
