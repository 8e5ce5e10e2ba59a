"""Frames and combs from the line mask, and the ink each region takes."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from forms.boxes import Frame, comb_grid, find_frames
from tests.test_segment_helpers import FixedPairs, TemplateScorer, glyph, paste
from forms.regions import Region, _keep_loose, comb_marks, from_frame, take_ink
from pipeline.results import Box
from segmentation.normalize import batch_to_mnist


def canvas(h: int = 400, w: int = 900) -> np.ndarray:
    return np.zeros((h, w), np.uint8)


def frame(mask: np.ndarray, x: int, y: int, w: int, h: int, t: int = 2) -> None:
    cv2.rectangle(mask, (x, y), (x + w - 1, y + h - 1), 255, t)


def comb(mask: np.ndarray, x: int, y: int, cell: int, h: int, n: int, t: int = 2, skip=()) -> None:
    frame(mask, x, y, cell * n, h, t)
    for k in range(1, n):
        if k not in skip:
            cv2.line(mask, (x + k * cell, y), (x + k * cell, y + h - 1), 255, t)


def test_frame_and_comb_found():
    lines = canvas()
    frame(lines, 50, 40, 300, 60)
    comb(lines, 50, 200, 40, 56, 8)
    found = find_frames(lines > 0)
    assert [f.kind for f in found] == ["box", "comb"]
    box, cells = found
    assert abs(box.box.x - 50) <= 1 and abs(box.box.w - 300) <= 2 and box.inner.w < box.box.w
    assert len(cells.cells) == 8
    assert all(abs(c.w - cells.cells[0].w) <= 1 for c in cells.cells)
    # Cells lie between the printed dividers.
    assert all(50 + 40 * k < c.x and c.right < 50 + 40 * (k + 1) + 1 for k, c in enumerate(cells.cells))


def page_of(printed: np.ndarray) -> np.ndarray:
    """A grey page showing ``printed`` (0/255) as dark print on white paper."""
    return np.where(printed > 0, 40, 250).astype(np.uint8)


def test_comb_with_lost_dividers_and_broken_lines():
    printed = canvas()
    comb(printed, 60, 100, 44, 58, 10)
    lines = canvas()
    comb(lines, 60, 100, 44, 58, 10, skip={3, 4, 7})  # crossing digits took three dividers out
    lines[100:104, 150:156] = 0  # and broke the top line where a stroke crossed it
    (found,) = find_frames(lines > 0, page_of(printed))
    assert found.kind == "comb" and len(found.cells) == 10
    (trusted,) = find_frames(lines > 0)  # without the page, the grid alone decides
    assert len(trusted.cells) == 10


def test_a_templates_comb_grid_keeps_to_the_printed_dividers():
    """A template's 8-cell comb that detection could not cut: the first cell's hole opened by a
    digit crossing the frame, two holes merged by one crossing a divider, and a digit spilling
    over the right end that widened the frame's outer box by 20 px."""
    printed = canvas()
    comb(printed, 60, 100, 44, 58, 8)
    cell = lambda k, j=None: Box(60 + 44 * k + 2, 102, 44 * ((j or k) - k + 1) - 3, 55)
    holes = [cell(1), cell(2, 3), cell(4), cell(5), cell(6), cell(7)]
    found = Frame(Box(60, 100, 8 * 44 + 20, 58), Box.enclosing(holes), [], holes)
    cells = comb_grid(found, 8, page_of(printed))
    assert len(cells) == 8
    assert all(60 + 44 * k < c.x and c.right < 60 + 44 * (k + 1) + 1 for k, c in enumerate(cells)), cells


def test_unequal_cells_are_one_box():
    lines = canvas()
    frame(lines, 50, 50, 300, 60)
    for x in (110, 170):  # DD | MM | YYYY: fits a grid of 60 px cells, but no divider in YYYY
        cv2.line(lines, (x, 50), (x, 109), 255, 2)
    (found,) = find_frames(lines > 0, page_of(lines))
    assert found.kind == "box" and len(found.holes) == 3


