"""Row-wise morphology on the rows that hold enough pixels (pipeline.morphology)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.morphology import on_columns, on_rows, row_kernel


def _opening(length: int):
    return lambda rows: cv2.morphologyEx(rows, cv2.MORPH_OPEN, row_kernel(length))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_opening_on_the_busy_rows_equals_the_whole_mask_opened(seed):
    rng = np.random.default_rng(seed)
    mask = ((rng.random((120, 90)) < 0.02) * 255).astype(np.uint8)
    mask[10, 5:60] = mask[40:44, 20:80] = mask[70:110, 33] = 255  # runs along rows and a column
    for length in (1, 7, 30, 89, 200):
        whole = cv2.morphologyEx(mask, cv2.MORPH_OPEN, row_kernel(length))
        assert np.array_equal(on_rows(mask, length, _opening(length)), whole)
        down = cv2.morphologyEx(mask, cv2.MORPH_OPEN, row_kernel(length).T)
        assert np.array_equal(on_columns(mask, length, _opening(length)), down)


def test_rows_with_too_few_pixels_are_left_empty_and_the_operation_sees_only_the_others():
    mask = np.zeros((5, 20), np.uint8)
    mask[1, :12] = mask[3, :4] = 255
    seen = []
    out = on_rows(mask, 10, lambda rows: seen.append(rows.shape) or 255 - rows)
    assert seen == [(1, 20)]
    assert (out[1, 12:] == 255).all() and not out[1, :12].any()  # the operation's result, row 1 only
    assert not out[[0, 2, 3, 4]].any()
    assert on_rows(np.zeros((3, 3), np.uint8), 1, _opening(1)).shape == (3, 3)


def test_row_counts_counts_the_set_pixels_of_each_row():
    from pipeline.morphology import row_counts

    mask = np.zeros((4, 300), np.uint8)
    mask[1, :260] = mask[3, 7] = 255  # more pixels than a byte counts
    assert row_counts(mask).tolist() == [0, 260, 0, 1]
