"""recover() and resumed writers with fields.csv (templated and cheque runs): every kill point
leaves a folder that recovers to whole pages, and resuming adds no field row twice and loses none."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.export import FieldsMismatch, ResultWriter, recover
from pipeline.results import Box, DigitString, FieldResult, Glyph, PageResult

TABLES = ("strings.csv", "digits.csv", "pages.csv", "errors.csv", "fields.csv")
SLIP = ["account", "amount"]


def page(file: str, number: int, names: list[str] | None = SLIP, strings: int = 1) -> PageResult:
    glyph = Glyph(Box(1, 2, 3, 4), "7", 0.9, (("7", 0.9), ("1", 0.05)))
    names = list(names or [])
    fields = [FieldResult(name, f"{number}7", f"{number}7", 0.9, name == "amount", ("doubtful digit",) * (name == "amount"))
              for name in names]
    return PageResult(file, number, 100, 50, strings=[DigitString([glyph], i + 1) for i in range(strings)],
                      fields=fields, field_names=names)


PAGES = [page("a.png", 1), page("doc.pdf", 1, strings=2), page("doc.pdf", 2),
         PageResult("bad.png", 1, error="not an image"), page("doc.pdf", 3, strings=3), page("z.png", 1)]


def rows(out: Path) -> dict[str, list[tuple]]:
    found = {}
    for name in TABLES:
        if (out / name).exists():
            frame = pd.read_csv(out / name, dtype=str, keep_default_na=False)
            found[name] = sorted(map(tuple, frame.to_numpy().tolist()))
    return found


def appends(out: Path, results: list[PageResult]) -> list[tuple[str, bytes]]:
    """The writes a run makes, in order: (file name, bytes appended)."""
    writer = ResultWriter(out)
    log = []
    for result in results:
        sizes = {name: (out / name).stat().st_size if (out / name).exists() else 0 for name in TABLES}
        writer.add(result)
        for name in ("strings.csv", "digits.csv", "errors.csv", "fields.csv", "pages.csv"):  # add()'s order
            if (out / name).exists() and (out / name).stat().st_size > sizes[name]:
                log.append((name, (out / name).read_bytes()[sizes[name]:]))
    return log


def test_every_kill_point_recovers_and_resumes_to_the_full_run(tmp_path):
    full = tmp_path / "full"
    log = appends(full, PAGES)
    expected = rows(full)
    headers = {name: (full / name).read_bytes().split(b"\n", 1)[0] + b"\n" for name in TABLES if (full / name).exists()}
    cuts = [(k, cut) for k, (_, block) in enumerate(log) for cut in sorted({0, 1, len(block) // 2, len(block) - 1})]
    for k, cut in cuts:  # killed after ``cut`` bytes of the k-th write
        out = tmp_path / f"cut{k}_{cut}"
        out.mkdir()
        for name in ("strings.csv", "digits.csv", "pages.csv"):  # created empty by the writer
            (out / name).write_bytes(headers[name])
        for name, block in log[:k] + [(log[k][0], log[k][1][:cut])]:
            with open(out / name, "ab") as handle:
                handle.write(block)
        done = recover(out)
        listed = {(f, int(p)) for f, p, *_ in rows(out)["pages.csv"]}
        assert done == listed
        got = rows(out)
        for name in TABLES:  # whole pages only, as the full run wrote them
            want = [r for r in expected.get(name, []) if (r[0], int(r[1])) in done]
            assert got.get(name, []) == want, (k, cut, name)
        assert "errors.csv" not in got and ("fields.csv" in got) == bool(done), (k, cut)
        resumed = ResultWriter(out, resume=True)
        assert resumed.done == done
        for result in PAGES:
            if (result.file, result.page) not in done:
                resumed.add(result)
        assert rows(out) == expected, (k, cut)  # no field row twice, none lost


def test_page_missing_from_fields_csv_is_not_done(tmp_path):
    writer = ResultWriter(tmp_path)
    for result in PAGES[:3]:
        writer.add(result)
    frame = pd.read_csv(tmp_path / "fields.csv", dtype=str, keep_default_na=False)
    frame[frame["page"] != "2"].to_csv(tmp_path / "fields.csv", index=False, lineterminator="\n")
    with open(tmp_path / "fields.csv", "a") as handle:  # and a repeated row
        handle.write(frame.iloc[:1].to_csv(index=False, header=False, lineterminator="\n"))
    assert recover(tmp_path) == {("a.png", 1), ("doc.pdf", 1)}
    got = rows(tmp_path)
    assert [r[:2] for r in got["fields.csv"]] == [("a.png", "1"), ("doc.pdf", "1")]
    assert {r[:2] for r in got["strings.csv"]} == {("a.png", "1"), ("doc.pdf", "1")}


def test_fields_csv_without_rows_is_removed(tmp_path):
    writer = ResultWriter(tmp_path)
    writer._append("fields.csv", PAGES[0].field_rows(), PAGES[0].field_columns())  # killed before pages.csv
    assert recover(tmp_path) == set() and not (tmp_path / "fields.csv").exists()
    (tmp_path / "fields.csv").write_bytes(b"file,pa")  # killed inside the header
    recover(tmp_path)
    assert not (tmp_path / "fields.csv").exists()
    ResultWriter(tmp_path, resume=True).add(page("y.png", 1, names=None))  # an untemplated resume is fine then


@pytest.mark.parametrize("first, then", [(SLIP, ["account", "date"]), (SLIP, None), (None, SLIP)])
def test_resume_reading_other_fields_is_refused(tmp_path, first, then):
    writer = ResultWriter(tmp_path)
    writer.add(page("a.png", 1, names=first))
    before = {name: (tmp_path / name).read_bytes() for name in TABLES if (tmp_path / name).exists()}
    resumed = ResultWriter(tmp_path, resume=True)
    with pytest.raises(FieldsMismatch, match="resume with the same --template"):
        resumed.add(page("b.png", 1, names=then))
    after = {name: (tmp_path / name).read_bytes() for name in TABLES if (tmp_path / name).exists()}
    assert after == before  # nothing of the refused page was written
    assert isinstance(FieldsMismatch("x"), ValueError)  # the CLI reports it as a usage error
    resumed.add(PageResult("broken.png", 1, error="not an image"))  # failures carry no fields: no check


def test_resume_with_the_same_fields_appends(tmp_path):
    writer = ResultWriter(tmp_path)
    writer.add(page("a.png", 1))
    resumed = ResultWriter(tmp_path, resume=True)
    resumed.add(page("b.png", 1))
    fields = pd.read_csv(tmp_path / "fields.csv", dtype=str, keep_default_na=False)
    assert list(fields["file"]) == ["a.png", "b.png"] and list(fields.columns[2:4]) == ["account", "account_confidence"]


# --------------------------------------------------------------------------- resume after a review export

def _csv(path: Path) -> list[dict[str, str]]:
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")


def _pages(records: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(r["file"], r["page"]) for r in records}


def test_resume_twice_after_an_export_loses_no_page(tmp_path):
    """export -> resume (b) -> resume (c): b's rows were dropped by the second resume's recover
    (they lacked the review columns of the exported header) while pages.csv still listed b."""
    pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy")
    from review.data import REVIEW_COLUMNS
    from review.export import export_results
    from review.originals import pipeline_rows

    ResultWriter(tmp_path).add(page("a.png", 1, names=None, strings=2))
    export_results(tmp_path)
    ResultWriter(tmp_path, resume=True).add(page("b.png", 1, names=None))
    ResultWriter(tmp_path, resume=True).add(page("c.png", 1, names=None))
    want = {("a.png", "1"), ("b.png", "1"), ("c.png", "1")}
    for name in ("strings.csv", "digits.csv"):
        exported, original = _csv(tmp_path / name), _csv(tmp_path / name.replace(".csv", ".orig.csv"))
        assert _pages(exported) == _pages(original) == want, name
        assert list(exported[0])[-2:] == REVIEW_COLUMNS and "reviewed" not in original[0]
        assert {r["reviewed"] for r in exported} == {"False"}  # as export writes undecided rows
        assert _pages(pipeline_rows(tmp_path / name)[1]) == want  # what the review reads
    assert len(_csv(tmp_path / "digits.csv")) == 4
    export_results(tmp_path)  # and the next export has them all, once
    assert len(_csv(tmp_path / "digits.csv")) == len(_csv(tmp_path / "digits.orig.csv")) == 4


def test_rows_appended_without_review_columns_are_kept(tmp_path):
    """A folder an older resume left: rows without the review columns after an exported
    header. The next resume keeps them (in the exported CSV and the original), drops none."""
    writer = ResultWriter(tmp_path)
    writer.add(page("a.png", 1, names=None))
    for name in ("strings.csv", "digits.csv"):  # what export leaves: originals and review columns
        path = tmp_path / name
        (tmp_path / name.replace(".csv", ".orig.csv")).write_bytes(path.read_bytes())
        lines = path.read_text().splitlines()
        path.write_text("\n".join([lines[0] + ",reviewed,corrected_from"]
                                  + [line + ",False," for line in lines[1:]]) + "\n")
    writer.add(page("b.png", 1, names=None))  # the older resume: rows without the review columns
    ResultWriter(tmp_path, resume=True).add(page("c.png", 1, names=None))
    want = {("a.png", "1"), ("b.png", "1"), ("c.png", "1")}
    for name in ("strings.csv", "digits.csv"):
        exported, original = _csv(tmp_path / name), _csv(tmp_path / name.replace(".csv", ".orig.csv"))
        assert _pages(exported) == _pages(original) == want and len(exported) == len(original) == 3, name
        assert [r["reviewed"] for r in exported] == ["False"] * 3
    assert recover(tmp_path) == {("a.png", 1), ("b.png", 1), ("c.png", 1)}  # and stays so
