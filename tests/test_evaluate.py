import pandas as pd
import pytest

from pipeline.evaluate import edit_distance, evaluate, threshold_sweep


def _write(path, rows, extra=()):
    cols = ["file", "page", "x", "y", "w", "h", "text", *extra]
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)


def test_edit_distance():
    assert edit_distance("1234", "1234") == 0
    assert edit_distance("1234", "124") == 1
    assert edit_distance("", "12") == 2


def _run(tmp_path, truth_rows, found_rows, extra):
    """A truth CSV and a results folder whose strings.csv holds ``found_rows`` (extra columns ``extra``)."""
    truth, results = tmp_path / "truth.csv", tmp_path / "results"
    _write(truth, truth_rows)
    results.mkdir()
    _write(results / "strings.csv", found_rows, extra=extra)
    return truth, results


def test_scores_a_run(tmp_path):
    truth, results = _run(tmp_path, [["p.png", 1, 10, 10, 100, 30, "0042"], ["p.png", 1, 10, 100, 100, 30, "12/03"],
                                     ["p.png", 1, 300, 100, 50, 30, "77"], ["q.png", 1, 0, 0, 50, 20, "5"]], [
        ["p.png", 1, 12, 11, 98, 29, "0042", False],   # right
        ["p.png", 1, 10, 102, 100, 30, "12/08", True],  # wrong, flagged
        ["p.png", 1, 302, 100, 50, 30, "71", False],    # wrong, not flagged
        ["p.png", 1, 600, 600, 40, 40, "9", False],     # nothing there
    ], ["flagged"])
    figures = evaluate(results, truth)
    assert figures["truth_strings"] == 4 and figures["found_strings"] == 4
    assert figures["string_accuracy"] == 0.25
    assert figures["flagged_share"] == 0.25
    assert abs(figures["unflagged_accuracy"] - 0.5) < 1e-9 and figures["unflagged_wrong"] == 1
    assert figures["missed_strings"] == 1 and figures["extra_strings"] == 1
    assert abs(figures["digit_error_rate"] - 3 / 11) < 1e-9  # 1 + 1 + 1 (missed "5") of 11 digits


def test_threshold_sweep_shows_what_other_thresholds_give(tmp_path):
    truth, results = _run(tmp_path, [["p.png", 1, 0, 100 * k, 60, 30, t] for k, t in enumerate(("12", "34", "56", "78"))], [
        ["p.png", 1, 0, 0, 60, 30, "12", False, 1, "line"],    # right, sure
        ["p.png", 1, 0, 100, 60, 30, "34", True, 2, "line"],   # right, a digit at 0.8
        ["p.png", 1, 0, 200, 60, 30, "58", False, 3, "box"],   # wrong, its '8' at 0.96
        ["p.png", 1, 0, 300, 60, 30, "78", True, 4, "line"],   # right, flagged for a close cut
    ], ["flagged", "string_id", "kind"])
    digits = [(1, 0.99, ""), (1, 0.99, ""), (2, 0.99, ""), (2, 0.8, "low confidence"),
              (3, 0.99, ""), (3, 0.96, ""), (4, 0.99, "segmentation"), (4, 0.99, "")]
    pd.DataFrame([{"file": "p.png", "page": 1, "string_id": s, "confidence": c, "flag_reason": r}
                  for s, c, r in digits]).to_csv(results / "digits.csv", index=False)
    sweep = threshold_sweep(results, truth, (0.5, 0.9, 0.98)).set_index("threshold")
    # 0.5: only the close cut flagged; '58' passes wrong. 0.9: the 0.8 digit too. 0.98: '58' caught.
    assert list(sweep["flagged_share"]) == [0.25, 0.5, 0.75]
    assert list(sweep["unflagged_wrong"]) == [1, 1, 0]
    assert sweep.loc[0.98, "unflagged_accuracy"] == 1.0 and abs(sweep.loc[0.5, "unflagged_accuracy"] - 2 / 3) < 1e-9
    by_kind = evaluate(results, truth)["by_kind"]
    assert by_kind["box"] == {"strings": 1, "accuracy": 0.0, "flagged_share": 0.0}
    assert by_kind["line"]["strings"] == 3 and by_kind["line"]["accuracy"] == 1.0


def test_sweep_of_a_run_without_flag_reasons_says_why(tmp_path):
    truth, results = _run(tmp_path, [["p.png", 1, 0, 0, 60, 30, "12"]],
                          [["p.png", 1, 0, 0, 60, 30, "12", False, 1]], ["flagged", "string_id"])
    pd.DataFrame([{"file": "p.png", "page": 1, "string_id": 1, "confidence": 0.99}]).to_csv(
        results / "digits.csv", index=False)
    with pytest.raises(ValueError, match="no flag_reason column"):
        threshold_sweep(results, truth)