def test_tables_borders_and_text_are_not_fields():
    lines = canvas(600, 900)
    for y in range(100, 500, 60):  # a ruled table: rows of cells
        cv2.line(lines, (20, y), (880, y), 255, 2)
    for x in (20, 300, 600, 880):
        cv2.line(lines, (x, 100), (x, 460), 255, 2)
    assert find_frames(lines > 0) == []
    border = canvas(380, 900)
    frame(border, 5, 5, 890, 370)   # a page border around a field
    frame(border, 500, 40, 300, 60)
    (found,) = find_frames(border > 0)
    assert found.box.x >= 499
    junk = canvas(200, 400)
    for x in range(40, 300, 9):  # bits of bold letters: a loop once closed, but patchy sides
        junk[60:63, x:x + 4] = 255
        junk[90:93, x + 3:x + 6] = 255
    junk[60:93, 40:42] = 255
    assert find_frames(junk > 0) == []


def test_loop_whose_only_hole_is_one_end_cell_is_no_frame():
    """Digits crossing a comb's lines opened all its cells but the last to the outside: the loop
    is no box whose inside is that cell (its other digits would be taken for frame sides)."""
    lines = canvas()
    comb(lines, 100, 100, 40, 56, 7)
    lines[98:104, 110:330] = 0  # the top line gone over six cells
    assert find_frames(lines > 0) == []
    lines[98:104, 110:330] = 255  # closed again: a comb
    assert [f.kind for f in find_frames(lines > 0)] == ["comb"]


def test_ink_goes_to_its_region_whole():
    lines = canvas()
    frame(lines, 100, 100, 300, 60)
    ink = np.zeros(lines.shape, bool)
    cv2.line(ink.view(np.uint8), (150, 110), (150, 185), 1, 3)  # a '1' crossing the bottom line
    cv2.circle(ink.view(np.uint8), (600, 300), 20, 1, 3)        # outside: stays on the page
    (found,) = find_frames(lines > 0)
    rest, (taken,) = take_ink(ink, lines > 0, [from_frame(found)])
    c = taken.crop
    stroke = ink[c.y: c.bottom, c.x: c.right]
    assert (taken.mask >= stroke).all()  # the whole stroke, below the frame too...
    joined = taken.mask & ~stroke
    assert joined.any() and joined.sum() <= (3 + 2 * 2) * 2  # ...joined again across the line (2 px) under it
    assert rest[100:200, 100:400].sum() == 0 and rest[280:320, 580:620].any()


def test_strokes_taken_for_lines_come_back_inside_a_comb():
    printed = canvas()
    comb(printed, 100, 100, 50, 60, 4)
    lines = printed.copy()
    lines[102:158, 122:124] = 255  # an upright stroke in cell 1 that line removal took for a divider
    ink = np.zeros(lines.shape, bool)
    ink[120:140, 115:135] = True
    (found,) = find_frames(lines > 0, page_of(printed))
    assert len(found.cells) == 4  # not 8: the extra "dividers" of 25 px cells are not printed
    _, (taken,) = take_ink(ink, lines > 0, [from_frame(found)])
    assert taken.mask[105 - taken.crop.y: 155 - taken.crop.y, 122 - taken.crop.x].all()
    assert not taken.mask[100 - taken.crop.y, :].any()  # the frame itself stays out
    assert not taken.mask[:, 150 - taken.crop.x].any()  # and so do the dividers


def four_cell_comb() -> tuple[np.ndarray, Region, np.ndarray]:
    """(printed lines, the comb found there, an empty ink canvas): 4 cells of 50 px from x = 100."""
    lines = canvas()
    comb(lines, 100, 100, 50, 60, 4)
    (found,) = find_frames(lines > 0)
    return lines, from_frame(found), np.zeros(lines.shape, np.uint8)


def comb_ink(lines: np.ndarray, region: Region, ink: np.ndarray):
    """What the comb region takes of ``ink`` (0/1 uint8) with the page's printed ``lines``."""
    _, (taken,) = take_ink(ink.astype(bool), lines > 0, [region])
    return taken


