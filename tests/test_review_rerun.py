"""Decisions keep to their digit when the pipeline runs again into the same results folder.

A re-run (other options, a new model, ``--resume``) can renumber strings, reorder rows, change
readings or drop digits: a decision must then follow its digit (same file, page and box), or be
reported as stale, and never land on another digit. Also: an older results.db opens (migration),
and a resume after an export loses no pages.
"""
from __future__ import annotations

import csv
import os
import re
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy (pip install SQLAlchemy)")

from pipeline.export import ResultWriter  # noqa: E402
from review.app import create_app  # noqa: E402
from review.export import export_results  # noqa: E402
from review.identity import resolve  # noqa: E402
from review.sample import _page, make_sample_results  # noqa: E402
from review.store import DecisionStore, Latest, dataset_id, default_db_url, migrate  # noqa: E402

TOKEN = "rerun-token-0123456789abcdef"
QUESTION = {"file": "scans/a.png", "page": 1, "string_id": 1, "index": 1}  # '?' in "3?8", box (60, 90)
SEVEN = {"file": "b.pdf", "page": 2, "string_id": 0, "index": 2}  # '7' in "907", box (90, 30)


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    return make_sample_results(tmp_path / "results")


@pytest.fixture()
def client(results: Path):
    c = create_app(results, TOKEN).test_client()
    html = c.get(f"/?token={TOKEN}").get_data(as_text=True)
    c.csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    return c


def decide(client, key: dict, decision: str, **extra) -> dict:
    response = client.post("/api/decisions", json={**key, "decision": decision, **extra},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 201, response.json
    return response.json


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def rewrite(path: Path, change) -> None:
    """Rewrite a CSV as a re-run of the pipeline would: ``change(rows)`` returns the new rows."""
    rows = read(path)
    new = change(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(new)
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 10**9,) * 2)  # seen as changed at once


