"""End to end: the CLI reads the committed samples/ and the figures stay above a floor."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import evaluate, threshold_sweep
from pipeline.results import DIGIT_COLUMNS, STRING_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
# Floors well under the measured figures (README), so a regression shows but noise does not.
MIN_STRING_ACCURACY = 0.78
MIN_UNFLAGGED_ACCURACY = 0.92


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    done = cli("run", str(SAMPLES), "--out", str(out), "--quiet")
    return done, out


def test_run_reads_every_sample(sample_run):
    done, out = sample_run
    assert done.returncode == 0, done.stderr
    assert "done:" in done.stdout and "errors" in done.stdout
    strings = pd.read_csv(out / "strings.csv", dtype={"text": str}, keep_default_na=False)
    digits = pd.read_csv(out / "digits.csv", keep_default_na=False)
    assert list(strings.columns[:11]) == STRING_COLUMNS[:11]
    assert list(digits.columns) == DIGIT_COLUMNS
    assert not (out / "errors.csv").exists()
    truth = pd.read_csv(SAMPLES / "truth.csv")
    assert set(truth["file"]) <= set(strings["file"])
    assert set(strings.loc[strings["file"] == "scans.pdf", "page"]) == {1, 2, 3}
    # A string's confidence is its weakest digit's; flagged strings hold a flagged digit.
    weakest = digits.groupby(["file", "page", "string_id"])["confidence"].min()
    joined = strings.set_index(["file", "page", "string_id"])["confidence"]
    assert np.allclose(joined.loc[weakest.index], weakest, atol=1e-4)
    flagged = digits[digits["flagged"]]
    assert all((out / crop).is_file() for crop in flagged["crop"])
    assert len(list((out / "overlays").glob("*.jpg"))) == len(pd.read_csv(out / "pages.csv"))


def test_accuracy_floor(sample_run):
    _, out = sample_run
    figures = evaluate(out, SAMPLES / "truth.csv")
    assert figures["string_accuracy"] >= MIN_STRING_ACCURACY, figures
    assert figures["unflagged_accuracy"] >= MIN_UNFLAGGED_ACCURACY, figures


def test_evaluate_command(sample_run):
    _, out = sample_run
    done = cli("evaluate", str(out), "--truth", str(SAMPLES / "truth.csv"), "--sweep")
    assert done.returncode == 0 and "string accuracy" in done.stdout
    assert "share flagged  unflagged accuracy" in done.stdout
    # The sweep at the run's own threshold (the shipped card's) repeats the run's figures.
    threshold = json.loads((ROOT / "models" / "model_card.json").read_text())["threshold"]
    at_run = threshold_sweep(out, SAMPLES / "truth.csv", (threshold,)).iloc[0]
    figures = evaluate(out, SAMPLES / "truth.csv")
    assert at_run["flagged_share"] == figures["flagged_share"]
    assert at_run["unflagged_wrong"] == figures["unflagged_wrong"]


def test_bad_input_is_reported_and_batch_goes_on(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SAMPLES / "crop_02.png", scans / "good.png")
    (scans / "broken.png").write_text("this is not an image")
    done = cli("run", str(scans), "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 1
    errors = pd.read_csv(tmp_path / "out" / "errors.csv")
    assert errors["file"].tolist() == ["broken.png"] and errors["error"].str.len().min() > 10
    assert "good.png" in set(pd.read_csv(tmp_path / "out" / "strings.csv")["file"])


def test_bad_usage_exits_2(tmp_path):
    assert cli("run", str(tmp_path / "missing")).returncode == 2
    assert cli("run", str(SAMPLES), "--threshold", "7").returncode == 2
    assert cli("frobnicate").returncode == 2
    assert cli("run", str(SAMPLES), "--max-mb", "0").returncode == 2
