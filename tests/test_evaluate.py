import pandas as pd

from pipeline.evaluate import edit_distance, evaluate


def _write(path, rows, extra=()):
    cols = ["file", "page", "x", "y", "w", "h", "text", *extra]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)


def test_edit_distance():
    assert edit_distance("1234", "1234") == 0
    assert edit_distance("1234", "124") == 1
    assert edit_distance("", "12") == 2


def test_scores_a_run(tmp_path):
    truth = tmp_path / "truth.csv"
    _write(truth, [["p.png", 1, 10, 10, 100, 30, "0042"], ["p.png", 1, 10, 100, 100, 30, "12/03"],
                   ["p.png", 1, 300, 100, 50, 30, "77"], ["q.png", 1, 0, 0, 50, 20, "5"]])
    results = tmp_path / "results"
    results.mkdir()
    _write(results / "strings.csv", [
        ["p.png", 1, 12, 11, 98, 29, "0042", False],   # right
        ["p.png", 1, 10, 102, 100, 30, "12/08", True],  # wrong, flagged
        ["p.png", 1, 302, 100, 50, 30, "71", False],    # wrong, not flagged
        ["p.png", 1, 600, 600, 40, 40, "9", False],     # nothing there
    ], extra=["flagged"])
    figures = evaluate(results, truth)
    assert figures["truth_strings"] == 4 and figures["found_strings"] == 4
    assert figures["string_accuracy"] == 0.25
    assert figures["flagged_share"] == 0.25
    assert abs(figures["unflagged_accuracy"] - 0.5) < 1e-9 and figures["unflagged_wrong"] == 1
    assert figures["missed_strings"] == 1 and figures["extra_strings"] == 1
    assert abs(figures["digit_error_rate"] - 3 / 11) < 1e-9  # 1 + 1 + 1 (missed "5") of 11 digits