def test_comb_cells_split_touching_digits():
    lines, region, ink = four_cell_comb()
    cv2.circle(ink, (130, 130), 15, 1, 3)  # two zeros touching across the first divider (x=150),
    cv2.circle(ink, (166, 130), 15, 1, 3)  # the second well into the first's cell
    cv2.ellipse(ink, (233, 130), (22, 15), 0, 0, 360, 1, 3)  # one digit in cell 3 across its line
    ink[115:117, 270:272] = 1              # a speck in cell 4
    marks = comb_marks(region, comb_ink(lines, region, ink))
    assert len(marks) == 3
    first, second, third = marks
    assert 144 <= first.box.right <= 150 and 146 <= second.box.x <= 152  # cut where they touch
    assert third.box.x <= 211 and third.box.right >= 255  # whole, though it crosses the divider


def test_a_digit_written_out_over_the_combs_end_keeps_its_outer_stroke():
    # Seed 3's '4423': the first '4' reached out over the comb's left side; its outer stroke,
    # thin and upright beyond the side, was dropped as a sliver of the printed line ('1423').
    lines, region, ink = four_cell_comb()
    cv2.circle(ink, (125, 130), 12, 1, 3)
    ink[112:150, 95:98] = 1  # the stroke out beyond the side (x = 100)
    cv2.circle(ink, (275, 130), 12, 1, 3)
    ink[112:150, 302:305] = 1  # and beyond the last cell's side (x = 299)
    marks = comb_marks(region, comb_ink(lines, region, ink))
    assert len(marks) == 2
    assert marks[0].box.x == 95 and marks[1].box.right == 305


def test_comb_cut_chosen_by_the_classifier():
    # Two zeros overlapping across the first divider (x=150): the least ink near the divider is
    # inside the first zero (x~135), which the grid alone cuts; the classifier's best reading of
    # the candidate cuts keeps each zero to its own cell, cut at the divider.
    lines, region, ink = four_cell_comb()
    cv2.circle(ink, (135, 130), 15, 1, 3)
    cv2.circle(ink, (165, 130), 15, 1, 3)
    taken = comb_ink(lines, region, ink)
    first, _ = comb_marks(region, taken)
    assert first.box.right <= 140  # the grid's cut: through the first zero
    scorer = TemplateScorer()
    first, second = comb_marks(region, taken, scorer)
    # Every candidate cut in one batch; a second reads the cells with line pixels given back.
    assert scorer.calls <= 2
    assert 146 <= first.box.right <= 154 and 146 <= second.box.x <= 154


def test_entangled_neighbours_are_read_by_the_pair_reader_too():
    # Seed 35's '15011986': the '5' written out over the divider into the '0''s cell; its cell
    # alone read '9'. Cells whose digits touch or overlap across a divider carry the blend of
    # their own reading and the pair reader's reading of both cells together; a digit clear of
    # its neighbours is left to the classifier as before.
    lines, region, ink = four_cell_comb()
    ink = ink.astype(bool)
    paste(ink, glyph("2"), 122, 114)
    ink[142:145, 140:158] = True  # its base runs out over the divider (x = 150) ...
    paste(ink, glyph("0"), 155, 108)  # ... under the '0', past where it begins, not touching it
    paste(ink, glyph("7"), 265, 114)  # alone in the last cell
    taken = comb_ink(lines, region, ink.astype(np.uint8))
    pairs = FixedPairs(2, 6)
    scorer = TemplateScorer()
    plain = comb_marks(region, taken, scorer)
    marks = comb_marks(region, taken, scorer, pairs)
    assert [m.box for m in marks] == [m.box for m in plain]  # the same cut, only read otherwise
    assert pairs.seen == [(1, 28, 56)]  # one pair, one call
    own = scorer(batch_to_mnist([m.mask for m in marks[:2]]))
    assert marks[0].scores[2] == pytest.approx((own[0, 2] + (1 - own[0, 10])) / 2, abs=1e-5)
    assert marks[1].scores[6] == pytest.approx((own[1, 6] + (1 - own[1, 10])) / 2, abs=1e-5)
    assert marks[1].scores[0] == pytest.approx(own[1, 0] / 2, abs=1e-5)
    assert marks[2].scores is None and all(m.scores is None for m in plain)


