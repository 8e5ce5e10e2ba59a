"""Interrupted runs: the CSVs left behind are valid, and --resume finishes them to exactly what an
uninterrupted run writes (SIGKILL at random moments, Ctrl-C)."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from pipeline.export import ResultWriter, recover
from pipeline.options import ReadOptions, RunOptions
from pipeline.results import STRING_COLUMNS, Box, DigitString, Glyph, PageResult
from pipeline.run import Planner, run, unique_names

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
TABLES = ("strings.csv", "digits.csv", "pages.csv", "errors.csv")


# --------------------------------------------------------------------------- helpers

def make_batch(folder: Path) -> list[Path]:
    """Small, quick pages: four field crops, a cheque, a 3-page TIFF, a broken file, and a second
    folder holding a file of the same name as the first (names must be made unique)."""
    first, second = folder / "a", folder / "b"
    first.mkdir(parents=True)
    second.mkdir()
    for name in ("crop_01.tif", "crop_02.png", "crop_03.tif", "crop_04.png", "cheque_03.png"):
        (first / name).write_bytes((SAMPLES / name).read_bytes())
    (second / "crop_02.png").write_bytes((SAMPLES / "crop_04.png").read_bytes())
    frames = [Image.open(SAMPLES / name).convert("L") for name in ("crop_01.tif", "crop_02.png", "crop_03.tif")]
    frames[0].save(first / "multi.tif", save_all=True, append_images=frames[1:])
    (first / "broken.png").write_bytes(b"not an image at all")
    return [first, second]


def rows(out: Path) -> dict[str, list[tuple]]:
    """Every table's rows as sorted tuples of text (order-insensitive comparison)."""
    found = {}
    for name in TABLES:
        path = out / name
        if path.exists():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            found[name] = sorted(map(tuple, frame.to_numpy().tolist()))
    return found


def cli(*args: str) -> subprocess.Popen:
    # A session of its own (signals go to the whole group, as from a terminal), with Ctrl-C
    # handled even where the test runner was started with SIGINT ignored.
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "run", *args, "--quiet"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def data_rows(path: Path) -> int:
    try:
        return max(0, path.read_bytes().count(b"\n") - 1)
    except FileNotFoundError:
        return 0


def wait_for_rows(path: Path, n: int, process: subprocess.Popen, timeout: float = 120) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and process.poll() is None:
        if data_rows(path) >= n:
            return True
        time.sleep(0.02)
    return data_rows(path) >= n  # the run may have ended between two looks


