"""Repairs decided by a string's layout: a broken digit joined, two digits read as one cut."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.test_segment_rejoin import pieces
from tests.test_segment_touching import ring

from pipeline.results import Box
from segmentation.layout import halves, rejoin_to_shape, split_to_shape
from segmentation.marks import Component


def loops(crop: np.ndarray) -> int:
    """Closed loops (holes) in a crop's ink."""
    _, hierarchy = cv2.findContours((crop > 0.3).astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int((hierarchy[0][:, 3] >= 0).sum())


def one_loop_reader(crops: np.ndarray, sure: float = 0.99) -> np.ndarray:
    """Fake classifier: a crop with exactly one closed loop is a '0' at ``sure`` (two digits
    together are no digit, as for the real one), anything else no digit."""
    probs = np.full((len(crops), 11), (1 - sure) / 10, np.float32)
    for k, crop in enumerate(crops):
        probs[k, 0 if loops(crop) == 1 else 10] = sure
    return probs


def dated(middle: list[Component]) -> list[Component]:
    """'00.<middle>.0000' in reading order: rings 34 px tall, full stops between the groups."""
    def rings(n: int, x: int) -> list[Component]:
        return [pieces(ring(24, 34), x=x + 30 * k)[0] for k in range(n)]

    def stop(x: int) -> Component:
        return Component(Box(x, 80, 4, 4), np.ones((4, 4), bool), separator=".")

    return rings(2, 0) + [stop(62)] + middle + [stop(220)] + rings(4, 230)


@pytest.mark.parametrize("sure, doubtful", [(0.99, False), (0.8, True)])
def test_a_group_one_digit_too_long_for_its_layout_has_a_broken_digit_joined(sure, doubtful):
    zero = ring(24, 34)  # a '0' in two halves, each read as a digit of its own ('1' and '7', say)
    parts = [Component(Box(100, 50, 12, 34), zero[:, :12]), Component(Box(112, 50, 12, 34), zero[:, 12:])]
    string = dated(parts + pieces(ring(24, 34), x=130))  # '00.???.0000': no date, no amount
    (out,) = rejoin_to_shape([string], [34.0], lambda crops: one_loop_reader(crops, sure))
    assert "".join(c.separator or "0" for c in out) == "00.00.0000"
    joined = out[3]
    # A join the ink reads below REPAIR_SURE goes to review: the layout, not the ink, decided it.
    assert joined.doubtful == doubtful and joined.box == Box(100, 50, 24, 34)
    assert np.array_equal(joined.mask, zero)


def test_a_plausible_layout_or_a_join_read_as_no_digit_is_left_alone():
    calls = []

    def reader(crops):
        calls.append(len(crops))
        return one_loop_reader(crops)

    fine = dated(pieces(ring(24, 34), x=100) + pieces(ring(24, 34), x=130))  # '00.00.0000'
    assert rejoin_to_shape([fine], [34.0], reader) == [fine] and calls == []
    bars = []
    for x in (100, 115, 130):  # three upright bars: any two together are still no '0'
        bar = np.zeros((34, 6), bool)
        bar[:, 2:4] = True
        bars += pieces(bar, x=x)
    string = dated(bars)
    assert rejoin_to_shape([string], [34.0], reader) == [string] and len(calls) == 1  # one batch
    assert rejoin_to_shape([string], [34.0], None) == [string]



def two_rings() -> np.ndarray:
    """Two rings written over each other: one mark, 40 px wide."""
    mask = np.zeros((34, 40), bool)
    mask[:, :24] |= ring(24, 34)
    mask[:, 16:] |= ring(24, 34)
    return mask


def pair_reader(sure: float = 0.9):
    """Fake pair reader: a crop with two loops or more is two '0's (each at ``sure``), anything
    else one mark."""
    def read(crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sides = np.full((len(crops), 2, 10), (1 - sure) / 9, np.float32)
        sides[:, :, 0] = sure
        two = np.array([0.95 if loops(c) >= 2 else 0.05 for c in crops], np.float32)
        return sides, two
    return read


def short_year(mark: Component) -> list[Component]:
    """'00.00.0<mark>0': a year of three marks, one of them ``mark`` at x = 260."""
    def stop(x: int) -> Component:
        return Component(Box(x, 80, 4, 4), np.ones((4, 4), bool), separator=".")

    rings = [pieces(ring(24, 34), x=x)[0] for x in (0, 30, 100, 130, 230, 310)]
    return rings[:2] + [stop(62)] + rings[2:4] + [stop(190)] + [rings[4], mark, rings[5]]


@pytest.mark.parametrize("sure, doubtful", [(0.9, True), (0.99, False)])  # both digits: 0.81, 0.98
def test_a_group_one_digit_short_for_its_layout_has_two_digits_read_as_one_cut(sure, doubtful):
    mark = Component(Box(260, 50, 40, 34), two_rings())
    (out,) = split_to_shape([short_year(mark)], [34.0], pair_reader(sure))
    assert "".join(c.separator or "0" for c in out) == "00.00.0000"
    left, right = out[7], out[8]
    assert left.doubtful == doubtful and right.doubtful == doubtful
    assert left.box.x == 260 and right.box.right == 300 and left.box.x < right.box.x
    assert left.mask.sum() + right.mask.sum() == two_rings().sum()
    for part in (left, right):
        assert part.scores.shape == (11,) and part.scores.argmax() == 0 and part.scores[10] == 0


def test_no_split_without_a_pair_reader_sure_of_two_digits():
    mark = Component(Box(260, 50, 40, 34), two_rings())
    string = short_year(mark)
    assert split_to_shape([string], [34.0], None) == [string]
    assert split_to_shape([string], [34.0], pair_reader(sure=0.6)) == [string]  # 0.36 for both
    one = pieces(ring(24, 34), x=260)[0]  # one loop: the reader says one mark
    string = short_year(one)
    assert split_to_shape([string], [34.0], pair_reader()) == [string]


def test_halves_cut_where_least_ink_is():
    bar = np.zeros((30, 30), bool)
    bar[:, 2:6] = bar[:, 24:28] = True
    bar[14:16, :] = True  # an 'H': the cut crosses only its bar
    left, right = halves(Component(Box(10, 20, 30, 30), bar))
    assert left.box == Box(10, 20, left.box.w, 30) and right.box.right == 40
    assert left.mask.sum() + right.mask.sum() == bar.sum() and left.box.w < 20
    for w in (1, 2, 3):  # slivers are not cut
        assert halves(Component(Box(0, 0, w, 20), np.ones((20, w), bool))) is None