def test_entangled_cells_are_cut_again_where_both_readers_then_agree():
    # Seed 1's '1262155381': a '6' written out over the divider into the next cell, the grid's
    # share of the ink read '0' '2'. Where the pair reader is sure of both digits (PAIR_SURE)
    # and the cells read otherwise, the cut of their ink whose parts read the pair reader's
    # digits is taken; the cells are left as they were when it is unsure or no cut reads so.
    from forms.regions import _recut_pairs
    ink = np.zeros((40, 60), bool)
    paste(ink, glyph("1"), 2, 4)
    paste(ink, glyph("0"), 28, 4)  # a third of it left of the divider (x = 36)
    cell_of = np.where(ink, (np.arange(60) >= 36)[None].repeat(40, 0), -1).astype(np.int64)
    scorer = TemplateScorer()
    assert scorer.read([cell_of == 0, cell_of == 1]) == "??"
    own = dict(enumerate(scorer(batch_to_mnist([cell_of == 0, cell_of == 1]))))
    for pairs, changed in ((FixedPairs(1, 0), True), (FixedPairs(1, 0, sure=0.9), False), (FixedPairs(7, 3), False)):
        cut = cell_of.copy()
        sides, _ = pairs(np.zeros((1, 28, 56), np.float32))
        recut = _recut_pairs(cut, [(0, 1)], sides, own, np.array([36.0]), 36.0, scorer)
        assert recut == ({0, 1} if changed else set())
        assert scorer.read([cut == 0, cut == 1]) == ("10" if changed else "??")
        assert (cut[ink] >= 0).all() and (changed or (cut == cell_of).all())


def test_cells_are_entangled_by_a_shared_component_or_overlapping_columns():
    from forms.regions import _entangled
    cell_of = np.full((10, 40), -1, np.int64)
    labels = np.zeros((10, 40), np.int32)
    cell_of[:, 0:8], labels[:, 0:8] = 0, 1
    cell_of[:, 8:14], labels[:, 8:14] = 1, 1   # one component cut at the divider: cells 0, 1
    cell_of[:, 20:26], labels[:, 20:26] = 2, 2
    cell_of[:3, 26:30], labels[:3, 26:30] = 2, 2
    cell_of[5:, 28:34], labels[5:, 28:34] = 3, 3  # cell 3 begins under cell 2's reach: 2, 3
    cell_of[:, 37:40], labels[:, 37:40] = 5, 4    # cell 4 is empty: 3 and 5 are no neighbours
    assert _entangled(cell_of, labels) == [(0, 1), (2, 3)]