def assert_valid(out: Path) -> None:
    """Every CSV parses with its full header and whole rows."""
    for name in TABLES:
        path = out / name
        if path.exists():
            data = path.read_bytes()
            assert data.endswith(b"\n"), name
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            assert list(frame.columns[:2]) == ["file", "page"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    inputs = make_batch(folder)
    reference = folder / "reference"
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", *map(str, inputs), "--out",
                           str(reference), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # broken.png
    return inputs, reference


# --------------------------------------------------------------------------- recovery (no model)

def page(file: str, number: int, strings: int = 1) -> PageResult:
    glyph = Glyph(Box(1, 2, 3, 4), "7", 0.9, (("7", 0.9), ("1", 0.05)))
    return PageResult(file, number, 100, 50, strings=[DigitString([glyph], i + 1) for i in range(strings)])


def test_recover_drops_partial_lines_and_unfinished_pages(tmp_path):
    writer = ResultWriter(tmp_path)
    for result in (page("x.png", 1), page("doc.pdf", 1, 2), page("doc.pdf", 2)):
        writer.add(result)
    writer.add(PageResult("bad.png", 1, error="not an image"))
    expected = rows(tmp_path)
    # A page killed half-way: its strings and digits rows written, pages.csv not yet...
    unfinished = page("doc.pdf", 3, 2)
    writer._append("strings.csv", unfinished.string_rows(), STRING_COLUMNS)
    # ... and a write cut short in every file.
    for name in ("strings.csv", "digits.csv", "pages.csv"):
        with open(tmp_path / name, "ab") as handle:
            handle.write(b"doc.pdf,4,1")

    done = recover(tmp_path)
    assert done == {("x.png", 1), ("doc.pdf", 1), ("doc.pdf", 2)}
    assert_valid(tmp_path)
    recovered = rows(tmp_path)
    for name in ("strings.csv", "digits.csv", "pages.csv"):
        assert recovered[name] == expected[name], name
    assert "errors.csv" not in recovered  # failures are tried again: no stale rows
    assert recover(tmp_path) == done  # idempotent


def test_csv_blocks_are_what_pandas_wrote_and_survive_recovery(tmp_path):
    import io

    from pipeline.export import csv_block

    rows = [{"file": 'odd, "name".png', "page": 1, "error": "line one\nline two"},
            {"file": "x.png", "page": 2, "error": float("nan")}, {"file": "y.png", "page": 3, "error": None}]
    columns = ["file", "page", "error"]
    expected = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(expected, index=False, lineterminator="\n")
    assert csv_block(rows, columns, header=True).decode() == expected.getvalue()
    glyph = page("a.png", 1).digit_rows()
    block = csv_block(glyph, list(glyph[0]), header=True).decode()
    expected = io.StringIO()
    pd.DataFrame(glyph).to_csv(expected, index=False, lineterminator="\n")
    assert block == expected.getvalue()
    writer = ResultWriter(tmp_path)
    writer.add(page("x.png", 1, 3))
    before = {name: (tmp_path / name).read_bytes() for name in ("strings.csv", "digits.csv", "pages.csv")}
    recover(tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_resumed_writer_appends_to_what_was_done(tmp_path):
    fresh = ResultWriter(tmp_path / "fresh")
    for result in (page("x.png", 1), page("y.png", 1, 3)):
        fresh.add(result)
    writer = ResultWriter(tmp_path / "out")
    writer.add(page("x.png", 1))
    unfinished = page("y.png", 1, 3)
    writer._append("strings.csv", unfinished.string_rows(), STRING_COLUMNS)
    with open(tmp_path / "out" / "digits.csv", "ab") as handle:
        handle.write(b"y.png,1,1,0,1,2,")  # killed in the middle of y.png's digits
    resumed = ResultWriter(tmp_path / "out", resume=True)
    assert resumed.done == {("x.png", 1)}
    resumed.add(page("y.png", 1, 3))
    assert rows(tmp_path / "out") == rows(tmp_path / "fresh")


def test_resume_into_a_folder_of_an_older_version_keeps_its_columns(tmp_path):
    """digits.csv written before a column was added (``flag_reason``): the resumed run's rows
    take the file's columns, so every line keeps the header's width."""
    writer = ResultWriter(tmp_path)
    writer.add(page("x.png", 1))
    digits = pd.read_csv(tmp_path / "digits.csv", keep_default_na=False)
    digits.drop(columns="flag_reason").to_csv(tmp_path / "digits.csv", index=False)
    resumed = ResultWriter(tmp_path, resume=True)
    resumed.add(page("y.png", 1, 3))
    lines = (tmp_path / "digits.csv").read_text().splitlines()
    width = lines[0].count(",")
    assert "flag_reason" not in lines[0] and all(line.count(",") == width for line in lines)
    assert set(pd.read_csv(tmp_path / "digits.csv")["file"]) == {"x.png", "y.png"}


def test_resume_of_empty_or_missing_folder(tmp_path):
    assert ResultWriter(tmp_path / "new", resume=True).done == set()
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "pages.csv").write_bytes(b"fi")  # killed while the header was written
    writer = ResultWriter(tmp_path / "old", resume=True)
    writer.add(page("x.png", 1))
    assert rows(tmp_path / "old")["pages.csv"][0][:2] == ("x.png", "1")


# --------------------------------------------------------------------------- names and tasks

def test_same_relative_names_are_made_unique(tmp_path):
    inputs = make_batch(tmp_path)
    from pipeline.load import find_inputs

    names = [name for _, name in unique_names(find_inputs(inputs))]
    assert len(set(names)) == len(names)
    assert "a/crop_02.png" in names and "b/crop_02.png" in names and "crop_01.tif" in names
    same = [(Path("x/1/s.png"), "s.png"), (Path("y/1/s.png"), "s.png"), (Path("1/s.png"), "1/s.png")]
    names = [name for _, name in unique_names(same)]
    assert len(set(names)) == 3 and names[2] == "1/s.png"


def test_a_task_is_a_page(tmp_path):
    inputs = make_batch(tmp_path)
    from pipeline.load import find_inputs

    options = RunOptions(inputs=inputs, out=tmp_path / "out")
    found = unique_names(find_inputs(inputs))
    tasks = list(Planner(options, found, done={("multi.tif", 2)}).tasks())
    multi = [t for t in tasks if t.name == "multi.tif"]
    assert [t.page for t in multi] == [1, 3] and all(t.image is not None for t in multi)
    single = [t for t in tasks if t.name == "crop_01.tif"]
    assert len(single) == 1 and single[0].path is not None and single[0].image is None


def test_pdf_pages_are_rendered_by_the_workers(tmp_path):
    from pipeline.load import find_inputs
    from pipeline.run import read_task

    (tmp_path / "in").mkdir()
    frames = [Image.open(SAMPLES / name).convert("L") for name in ("crop_01.tif", "crop_02.png", "crop_03.tif")]
    frames[0].save(tmp_path / "in" / "three.pdf", save_all=True, append_images=frames[1:], resolution=150)
    options = RunOptions(inputs=[tmp_path / "in"], out=tmp_path / "out", dpi=150)
    tasks = list(Planner(options, unique_names(find_inputs(options.inputs)), done={("three.pdf", 1)}).tasks())
    assert [(t.page, t.render_page, t.image) for t in tasks] == [(2, True, None), (3, True, None)]
    results = read_task(tasks[1])
    assert [(r.file, r.page, r.error) for r in results] == [("three.pdf", 3, None)]
    assert results[0].strings  # the page was read, not just rendered


# --------------------------------------------------------------------------- whole runs

def test_pool_and_serial_write_the_same(batch, tmp_path):
    inputs, reference = batch
    summary = run(RunOptions(inputs=inputs, out=tmp_path / "serial", workers=1, progress=False,
                             read=ReadOptions(overlays=False)))
    assert summary.files == 8 and summary.errors == 1 and summary.pages == 9
    expected = rows(reference)
    assert rows(tmp_path / "serial") == expected
    overlays = sorted(p.name for p in (reference / "overlays").iterdir())
    assert len(overlays) == 9 and "b__crop_02.png__p1.jpg" in overlays


def test_killed_at_random_moments_then_resumed(batch, tmp_path):
    inputs, reference = batch
    out = tmp_path / "out"
    args = [*map(str, inputs), "--out", str(out), "--workers", "2"]
    rng = random.Random(6)
    kills = 0
    for _ in range(12):
        if kills >= 3:
            break
        process = cli(*args, *(["--resume"] if out.exists() else []))
        # Kill while pages are being written: after a random number of them, at a random moment.
        started = wait_for_rows(out / "pages.csv", data_rows(out / "pages.csv") + rng.randint(0, 1), process)
        time.sleep(rng.uniform(0.0, 0.2))
        killed = started and process.poll() is None
        if killed:
            os.killpg(process.pid, signal.SIGKILL)
            kills += 1
        process.communicate(timeout=600)
        assert_valid(out)
        if not killed:  # the run got to the end first (a fast machine): start over, so the
            shutil.rmtree(out)  # next kill still lands in the middle of a run
    assert kills >= 2
    final = cli(*args, "--resume")
    stdout, stderr = final.communicate(timeout=600)
    assert final.returncode == 1, stderr  # broken.png, as in the reference
    assert rows(out) == rows(reference)
    assert sorted(p.name for p in (out / "overlays").glob("*.jpg")) == \
        sorted(p.name for p in (reference / "overlays").glob("*.jpg"))


def test_ctrl_c_stops_cleanly_and_resume_finishes(batch, tmp_path):
    inputs, reference = batch
    out = tmp_path / "out"
    process = cli(*map(str, inputs), "--out", str(out), "--workers", "2")
    assert wait_for_rows(out / "pages.csv", 1, process)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    stdout, stderr = process.communicate(timeout=60)
    if process.returncode != 130:  # the batch can finish first on a fast machine
        assert process.returncode == 1 and rows(out) == rows(reference), stderr
        return
    assert "interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr, stderr
    assert_valid(out)
    final = subprocess.run([sys.executable, str(ROOT / "cli.py"), "run", *map(str, inputs), "--out", str(out),
                            "--resume", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert final.returncode == 1 and "already done" in final.stdout, final.stderr
    assert rows(out) == rows(reference)
