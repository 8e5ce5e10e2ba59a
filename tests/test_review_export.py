"""Export of review decisions into the CSVs, and the corrections fed back to training."""
from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy (pip install SQLAlchemy)")

from review.corrections import crop_ink, load_corrections  # noqa: E402
from review.export import ExportError, export_results  # noqa: E402
from review.sample import make_sample_results  # noqa: E402
from review.server import add_export_arguments, export_main  # noqa: E402
from review.store import DecisionStore, dataset_id, default_db_url  # noqa: E402


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    return make_sample_results(tmp_path / "results")


def decide(results: Path, key: tuple, decision: str, reviewer: str = "t", db_url: str | None = None,
           crop: str = "") -> None:
    store = DecisionStore(db_url or default_db_url(results))
    store.add(dataset_id(results), key, decision, reviewer, crop=crop, source=str(results.resolve()))
    store.close()


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_key(path: Path) -> dict[tuple, dict[str, str]]:
    return {(r["file"], r["page"], r["string_id"]) + ((r["index"],) if "index" in r else ()): r
            for r in rows(path)}


def test_export_applies_decisions(results):
    decide(results, ("scans/a.png", 1, 1, 1), "4")  # '?' -> 4 in "3?8"
    decide(results, ("scans/a.png", 1, 0, 1), "7")
    decide(results, ("scans/a.png", 1, 0, 1), "?")  # latest wins: not a digit in "12/05"
    decide(results, ("scans/a.png", 1, 0, 4), "5")  # accepted as read
    summary = export_results(results)
    assert (summary.decisions, summary.corrected, summary.removed) == (3, 2, 1)
    assert summary.stale == summary.mismatched == 0

    digits = by_key(results / "digits.csv")
    d = digits[("scans/a.png", "1", "1", "1")]
    assert (d["digit"], d["confidence"], d["flagged"], d["reviewed"], d["corrected_from"]) == \
        ("4", "1.0", "False", "True", "?")
    assert digits[("scans/a.png", "1", "0", "1")]["digit"] == "?"
    accepted = digits[("scans/a.png", "1", "0", "4")]
    assert (accepted["reviewed"], accepted["corrected_from"], accepted["flagged"]) == ("True", "", "False")
    untouched = digits[("b.pdf", "2", "0", "2")]
    assert (untouched["reviewed"], untouched["flagged"], untouched["confidence"]) == ("False", "True", "0.62")
    assert list(rows(results / "digits.csv")[0])[-2:] == ["reviewed", "corrected_from"]

    strings = by_key(results / "strings.csv")
    s0, s1, s2 = (strings[("scans/a.png", "1", "0")], strings[("scans/a.png", "1", "1")],
                  strings[("b.pdf", "2", "0")])
    assert (s0["text"], s0["corrected_from"], s0["n_digits"], s0["flagged"], s0["confidence"]) == \
        ("1/05", "12/05", "3", "False", "0.99")
    assert (s1["text"], s1["corrected_from"], s1["flagged"], s1["confidence"], s1["reviewed"]) == \
        ("348", "3?8", "False", "0.99", "True")
    assert (s2["text"], s2["reviewed"], s2["corrected_from"], s2["flagged"]) == ("907", "False", "", "True")


def test_export_is_idempotent_and_keeps_originals(results):
    original = {n: (results / n).read_bytes() for n in ("strings.csv", "digits.csv")}
    decide(results, ("b.pdf", 2, 0, 2), "1")
    export_results(results)
    first = {n: (results / n).read_bytes() for n in original}
    assert (results / "strings.orig.csv").read_bytes() == original["strings.csv"]
    assert (results / "digits.orig.csv").read_bytes() == original["digits.csv"]
    export_results(results)
    assert {n: (results / n).read_bytes() for n in original} == first
    assert (results / "digits.orig.csv").read_bytes() == original["digits.csv"]
    # more decisions later: still computed from the originals
    decide(results, ("scans/a.png", 1, 1, 1), "4")
    export_results(results)
    strings = by_key(results / "strings.csv")
    assert strings[("b.pdf", "2", "0")]["text"] == "901"
    assert strings[("scans/a.png", "1", "1")]["text"] == "348"
    assert not list(results.glob("*.tmp")) and not list(results.glob(".*.tmp"))


def test_export_without_decisions_only_adds_columns(results):
    before = rows(results / "strings.csv")
    export_results(results)
    after = rows(results / "strings.csv")
    assert [{k: v for k, v in r.items() if k not in ("reviewed", "corrected_from")} for r in after] == before
    assert {r["reviewed"] for r in after} == {"False"}