def test_a_digit_running_into_a_written_neighbour_cell_is_cut_where_both_read_best():
    # Seed 13's '22062019': a '0' broken in two, its left half joined to the neighbour's digit
    # across the divider. The whole piece went to the neighbour's cell ('?') and the '0''s cell
    # kept its right half alone ('?'): no empty cell said the piece held two digits.
    lines, region, ink = four_cell_comb()
    ink = ink.astype(bool)
    paste(ink, glyph("2"), 121, 114)
    zero = glyph("0")
    zero[:, zero.shape[1] // 2: zero.shape[1] // 2 + 2] = False
    paste(ink, zero, 155, 114)
    ink[126:129, 140:158] = True  # the '2' runs on over the divider (x = 150) into the '0'
    taken = comb_ink(lines, region, ink.astype(np.uint8))
    scorer = TemplateScorer()
    marks = comb_marks(region, taken, scorer)
    assert scorer.read([m.mask for m in marks]) == "20"
    assert marks[0].box.right <= 152 and marks[1].box.x >= 144  # cut near the divider
    whole = comb_marks(region, taken)  # without the classifier it stays whole, as before
    assert whole[0].box.right > 160


def test_a_loose_stroke_at_a_cells_side_stays_unless_it_spoils_the_reading():
    six = glyph("6")
    body, stem = six.copy(), six.copy()
    body[:9], stem[9:] = False, False  # the stem parted from the loop: the loop alone reads '0'
    cell_of = np.full((40, 40), -1, np.int64)
    paste(cell_of_mask := np.zeros((40, 40), bool), body, 5, 4)
    cell_of[cell_of_mask] = 0
    piece = paste(np.zeros((40, 40), bool), stem, 5, 4)
    scorer = TemplateScorer()
    assert scorer.read([cell_of_mask, cell_of_mask | piece]) == "06"
    kept = cell_of.copy()
    _keep_loose(kept, [(0, piece)], scorer)
    assert (kept == 0).sum() == cell_of_mask.sum() + piece.sum()
    bar = np.zeros((40, 40), bool)
    bar[5:35, 32:38] = True  # a bar that makes the cell no digit goes
    dropped = cell_of.copy()
    _keep_loose(dropped, [(0, bar)], scorer)
    assert (dropped == 0).sum() == cell_of_mask.sum()
    lonely = np.full((40, 40), -1, np.int64)  # a cell with no other ink takes no nub
    _keep_loose(lonely, [(0, piece)], scorer)
    assert (lonely == -1).all()


def test_no_regions_no_change():
    ink = np.ones((10, 10), bool)
    rest, inks = take_ink(ink, np.zeros_like(ink), [])
    assert rest is ink and inks == []
    region = Region(Box(-50, -50, 20, 20), "line")  # a field predicted off the page
    rest, (taken,) = take_ink(ink, np.zeros_like(ink), [region])
    assert taken.mask.size == 0 and rest.all()


def test_a_stroke_lying_on_a_divider_stays_where_the_grey_page_shows_ink_over_print():
    lines, region, pen = four_cell_comb()
    cv2.ellipse(pen, (166, 130), (15, 20), 0, 0, 360, 1, 3)  # a '0' whose left side lies on the divider at x = 150
    printed, written = lines > 0, pen > 0
    gray = np.full(lines.shape, 250, np.uint8)
    gray[printed], gray[written] = 70, 50
    gray[printed & written] = 14  # ink over print is darker than either
    ink = written & ~printed  # line removal took the side with the divider
    found = {}
    for name, page in (("mask only", None), ("grey", gray)):
        _, (taken,) = take_ink(ink, printed, [region], page)
        c = taken.crop
        found[name] = taken.mask[:, 150 - c.x: 152 - c.x].any(axis=1).sum(), taken.mask[:, 200 - c.x: 202 - c.x].any()
        (mark,) = comb_marks(region, taken)
        found[name] += (mark.box.x,)
    assert found["mask only"] == (0, False, 152)  # the side is lost with the divider
    on_divider, bare_divider, left = found["grey"]
    assert on_divider >= 20 and not bare_divider and left <= 150  # the side stays, bare print still goes


def test_print_a_little_darker_in_places_is_not_taken_for_ink_over_it():
    lines, region, _ = four_cell_comb()
    printed = lines > 0
    rows = np.arange(lines.shape[0], dtype=np.float32)[:, None]
    # print from 80 down to 60 along the dividers (uneven toner or light), no pen anywhere
    gray = np.where(printed, 80 - 20 * (rows - 100) / 60, 250).clip(0, 255).astype(np.uint8)
    _, (taken,) = take_ink(np.zeros(lines.shape, bool), printed, [region], gray)
    assert not taken.mask.any()


def test_line_pieces_left_in_the_ink_are_stripped():
    printed = canvas()
    comb(printed, 100, 100, 50, 60, 4)
    lines = printed.copy()
    lines[100:160, 149:152] = 0  # a divider that page-wide line removal left in the ink
    ink = np.zeros(lines.shape, np.uint8)
    ink[100:160, 149:152] = 1
    cv2.circle(ink, (172, 130), 14, 1, 3)  # a digit in the cell right of it, touching it
    ink = ink.astype(bool)
    (found,) = find_frames(lines > 0, page_of(printed))
    region = from_frame(found)
    _, (taken,) = take_ink(ink, lines > 0, [region])
    (mark,) = comb_marks(region, taken)
    assert mark.box.x >= 155 and mark.box.h <= 33  # the circle alone



def test_pages_of_any_size_are_searched_for_pale_frames_without_error():
    for shape in [(1, 1), (1, 3000), (3000, 1), (20, 20), (30, 3000)]:
        gray = np.full(shape, 200, np.uint8)  # all "darker than paper"
        assert find_frames(np.zeros(shape, bool), gray, np.zeros(shape, bool)) == []


def test_a_pale_frame_is_read_as_it_stands_with_or_without_a_template():
    from forms.boxes import Frame
    from forms.reader import _field_region
    from forms.template import FieldSpec

    outer, inner = Box(100, 50, 300, 60), Box(103, 53, 294, 54)
    comb_frame = Frame(outer, inner, [Box(103 + 50 * k, 53, 46, 54) for k in range(6)], pale=True)
    region = from_frame(comb_frame)
    assert (region.kind, region.frame, region.cells, region.pale) == ("comb", None, [], True)
    # A template knows its comb's cells: they are kept, laid over the frame found, nothing stripped.
    spec = FieldSpec("account", "digits", (0.1, 0.1, 0.3, 0.1), cells=6)
    templated = _field_region(spec, comb_frame, Box(90, 40, 320, 80), np.full((200, 500), 250, np.uint8))
    assert templated.box == outer and templated.frame is None and templated.pale
    assert len(templated.cells) == 6 and all(outer.x <= c.x and c.right <= outer.right for c in templated.cells)


def test_a_templates_comb_that_detection_cut_otherwise_is_stripped_by_the_templates_cells():
    from forms.reader import _field_region
    from forms.template import FieldSpec

    printed = canvas()
    comb(printed, 60, 100, 44, 58, 8)
    holes = [Box(60 + 44 * k + 2, 102, 41, 55) for k in range(1, 8)]  # the first cell's opened
    found = Frame(Box(60, 100, 8 * 44, 58), Box.enclosing(holes), holes[:3], holes)  # cut in 3
    spec = FieldSpec("date", "date", (0.1, 0.1, 0.3, 0.1), cells=8)
    region = _field_region(spec, found, Box(50, 90, 370, 80), page_of(printed))
    assert len(region.cells) == 8 and region.frame.cells == region.cells
    assert region.cells[0].x < 60 + 44 and found.cells == holes[:3]  # the frame found is left as it was


@pytest.mark.parametrize("upright", [False, True])
def test_breaks_in_a_line_are_bridged_only_where_the_page_is_dark(upright):
    # A line 400 px long broken twice: a 20 px break where a pen stroke darkens the page (closed),
    # a 20 px break on white paper (left open); a short piece (under two gaps) is no line and is
    # not extended over the dark pixels beside it. Upright lines are handled the same way.
    from forms.boxes import _bridged, _gap

    lines = np.zeros((600, 600), bool)
    gray = np.full(lines.shape, 255, np.uint8)
    lines[100, 50:200] = lines[100, 220:300] = lines[100, 320:450] = True
    gray[100, 200:220] = 60  # the stroke over the first break
    lines[400, 50:55] = True  # a short piece, dark paper around it
    gray[400, 40:70] = 60
    if upright:
        lines, gray = lines.T.copy(), gray.T.copy()
    assert _gap(lines.shape) == 5  # breaks under BRIDGE x 5 = 25 px are closed where dark
    out = _bridged(lines, gray) > 0
    if upright:
        out = out.T
    assert out[100, 50:300].all()          # the dark break closed
    assert not out[100, 300:320].any()     # the white one left open
    assert out[100, 320:450].all()
    assert not out[400, 40:50].any() and not out[400, 55:70].any()  # the short piece not grown
    assert out.sum() == 250 + 130 + 5
