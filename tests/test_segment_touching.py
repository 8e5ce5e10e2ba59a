"""Splitting of touching digits: scored candidate cuts, the scorer-free fallback, batching."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.test_segment_helpers import TemplateScorer, blank, glyph, paste, touching

import segmentation.touching as touching_module
from segmentation.segment import segment_page
from segmentation.touching import PAIR_SURE, candidate_columns, cut_parts, min_ink_path, prior


def page_with(*masks: np.ndarray, gap: int = 40) -> np.ndarray:
    """The masks side by side on one line, bottom-aligned, ``gap`` px apart."""
    h = max(m.shape[0] for m in masks)
    ink = blank(h + 80, sum(m.shape[1] for m in masks) + gap * (len(masks) + 1))
    x = gap
    for m in masks:
        paste(ink, m, x, 40 + h - m.shape[0])
        x += m.shape[1] + gap
    return ink


def assert_partition(ink: np.ndarray, strings) -> None:
    """Every ink pixel in exactly one component: splitting neither loses nor duplicates ink."""
    count = np.zeros(ink.shape, np.int32)
    for s in strings:
        for c in s:
            count[c.box.y:c.box.bottom, c.box.x:c.box.right] += c.mask
    assert (count[ink] == 1).all() and (count[~ink] == 0).all()


@pytest.mark.parametrize("pair", ["08", "35", "20", "47", "96", "13", "72", "59"])
def test_touching_pair_is_split_with_scorer(pair):
    mask, _ = touching(pair[0], pair[1], overlap=1)
    n, _ = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    assert n - 1 == 1, "the test needs one component"
    ink = page_with(mask)
    scorer = TemplateScorer()
    strings = segment_page(ink, scorer)
    assert scorer.calls == 2  # the pair whole, then its candidate parts
    assert [len(s) for s in strings] == [2]
    assert scorer.read([c.mask for c in strings[0]]) == pair
    assert_partition(ink, strings)


def test_cut_lands_between_the_digits():
    mask, x = touching("0", "8", overlap=2)
    ink = page_with(mask)
    left, right = segment_page(ink, TemplateScorer())[0]
    join = 40 + x  # where the 8 starts on the page
    assert abs(left.box.right - join) <= 4 and abs(right.box.x - join) <= 4


def test_touching_pair_is_split_without_scorer():
    mask, x = touching("0", "0", overlap=2)
    ink = page_with(mask)
    strings = segment_page(ink, None)
    assert [len(s) for s in strings] == [2]
    assert TemplateScorer().read([c.mask for c in strings[0]]) == "00"
    assert_partition(ink, strings)


def test_three_touching_digits():
    ab, _ = touching("2", "0", overlap=1)
    g = glyph("5")
    # Slide the 5 in from the right until it touches the 20.
    for x in range(ab.shape[1], 0, -1):
        m = np.zeros((max(ab.shape[0], g.shape[0]), x + g.shape[1]), bool)
        paste(m, ab, 0, m.shape[0] - ab.shape[0])
        paste(m, g, x, m.shape[0] - g.shape[0])
        if cv2.connectedComponents(m.view(np.uint8), connectivity=8)[0] == 2:
            break
    ink = page_with(m)
    scorer = TemplateScorer()
    strings = segment_page(ink, scorer)
    assert scorer.read([c.mask for c in strings[0]]) == "205"


def test_wide_single_digit_stays_whole():
    zero = glyph("0")
    wide = cv2.resize(zero.view(np.uint8), None, fx=1.6, fy=1.0,
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    assert wide.shape[1] / wide.shape[0] > 1.2
    ink = page_with(glyph("1"), wide, glyph("7"), gap=25)
    scorer = TemplateScorer()
    strings = segment_page(ink, scorer)
    assert scorer.calls == 2  # the wide 0 was a candidate: scored whole, then its parts
    assert [len(s) for s in strings] == [3]


def test_width_prior_knows_zeros_are_wide():
    # The same wide oval and the same confidence: read whole as an '8' it is taken for two
    # digits, read as a '0' (a class written wider, see CLASS_WIDTH) it stays one.
    zero = glyph("0")
    wide = cv2.resize(zero.view(np.uint8), None, fx=2.0, fy=1.0,
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    ink = page_with(glyph("1"), wide, glyph("7"), gap=25)

    def reads(label: int):
        def score(crops: np.ndarray) -> np.ndarray:
            probs = np.full((len(crops), 11), 0.01, np.float32)
            probs[:, label] = 0.9
            return probs / probs.sum(axis=1, keepdims=True)
        return score

    assert [len(s) for s in segment_page(ink, reads(8))] == [4]
    assert [len(s) for s in segment_page(ink, reads(0))] == [3]


def test_sure_whole_reading_skips_the_cuts():
    # A split's value is at most its prior: a component read whole with certainty, not wide
    # enough for the prior to favour two digits, never has its cuts made or scored.
    zero = glyph("0")
    wide = cv2.resize(zero.view(np.uint8), None, fx=1.35, fy=1.0,
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    ink = page_with(glyph("1"), wide, glyph("7"), gap=25)
    calls = []

    def certain_zero(crops: np.ndarray) -> np.ndarray:
        calls.append(len(crops))
        probs = np.zeros((len(crops), 11), np.float32)
        probs[:, 0] = 1.0
        return probs

    strings = segment_page(ink, certain_zero)
    assert len(calls) == 1 and [len(s) for s in strings] == [3]
    assert not any(c.doubtful for c in strings[0])


def test_two_score_calls_per_page():
    pairs = [touching(a, b, overlap=1)[0] for a, b in ["08", "35", "20", "47"]]
    ink = blank(500, 900)
    for k, m in enumerate(pairs):  # four fields in two rows, far apart
        paste(ink, m, 60 + 450 * (k % 2), 80 + 250 * (k // 2))
    scorer = TemplateScorer()
    strings = segment_page(ink, scorer)
    assert scorer.calls == 2  # all wholes in one batch, all parts in another
    assert [scorer.read([c.mask for c in s]) for s in strings] == ["08", "35", "20", "47"]


def shape_reader(crops: np.ndarray) -> np.ndarray:
    """Fake classifier reading the normalised ink's aspect: a stroke is a '1', a narrow
    round shape a '0', anything wider '?'."""
    probs = np.full((len(crops), 11), 0.001, np.float32)
    for k, crop in enumerate(crops):
        ys, xs = np.nonzero(crop > 0.3)
        aspect = (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)
        probs[k, 1 if aspect < 0.3 else 0 if aspect < 0.55 else 10] = 0.99
    return probs


def ring(width: int, height: int, thickness: int = 4) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (width // 2, height // 2), (width // 2 - 2, height // 2 - 2), 0, 0, 360, 1, thickness)
    return mask.astype(bool)


def test_narrow_pair_read_as_no_digit_is_cut():
    # '01' with a thin '1' is narrower than a wide component, but read whole as no digit.
    zero, one = ring(22, 44), np.ones((44, 5), bool)
    pair = np.zeros((44, 26), bool)
    paste(pair, zero, 0, 0)
    paste(pair, one, 21, 0)
    assert cv2.connectedComponents(pair.view(np.uint8))[0] == 2 and pair.shape[1] / 44 < 0.9
    ink = page_with(ring(22, 44), pair, ring(22, 44), gap=25)
    strings = segment_page(ink, shape_reader)
    assert [len(s) for s in strings] == [4]
    assert_partition(ink, strings)


def test_narrow_pair_with_a_one_is_cut_even_when_the_whole_reads_partly_as_a_digit():
    # '01' read whole mostly as no digit but 20% '4': the split '0' '1' must beat that although
    # the pair is barely wider than one digit (a '1' is half a digit's width).
    def reader(crops):
        probs = shape_reader(crops)
        unread = probs[:, 10] > 0.5
        probs[unread, 10], probs[unread, 4] = 0.79, 0.2
        return probs

    zero, one = ring(22, 44), np.ones((44, 5), bool)
    pair = np.zeros((44, 26), bool)
    paste(pair, zero, 0, 0)
    paste(pair, one, 21, 0)
    ink = page_with(ring(22, 44), pair, ring(22, 44), gap=25)
    strings = segment_page(ink, reader)
    assert [len(s) for s in strings] == [4]
    assert_partition(ink, strings)


@pytest.mark.parametrize("sides, cut", [((0.99, 0.99), True), ((0.99, 0.6), False)])
def test_pair_read_whole_as_no_digit_but_a_likely_digit_is_cut_when_the_pair_reader_is_sure(sides, cut):
    # '01' written so tight that the whole reads '?' 0.54 but '4' 0.45 (overlapping digits do):
    # the whole's digit value alone would keep it whole; a pair reader sure of both digits
    # confirms the cut, one unsure of a side (a printed letter, an '8' cut '11') undoes it.
    def reader(crops):
        probs = shape_reader(crops)
        unread = probs[:, 10] > 0.5
        probs[unread, 10], probs[unread, 4] = 0.54, 0.45
        return probs

    def pairs(images):
        digits = np.full((len(images), 2, 10), 0.001, np.float32)
        digits[:, 0, 0], digits[:, 1, 1] = sides
        return digits, np.ones(len(images), np.float32)

    zero, one = ring(22, 44), np.ones((44, 5), bool)
    pair = np.zeros((44, 26), bool)
    paste(pair, zero, 0, 0)
    paste(pair, one, 21, 0)
    ink = page_with(ring(22, 44), pair, ring(22, 44), gap=25)
    assert [len(s) for s in segment_page(ink, reader)] == [3]  # no pair reader: left whole
    strings = segment_page(ink, reader, pairs=pairs)
    assert [len(s) for s in strings] == [4 if cut else 3]
    assert_partition(ink, strings)


def test_narrow_digit_read_as_a_digit_is_not_cut():
    calls = []

    def reader(crops):
        calls.append(len(crops))
        return shape_reader(crops)

    ink = page_with(ring(22, 44), ring(23, 44), ring(22, 44), gap=25)
    strings = segment_page(ink, reader)
    assert len(calls) == 1 and [len(s) for s in strings] == [3]


def test_no_score_call_without_candidates():
    bar = np.ones((44, 6), bool)  # narrower than half its height: never two digits
    ink = page_with(bar, bar, gap=20)
    scorer = TemplateScorer()
    segment_page(ink, scorer)
    assert scorer.calls == 0


def test_min_ink_path_follows_the_gap():
    mask = np.zeros((30, 40), bool)
    mask[:, 5:15] = True
    mask[:, 22:35] = True
    mask[14:16, 15:22] = True  # a thin bridge joins the two blocks
    path = min_ink_path(mask, 18, 10)
    assert ((path >= 15) & (path <= 22)).all()
    left, right = cut_parts(mask, [path])
    assert left[:, :15].sum() == mask[:, :15].sum() and right[:, 22:].sum() == mask[:, 22:].sum()


def test_candidate_columns_find_the_valley():
    mask, x = touching("0", "0", overlap=1)
    cols = candidate_columns(mask, 2, 6.0)
    assert any(abs(c - x) <= 6 for c in cols)


def test_prior_prefers_one_digit_when_narrow_and_two_when_wide():
    assert prior(2, 1.0) < prior(1, 1.0)
    assert prior(2, 2.0) > prior(1, 2.0)
    assert prior(3, 3.0) > prior(2, 3.0)


def test_doubtful_marks_close_calls_only(monkeypatch):
    mask, _ = touching("0", "8", overlap=1)
    ink = page_with(mask, glyph("1"), glyph("7"), gap=30)
    strings = segment_page(ink, None)
    assert all(c.doubtful is False for s in strings for c in s)  # no scorer, no doubt
    clear = segment_page(ink, TemplateScorer())
    assert [c.doubtful for c in clear[0]] == [False] * 4  # 0 | 8 | 1 | 7: clear-cut
    monkeypatch.setattr(touching_module, "DOUBT_MARGIN", 1e9)  # every decision a close call
    hesitant = segment_page(ink, TemplateScorer())
    assert [c.doubtful for c in hesitant[0]] == [True, True, False, False]  # only the 08's parts


def test_rivals_are_close_options_reading_other_digits():
    from segmentation.touching import _rivals
    whole, cut_a, cut_b = (10,), (6, 5), (0, 5)
    # Another cut reading '0' '5' nearly as well as the chosen '6' '5': a rival.
    assert _rivals([-5.0, 1.4, 1.0], [whole, cut_a, cut_b], 1) == [2]
    # The same digits from a cut a few pixels away are none; a clear lead leaves none either.
    assert _rivals([-5.0, 1.4, 1.3], [whole, cut_a, cut_a], 1) == []
    assert _rivals([-5.0, 1.4, 0.5], [whole, cut_a, cut_b], 1) == []
    # The whole versus a split (the whole is option 0).
    assert _rivals([1.0, 0.8], [(8,), (0, 3)], 0) == [1]
    assert _rivals([0.8, 1.0], [(8,), (0, 3)], 1) == [0]


def test_wholes_left_whole_keep_their_scores():
    from pipeline.page import _probabilities
    from segmentation.normalize import batch_to_mnist

    wide = cv2.resize(glyph("0").view(np.uint8), None, fx=1.35, fy=1.0,
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    scorer = TemplateScorer()
    (string,) = segment_page(page_with(glyph("1"), wide, glyph("7"), gap=25), scorer)
    scored = [c for c in string if c.scores is not None]
    assert scored and all(np.allclose(c.scores, scorer(batch_to_mnist([c.mask]))[0]) for c in scored)

    class Counting:
        labels = tuple("0123456789?")
        seen = 0

        def predict(self, images):
            self.seen += len(images)
            return scorer(images)

    reader = Counting()
    probs = _probabilities(reader, string)
    assert reader.seen == len(string) - len(scored)
    assert np.allclose(probs, scorer(batch_to_mnist([c.mask for c in string])))


def test_agreeing_cuts_are_close_cuts_in_two_reading_other_digits():
    from segmentation.touching import AGREE_MARGIN, _agreeing_cuts
    values = [-3.6, 0.05, -1.4, -0.46, -0.5, -0.2 - AGREE_MARGIN, 0.0]
    readings = [(0,), (1, 0), (1, 0), (4, 7), (4, 7), (6, 7), (1, 2, 7)]
    counts = [2, 2, 2, 2, 2, 3]  # parts of each option after the whole
    # The best cut per other reading within the margin; the chosen reading and cuts in three are none.
    assert _agreeing_cuts(values, readings, counts, 1) == {(4, 7): (3, pytest.approx(0.51))}


@pytest.mark.parametrize("sides, lead, recut", [((0.95, 0.99), 1.0, True), ((0.95, 0.6), 1.0, False),
                                               ((0.95, 0.6), 0.1, True), ((0.95, 0.99), 3.5, True)])
def test_a_close_cut_the_pair_reader_agrees_with_replaces_the_chosen_cut(sides, lead, recut):
    # Sure of both digits, the pair reader moves the cut however far behind (within AGREE_MARGIN,
    # which _agreeing_cuts applies); unsure, only a cut trailing by less than DOUBT_MARGIN, in doubt.
    from pipeline.results import Box
    from segmentation.marks import Component
    from segmentation.touching import _Job, _recut

    # Two blocks; cut 1 at column 8 leaves a sliver (read '1' '0'), cut 2 at column 14 parts them.
    mask = np.zeros((20, 30), bool)
    mask[:, 2:12] = mask[:, 16:28] = mask[9:11, 12:16] = True
    cuts = [np.full(20, 8), np.full(20, 14)]
    job = _Job(Component(Box(100, 50, 30, 20), mask), [[], [cuts[0]], [cuts[1]]], 0, [2, 2], 2.0)
    parts_probs = np.full((4, 11), 0.001, np.float32)
    parts_probs[[0, 1, 2, 3], [1, 0, 4, 7]] = 0.99
    pair = np.full((2, 10), 0.001, np.float32)
    pair[0, 4], pair[1, 7] = sides
    decided = {(0, 0): job.pieces(1)}
    assert _recut(0, 0, job, {(4, 7): (2, lead)}, (pair, 1.0), parts_probs, decided) is recut
    pieces = decided[(0, 0)]
    assert [p.box.x for p in pieces] == ([102, 114] if recut else [102, 108])
    if recut:
        assert [int(np.argmax(p.scores)) for p in pieces] == [4, 7]
        assert all(p.doubtful for p in pieces) == (sides[0] * sides[1] < PAIR_SURE)


@pytest.mark.parametrize("whole_reads, two, pair_reads, pieces", [
    ("4", 0.01, "08", 1), ("4", 0.25, "08", 1), ("4", 0.5, "08", 2), ("?", 0.01, "08", 2),
    ("4", 0.5, "41", 1), ("4", 0.97, "41", 2), ("?", 0.5, "41", 2)])
def test_a_close_cut_is_undone_where_the_pair_reader_is_sure_of_one_digit(monkeypatch, whole_reads, two,
                                                                           pair_reads, pieces):
    # A '4' with a long bar, as wide as two digits, reads '4' whole and two digits cut, the cut
    # winning by a little on the width prior: a pair reader sure it holds one digit undoes the
    # cut, and so does one unsure of two that reads other digits than the parts ('41' where the
    # cut reads '0' '8'); one unsure of it that reads the cut's digits, one sure of two, or a
    # whole read as no digit, leaves it cut (and in doubt).
    templates = TemplateScorer()

    def reader(crops):
        probs = templates(crops)
        for k, crop in enumerate(crops):
            ys, xs = np.nonzero(crop > 0.3)
            if (xs.max() - xs.min() + 1) > 0.9 * (ys.max() - ys.min() + 1):  # the whole, wide
                probs[k] = 0.001
                probs[k, 4 if whole_reads == "4" else 10] = 0.99
        return probs

    def pairs(images):
        sides = np.full((len(images), 2, 10), 0.01, np.float32)
        sides[:, 0, int(pair_reads[0])] = sides[:, 1, int(pair_reads[1])] = 0.9
        return sides, np.full(len(images), two, np.float32)

    monkeypatch.setattr(touching_module, "DOUBT_MARGIN", 1e9)  # the whole is a close rival
    mask, _ = touching("0", "8", overlap=1)
    ink = page_with(mask)
    assert [len(s) for s in segment_page(ink, reader)] == [2]  # the cut wins without a pair reader
    (string,) = segment_page(ink, reader, pairs=pairs)
    assert len(string) == pieces
    assert all(c.doubtful for c in string) == (pieces == 2)
    if pieces == 1:
        assert int(np.argmax(string[0].scores)) == 4
    assert_partition(ink, [string])


@pytest.mark.parametrize("sibling, pair_reads, parts", [("7", "91", 3), ("7", "97", 2), ("?", "91", 2)])
def test_a_cut_part_read_as_no_digit_is_cut_again_where_both_readers_read_two(sibling, pair_reads, parts):
    # '3' | '91': a mark cut in two whose right part still holds two digits, read as no digit.
    # Cut again where the pair reader is sure of two digits and the classifier reads the same
    # ones in the new parts; not where they disagree, nor where no part of the cut reads a digit
    # (a printed corner mark cut in two is no pair of '1's).
    from pipeline.results import Box
    from segmentation.marks import Component
    from segmentation.touching import _resplit_unread

    def scored(mask: np.ndarray, x: int, label: int) -> Component:
        comp = Component(Box(x, 0, mask.shape[1], mask.shape[0]), mask)
        comp.scores = np.full(11, 0.001, np.float32)
        comp.scores[label] = 0.99
        return comp

    ring_part, bar = ring(22, 44), np.ones((44, 5), bool)
    pair = np.zeros((44, 32), bool)
    paste(pair, ring_part, 0, 0)
    paste(pair, bar, 25, 0)
    pair[20:23, 20:26] = True  # a bridge: one component
    left = scored(ring(22, 44), 100, 7 if sibling == "7" else 10)
    right = scored(pair, 124, 10)
    decided = {(0, 0): [left, right]}

    def reader(crops):  # a ring is a '9', a bar a '1', anything wider '?'
        probs = shape_reader(crops)
        probs[:, 9], probs[:, 0] = probs[:, 0], 0.001
        return probs

    def pairs(images):
        sides = np.full((len(images), 2, 10), 0.001, np.float32)
        sides[:, 0, int(pair_reads[0])] = sides[:, 1, int(pair_reads[1])] = 0.99
        return sides, np.ones(len(images), np.float32)

    _resplit_unread(decided, reader, pairs, stroke=4.0)
    pieces = decided[(0, 0)]
    assert len(pieces) == parts
    if parts == 3:
        assert [int(np.argmax(p.scores)) for p in pieces[1:]] == [9, 1]
        assert pieces[1].box.x == 124 and sum(int(p.mask.sum()) for p in pieces[1:]) == int(pair.sum())


def test_score_crops_scores_each_distinct_crop_once_and_answers_for_every_crop():
    from segmentation.normalize import batch_to_mnist
    from segmentation.touching import score_crops

    a, b = np.zeros((30, 12), bool), np.zeros((30, 12), bool)
    a[:, 4:8] = True
    b[5:25, 2:10] = True
    c = np.ones((12, 30), bool)  # a's pixel count, another shape
    seen = []

    def score(images: np.ndarray) -> np.ndarray:
        seen.append(len(images))
        return images.reshape(len(images), -1)[:, :11] + images.sum(axis=(1, 2))[:, None]

    crops = [a, b, a.copy(), c, b, a]
    out = score_crops(score, crops)
    assert seen == [3]
    np.testing.assert_array_equal(out, score(batch_to_mnist(crops)))
    assert score_crops(score, []).shape == (0, 11)