def test_rerun_of_pipeline_replaces_originals(results, tmp_path):
    export_results(results)
    fresh = make_sample_results(tmp_path / "fresh")
    digits = (fresh / "digits.csv").read_text().replace(",7,0.62,", ",1,0.62,")
    (results / "digits.csv").write_text(digits)  # the pipeline wrote new output over the export
    shutil.copy(fresh / "strings.csv", results / "strings.csv")
    export_results(results)
    assert (results / "digits.orig.csv").read_text() == digits


def test_export_refuses_exported_csv_without_original(results):
    export_results(results)
    (results / "digits.orig.csv").unlink()
    with pytest.raises(ExportError, match="digits.orig.csv is missing"):
        export_results(results)


def test_export_reports_decisions_for_missing_digits_as_stale(results):
    decide(results, ("gone.png", 1, 0, 0), "3")
    summary = export_results(results)
    assert summary.stale == 1 and summary.decisions == 0
    assert summary.stale_decisions[0]["file"] == "gone.png" and summary.stale_decisions[0]["decision"] == "3"


def test_export_with_server_database(results, tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    decide(results, ("b.pdf", 2, 0, 2), "1", db_url=url)
    assert export_results(results).decisions == 0  # the folder's own database has none
    assert export_results(results, url).decisions == 1


def test_export_cli_and_ui_button(results, capsys):
    decide(results, ("b.pdf", 2, 0, 2), "1")
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    assert export_main(parser.parse_args([str(results)])) == 0
    assert "1 decisions applied" in capsys.readouterr().out
    assert by_key(results / "strings.csv")[("b.pdf", "2", "0")]["text"] == "901"

    from review.app import create_app
    app = create_app(results, "tok-0123456789abcdef")
    c = app.test_client()
    html = c.get("/?token=tok-0123456789abcdef").get_data(as_text=True)
    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    response = c.post("/api/export", json={}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json["decisions"] == 1
    # the queue still comes from the originals after export
    assert c.get("/api/queue").json["total"] == 4


def test_export_main_refuses_empty_folder(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    assert export_main(parser.parse_args([str(tmp_path)])) == 2
    assert "digits.csv" in capsys.readouterr().err


# --- corrections ----------------------------------------------------------------------------

def test_load_corrections_from_results_folder(results):
    assert load_corrections(results)[0].shape == (0, 28, 28)  # nothing reviewed yet
    crop = "flagged/scans__a.png__p1_s0_i1.png"  # as digits.csv names it
    decide(results, ("scans/a.png", 1, 0, 1), "7", crop=crop)
    decide(results, ("scans/a.png", 1, 0, 1), "2", crop=crop)  # latest only
    decide(results, ("scans/a.png", 1, 1, 1), "?", crop="scans__a.png__p1_s1_i1.png")  # bare name
    # The crop is the one the current digits.csv row names: a stored name may be out of date.
    decide(results, ("b.pdf", 2, 0, 2), "1", crop="missing.png")
    decide(results, ("b.pdf", 2, 0, 0), "9")  # accepted unflagged digit: no crop, skipped
    images, labels = load_corrections(results)
    assert images.shape == (3, 28, 28) and images.dtype == np.float32
    assert labels.tolist() == [2, 10, 1] and labels.dtype == np.int64
    assert 0.0 <= images.min() and images.max() <= 1.0 and images[0].sum() > 10
    ys, xs = np.nonzero(images[0] > 0.1)  # MNIST-like: the glyph is centred in the 20x20 box
    assert 2 <= ys.min() and ys.max() <= 25 and 2 <= xs.min() and xs.max() <= 25


def test_load_corrections_from_database_url(results, tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    decide(results, ("scans/a.png", 1, 0, 4), "6", db_url=url, crop="flagged/scans__a.png__p1_s0_i4.png")
    images, labels = load_corrections(url)
    assert images.shape == (1, 28, 28) and labels.tolist() == [6]
    assert load_corrections(results, db_url=url)[1].tolist() == [6]


def test_crop_ink_drops_context_fragments():
    gray = np.full((40, 40), 255, np.uint8)
    cv2.line(gray, (20, 8), (20, 32), 0, 3)  # the digit: a '1' in the middle
    cv2.line(gray, (0, 10), (4, 30), 0, 3)  # a neighbour's stroke at the border
    ink = crop_ink(gray)
    assert ink[20, 20] and not ink[20, 1]
    assert not crop_ink(np.full((10, 10), 250, np.uint8)).any()
