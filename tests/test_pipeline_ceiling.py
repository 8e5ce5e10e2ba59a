"""benchmarks/pipeline_ceiling.py: the digit-by-digit comparison of page and clean readings."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

SPEC = importlib.util.spec_from_file_location(
    "pipeline_ceiling", Path(__file__).resolve().parents[1] / "benchmarks" / "pipeline_ceiling.py")
ceiling = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(ceiling)


def test_page_digits_pairs_each_digit_with_its_clean_reading(tmp_path):
    scans, results = tmp_path / "scans", tmp_path / "results"
    scans.mkdir()
    results.mkdir()
    pd.DataFrame({"file": ["a.png"] * 3, "page": [1] * 3, "x": [10, 10, 10], "y": [10, 60, 110],
                  "w": [40] * 3, "h": [20] * 3, "text": ["12.3", "45", "67"]}).to_csv(scans / "truth.csv", index=False)
    pd.DataFrame({"file": ["a.png"] * 3, "page": [1] * 3, "text": ["12.3", "45", "67"],
                  "mnist_test_indices": ["0 1 2", "3 4", "5 6"]}).to_csv(scans / "sources.csv", index=False)
    # '12.3' found and read '17.3' (a comb); '45' found with a digit too many (skipped); '67' not found
    pd.DataFrame({"file": ["a.png"] * 2, "page": [1] * 2, "string_id": [1, 2], "x": [10, 10], "y": [10, 60],
                  "w": [40, 40], "h": [20, 20], "text": ["17.3", "415"], "confidence": [0.9, 0.9],
                  "flagged": [False, False], "n_digits": [3, 3], "kind": ["comb", "line"]}
                 ).to_csv(results / "strings.csv", index=False)
    pd.DataFrame({"file": ["a.png"] * 6, "page": [1] * 6, "string_id": [1, 1, 1, 2, 2, 2],
                  "digit": ["1", "7", "3", "4", "1", "5"]}).to_csv(results / "digits.csv", index=False)
    clean = np.array(list("1736457"))  # the '2' (MNIST test digit 1) reads '7' clean too
    table = ceiling.page_digits(scans, results, clean)
    assert table["kind"].tolist() == ["comb"] * 3
    assert table["page_right"].tolist() == [True, False, True]
    assert table["clean_right"].tolist() == [True, False, True]