def swap_strings_of_a(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """String ids 0 and 1 of scans/a.png exchanged, rows in reverse order."""
    for r in rows:
        if r["file"] == "scans/a.png":
            r["string_id"] = {"0": "1", "1": "0"}[r["string_id"]]
    return rows[::-1]


def rerun_with_swapped_ids(results: Path) -> None:
    rewrite(results / "digits.csv", swap_strings_of_a)
    rewrite(results / "strings.csv", swap_strings_of_a)


def digit(results: Path, file: str, page: int, string_id: int, index: int) -> dict[str, str]:
    wanted = (file, str(page), str(string_id), str(index))
    return next(r for r in read(results / "digits.csv")
                if (r["file"], r["page"], r["string_id"], r["index"]) == wanted)


def test_renumbered_strings_decision_follows_its_digit(client, results):
    decide(client, QUESTION, "4")
    rerun_with_swapped_ids(results)
    summary = export_results(results)
    # the '2' now at the old key did not get the decision; the '?' (now string 0) did
    other = digit(results, "scans/a.png", 1, 1, 1)
    assert (other["y"], other["digit"], other["reviewed"]) == ("30", "2", "False")
    moved = digit(results, "scans/a.png", 1, 0, 1)
    assert (moved["y"], moved["digit"], moved["reviewed"], moved["corrected_from"]) == \
        ("90", "4", "True", "?")
    texts = {r["string_id"]: r["text"] for r in read(results / "strings.csv")
             if r["file"] == "scans/a.png"}
    assert texts == {"0": "348", "1": "12/05"}
    assert (summary.decisions, summary.moved, summary.stale) == (1, 1, 0)


def test_queue_shows_decisions_on_the_right_digit_after_a_rerun(client, results):
    decide(client, QUESTION, "4")
    rerun_with_swapped_ids(results)
    data = client.get("/api/queue").json
    decided = {(i["key"]["string_id"], i["key"]["index"], i["digit"]) for i in data["items"]
               if i["key"]["file"] == "scans/a.png" and i["decision"]}
    assert decided == {(0, 1, "?")} and data["reviewed"] == 1 and data["stale"] == 0
    assert set(client.get("/api/decisions").json["decisions"]) == {'["scans/a.png",1,0,1]'}
    page = client.get("/api/page?file=scans/a.png&page=1").json
    assert [(d["string_id"], d["index"]) for d in page["digits"] if d["decision"]] == [(0, 1)]


def test_one_key_two_digits_both_decisions_kept(client, results):
    """Before the re-run the key named the '?'; after it, the '2'. Both decisions stand."""
    decide(client, QUESTION, "4")
    rerun_with_swapped_ids(results)
    decide(client, QUESTION, "7")  # the '2' of 12/05, now at that key
    summary = export_results(results)
    assert digit(results, "scans/a.png", 1, 0, 1)["digit"] == "4"
    assert digit(results, "scans/a.png", 1, 1, 1)["digit"] == "7"
    assert (summary.decisions, summary.stale) == (2, 0)


def change_seven(results: Path, **values: str) -> None:
    """A re-run that changed the '7' of "907" (SEVEN) in digits.csv."""
    rewrite(results / "digits.csv", lambda rows: [
        {**r, **values} if (r["file"], r["string_id"], r["index"]) == ("b.pdf", "0", "2") else r
        for r in rows])


def test_digit_gone_after_rerun_is_stale_not_applied(client, results):
    decide(client, SEVEN, "1")
    # re-segmented: the digit at that key is now elsewhere on the page (a different mark)
    change_seven(results, x="200")
    summary = export_results(results)
    untouched = digit(results, "b.pdf", 2, 0, 2)
    assert (untouched["digit"], untouched["reviewed"], untouched["flagged"]) == ("7", "False", "True")
    assert (summary.decisions, summary.stale) == (0, 1)
    stale = summary.stale_decisions[0]
    assert (stale["file"], stale["page"], stale["string_id"], stale["index"]) == ("b.pdf", 2, 0, 2)
    assert (stale["decision"], stale["box"], stale["model_digit"]) == ("1", [90, 30, 24, 34], "7")
    assert client.get("/api/queue").json["stale"] == 1


def test_new_model_reading_same_box_still_applies(client, results):
    decide(client, SEVEN, "1")
    change_seven(results, digit="4")
    summary = export_results(results)
    assert (summary.decisions, summary.stale) == (1, 0)
    d = digit(results, "b.pdf", 2, 0, 2)
    assert (d["digit"], d["corrected_from"]) == ("1", "4")


def test_small_shift_matches_split_digit_is_stale():
    def at(x, y, w, h, key=("f.png", 1, 0, 0)):
        return Latest(1, "3", "t", "", key=key, box=(x, y, w, h))

    def row(x, y, w, h):
        return {"x": str(x), "y": str(y), "w": str(w), "h": str(h), "digit": "3"}

    shifted = {("f.png", 1, 5, 2): row(3, 1, 20, 30)}  # deskew moved it a little, ids changed
    assert list(resolve([at(0, 0, 20, 30)], shifted).applied) == [("f.png", 1, 5, 2)]
    split = {("f.png", 1, 0, 0): row(0, 0, 20, 30), ("f.png", 1, 0, 1): row(20, 0, 20, 30)}
    assert resolve([at(0, 0, 40, 30, key=("f.png", 1, 0, 9))], split).stale  # each half: IoU 0.5
    other_page = {("f.png", 2, 0, 0): row(0, 0, 20, 30)}
    assert resolve([at(0, 0, 20, 30)], other_page).stale


def test_decision_posted_from_an_outdated_page_is_refused(client, results):
    shown = client.get("/api/queue").json["items"][0]  # the '?' at string 1
    rerun_with_swapped_ids(results)
    response = client.post("/api/decisions",
                           json={**shown["key"], "box": shown["box"], "decision": "4"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 409 and "reload" in response.json["message"]
    assert DecisionStore(default_db_url(results)).count() == 0


def test_superseded_is_found_across_a_renumbering(client, results):
    first = decide(client, QUESTION, "4", reviewer="alice")
    rerun_with_swapped_ids(results)
    second = decide(client, {**QUESTION, "string_id": 0}, "9", reviewer="bob", seen=None)
    assert second["superseded"]["id"] == first["decision"]["id"]
    third = decide(client, {**QUESTION, "string_id": 1}, "7", reviewer="bob", seen=None)
    assert third["superseded"] is None  # the key's earlier decision was about another digit


# --- decisions recorded before boxes were (older databases) ---------------------------------

OLD_SCHEMA = """CREATE TABLE review_decisions (
    id INTEGER NOT NULL PRIMARY KEY, dataset VARCHAR(64) NOT NULL, file VARCHAR(512) NOT NULL,
    page INTEGER NOT NULL, string_id INTEGER NOT NULL, glyph_index INTEGER NOT NULL,
    decision VARCHAR(1) NOT NULL, model_digit VARCHAR(1) NOT NULL, reviewer VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL, crop VARCHAR(1024) NOT NULL, source VARCHAR(4096) NOT NULL)"""


def old_database(results: Path, rows: list[tuple]) -> None:
    """results.db as the first version wrote it: no box columns."""
    with sqlite3.connect(results / "results.db") as db:
        db.execute(OLD_SCHEMA)
        db.execute("CREATE INDEX ix_review_key ON review_decisions "
                   "(dataset, file, page, string_id, glyph_index)")
        db.executemany("INSERT INTO review_decisions (dataset, file, page, string_id, glyph_index, "
                       "decision, model_digit, reviewer, created_at, crop, source) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, 'old', '2024-01-01 00:00:00', '', '')",
                       [(dataset_id(results), *r) for r in rows])


def test_old_database_opens_and_is_migrated_once(results):
    old_database(results, [("b.pdf", 2, 0, 2, "1", "7")])
    store = DecisionStore(default_db_url(results))
    assert migrate(store.engine) == []  # done when the store opened; again is a no-op
    (old,) = store.all_for(dataset_id(results))
    assert (old.decision, old.box, old.model_digit, old.key) == ("1", None, "7", ("b.pdf", 2, 0, 2))
    store.add(dataset_id(results), ("scans/a.png", 1, 1, 1), "4", "new", box=(60, 90, 24, 34))
    assert store.all_for(dataset_id(results))[-1].box == (60, 90, 24, 34)
    store.close()
    DecisionStore(default_db_url(results)).close()  # reopening a migrated database is fine
    assert export_results(results).decisions == 2


def test_old_decision_without_box_refused_when_the_reading_moved(results):
    old_database(results, [("b.pdf", 2, 0, 2, "1", "7"),  # still the '7' it was: applied
                           ("scans/a.png", 1, 1, 1, "4", "?")])  # recorded on the '?'
    rerun_with_swapped_ids(results)  # that key now holds the '2'
    summary = export_results(results)
    assert digit(results, "scans/a.png", 1, 1, 1)["digit"] == "2"
    assert digit(results, "b.pdf", 2, 0, 2)["digit"] == "1"
    assert (summary.decisions, summary.stale) == (1, 1)


# --- run --resume after an export -----------------------------------------------------------

def test_resume_after_export_keeps_the_new_pages(tmp_path):
    from review.sample import SAMPLE

    out = tmp_path / "results"
    writer = ResultWriter(out)
    writer.add(_page("scans/a.png", 1, SAMPLE["scans/a.png"][1]))  # interrupted after one page
    export_results(out)
    ResultWriter(out, resume=True).add(_page("b.pdf", 2, SAMPLE["b.pdf"][2]))  # run --resume
    app = create_app(out, TOKEN)
    queue = app.test_client().get(f"/api/queue?token={TOKEN}").json
    assert queue["total"] == 4  # b.pdf's flagged '7' is reviewable
    store = DecisionStore(default_db_url(out))
    store.add(dataset_id(out), ("b.pdf", 2, 0, 2), "1", "t", box=(90, 30, 24, 34))
    store.close()
    summary = export_results(out)
    assert summary.decisions == 1
    assert digit(out, "b.pdf", 2, 0, 2)["digit"] == "1"
    assert {r["file"] for r in read(out / "strings.csv")} == {"scans/a.png", "b.pdf"}
    originals = read(out / "digits.orig.csv")
    assert len(originals) == 10 and "reviewed" not in originals[0]
    assert export_results(out).decisions == 1  # and again, from the merged originals
    assert len(read(out / "digits.csv")) == 10


def test_corrections_follow_the_digit_and_its_current_crop(results, client):
    from review.corrections import crop_to_mnist, load_corrections

    decide(client, QUESTION, "4")
    flagged = results / "flagged"
    decided = crop_to_mnist(flagged / "scans__a.png__p1_s1_i1.png")
    # A re-run renumbers the strings and writes the crops under the new names: the old name
    # now holds the other string's digit.
    rerun_with_swapped_ids(results)

    def rename_crops(rows):
        for r in rows:
            if r["file"] == "scans/a.png" and r["crop"]:
                r["crop"] = f"flagged/scans__a.png__p1_s{r['string_id']}_i{r['index']}.png"
        return rows

    rewrite(results / "digits.csv", rename_crops)
    s0, s1 = flagged / "scans__a.png__p1_s0_i1.png", flagged / "scans__a.png__p1_s1_i1.png"
    s0_bytes = s0.read_bytes()
    s0.write_bytes(s1.read_bytes())
    s1.write_bytes(s0_bytes)
    images, labels = load_corrections(results)
    assert labels.tolist() == [4]
    assert (images[0] == decided).all()  # the decided digit's pixels, not its old name's
