"""The pair reader: touching pairs normalised to 28x56, the shipped LiteRT model reading pairs
written from fixture digits, its card check, and how its reading is blended into a cut."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from classifier.datasets import default_dir
from classifier.pair_model import PairOptions, both_right, make_pairs, train_pairs
from classifier.runtime import PAIR_CARD_FILE, PAIR_MODEL_FILE, CARD_FILE, MODEL_FILE, DigitClassifier, PairReader
from pipeline.results import Box
from segmentation.marks import Component
from segmentation.normalize import PAIR_SHAPE, batch_to_pair, to_pair
from segmentation.touching import blend_pair, split_touching
from tests.fixtures import load_mnist_fixture
from tests.test_segment_helpers import FixedPairs

MODELS = Path(__file__).resolve().parents[1] / "models"
shipped = pytest.mark.skipif(not (MODELS / PAIR_MODEL_FILE).exists(), reason="no shipped pair reader in models/")


def test_to_pair_fits_the_height_and_centres_the_box():
    ink = np.zeros((60, 90), bool)
    ink[10:50, 20:70] = True  # a 40 x 50 blob: scaled by 0.5 to 20 x 25
    out = to_pair(ink)
    assert out.shape == PAIR_SHAPE and out.dtype == np.float32
    rows, cols = np.nonzero(out > 0.5)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 25
    assert rows.min() == 4 and cols.min() == (56 - 25) // 2
    assert out.max() == pytest.approx(1.0)


def test_to_pair_fits_a_wide_blob_by_its_width_and_gives_zeros_for_nothing():
    wide = np.zeros((10, 200), np.uint8)
    wide[:, :] = 255
    cols = np.nonzero(to_pair(wide).max(axis=0) > 0.5)[0]
    assert len(cols) == 52
    assert not to_pair(np.zeros((5, 5), bool)).any()
    assert batch_to_pair([]).shape == (0,) + PAIR_SHAPE
    with pytest.raises(ValueError):
        to_pair(np.zeros((2, 2, 2)))


def test_blend_keeps_the_no_digit_share_and_shows_disagreement():
    single = np.zeros(11)
    single[1], single[10] = 0.6, 0.4           # a part read '1', 40% no digit
    pair = np.zeros(10)
    pair[4] = 1.0                              # the pair reader: its side is a '4'
    p = blend_pair(single, pair)
    assert p.sum() == pytest.approx(1.0) and p[10] == pytest.approx(0.4)
    assert p[4] == pytest.approx(0.3) and p[1] == pytest.approx(0.3)  # a close call: flagged later
    agree = blend_pair(np.eye(11)[7] * 0.98 + 0.002, np.eye(10)[7])
    assert agree.argmax() == 7 and agree[7] > 0.98


def _pair_blob() -> Component:
    mask = np.zeros((40, 52), bool)
    mask[2:38, 4:8] = True       # a '1'
    mask[2:38, 30:34] = True     # another '1'
    mask[20:23, 4:34] = True     # joined by a stroke
    return Component(Box(100, 50, 52, 40), mask)


def _scorer(images: np.ndarray) -> np.ndarray:
    """A stand-in classifier: any part narrower than half the field is a confident '1', anything
    wider no digit; so the blob must be cut."""
    out = np.zeros((len(images), 11), np.float32)
    wide = (images.max(axis=1) > 0.3).sum(axis=1) > 14
    out[wide, 10] = 1.0
    out[~wide, 1] = 0.9
    out[~wide, 7] = 0.1
    return out


def test_a_cut_pair_takes_the_pair_readers_reading():
    pairs = FixedPairs(7, 1)

    plain = split_touching([[_pair_blob()]], [40.0], 4.0, _scorer)[0]
    assert len(plain) == 2 and all(c.scores is None for c in plain)
    cut = split_touching([[_pair_blob()]], [40.0], 4.0, _scorer, pairs=pairs)[0]
    assert pairs.seen == [(1,) + PAIR_SHAPE]  # one batch, the whole blob
    assert [int(np.argmax(c.scores)) for c in cut] == [7, 1]
    assert cut[0].scores[7] == pytest.approx(0.55) and cut[0].scores[1] == pytest.approx(0.45)


def _two_cut_doubt(rivals: list[int], probs_read: tuple[int, int] = (1, 1)):
    from segmentation.touching import _Doubt
    blob = _pair_blob()
    pieces = [Component(Box(100, 50, 26, 40), blob.mask[:, :26], doubtful=True),
              Component(Box(126, 50, 26, 40), blob.mask[:, 26:], doubtful=True)]
    probs = np.zeros((2, 11), np.float32)
    probs[[0, 1], list(probs_read)] = 0.9
    return _Doubt(blob, 1, rivals, pieces, probs)


def _reading(left: int, right: int, two: float):
    sides = np.zeros((2, 10), np.float32)
    sides[0, left] = sides[1, right] = 1.0
    return sides, two


@pytest.mark.parametrize("rivals, read, two, settled", [
    ([2], (1, 1), 0.5, True),     # only another cut came close; the pair reader reads the cut's '11'
    ([2], (7, 1), 1.0, False),    # ... but it reads other digits: still in doubt
    ([0], (7, 1), 0.99, True),    # only the whole came close; the reader is sure of two digits
    ([0], (1, 1), 0.9, False),    # ... not sure enough
    ([0, 2], (1, 1), 0.99, True),  # both: two digits, and the cut's
    ([0, 2], (7, 1), 0.99, False),
])
def test_the_pair_reader_settles_close_calls_it_can_judge(rivals, read, two, settled):
    assert _two_cut_doubt(rivals).settled(_reading(*read, two)) is settled


@pytest.mark.parametrize("two, settled", [(0.01, True), (0.3, False)])
def test_a_whole_read_as_one_digit_is_settled_by_the_two_digit_head(two, settled):
    from segmentation.touching import _Doubt
    blob = _pair_blob()
    assert _Doubt(blob, 0, [1], [blob]).settled(_reading(0, 0, two)) is settled


def test_a_cut_into_three_is_never_settled_by_a_pair_reader():
    from segmentation.touching import _Doubt
    blob = _pair_blob()
    assert not _Doubt(blob, 1, [0], [blob, blob, blob], np.zeros((3, 11))).settled(_reading(1, 1, 1.0))


@pytest.fixture(scope="module")
def reader() -> PairReader:
    return PairReader(MODELS)


@shipped
def test_shipped_reader_reads_pairs_written_from_fixture_digits(reader):
    images, labels = load_mnist_fixture()   # MNIST test digits: never seen in training
    x, y = make_pairs(images, labels, 60, seed=3)
    probs, two = reader.predict(x)
    assert probs.shape == (60, 2, 10) and two.shape == (60,)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-5)
    logits = np.log(np.clip(probs, 1e-9, 1.0)).reshape(60, 20)
    assert both_right(logits, y).mean() >= 0.9
    assert (two >= 0.5).mean() >= 0.95                     # pairs are pairs


@shipped
def test_shipped_reader_tells_single_digits_from_pairs(reader):
    images, labels = load_mnist_fixture()
    x, y = make_pairs(images, labels, 0, seed=5, singles=60)
    assert (y[:, 2] == 0).all()
    _, two = reader.predict(x)
    assert (two < 0.5).mean() >= 0.95


@shipped
def test_digit_classifier_carries_the_pair_reader_only_where_one_is_shipped(tmp_path):
    assert DigitClassifier(MODELS).pairs is not None
    for name in (MODEL_FILE, CARD_FILE):
        shutil.copy(MODELS / name, tmp_path / name)
    assert DigitClassifier(tmp_path).pairs is None


@shipped
def test_a_pair_reader_not_matching_its_card_is_refused(tmp_path):
    for name in (PAIR_MODEL_FILE, PAIR_CARD_FILE):
        shutil.copy(MODELS / name, tmp_path / name)
    card = json.loads((tmp_path / PAIR_CARD_FILE).read_text())
    card["sha256"] = "0" * 64
    (tmp_path / PAIR_CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ValueError, match="sha256"):
        PairReader(tmp_path)
    with pytest.raises(ValueError, match="expected images"):
        PairReader(MODELS).predict(np.zeros((2, 28, 28), np.float32))


@shipped
def test_a_pair_reader_without_the_two_digit_head_is_refused(tmp_path):
    for name in (PAIR_MODEL_FILE, PAIR_CARD_FILE):
        shutil.copy(MODELS / name, tmp_path / name)
    card = json.loads((tmp_path / PAIR_CARD_FILE).read_text())
    del card["two_temperature"]
    (tmp_path / PAIR_CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ValueError, match="train-pairs"):
        PairReader(tmp_path)


MNIST = default_dir("DIGITS_MNIST_DIR", "mnist")


@pytest.mark.skipif(MNIST is None, reason="MNIST files not found (../shared/data/mnist or DIGITS_MNIST_DIR)")
def test_training_command_writes_a_reader_and_its_card(tmp_path):
    card = train_pairs(PairOptions(mnist=MNIST, out=tmp_path, pairs=64, singles=32, epochs=1, check_pairs=40))
    assert (tmp_path / PAIR_MODEL_FILE).is_file() and card["sha256"] == json.loads(
        (tmp_path / PAIR_CARD_FILE).read_text())["sha256"]
    assert set(card["data_md5"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert card["temperature"] > 0 and card["two_temperature"] > 0 and "CC BY-SA 3.0" in card["license"]
    assert card["metrics"]["test_singles"] == 20 and 0 <= card["metrics"]["test_two_digits"]["accuracy"] <= 1
    probs, two = PairReader(tmp_path).predict(np.zeros((3,) + PAIR_SHAPE, np.float32))
    assert probs.shape == (3, 2, 10) and two.shape == (3,) and ((two >= 0) & (two <= 1)).all()


def _reads_everything_as(label: int, p: float):
    """A stand-in classifier that reads every crop, whole or cut, as ``label`` (10: no digit)
    with probability ``p``, the rest shared evenly."""
    def score(images: np.ndarray) -> np.ndarray:
        out = np.full((len(images), 11), (1 - p) / 10, np.float32)
        out[:, label] = p
        return out
    return score


_nothing_reads = _reads_everything_as(10, 0.8)


@pytest.mark.parametrize("sure, parts", [(0.99, 2), (0.6, 1)])
def test_a_mark_read_as_no_digit_is_cut_only_when_the_pair_reader_is_sure(sure, parts):
    pairs = FixedPairs(4, 0, sure, two=0.5)

    read = split_touching([[_pair_blob()]], [40.0], 4.0, _nothing_reads, pairs=pairs)[0]
    assert len(read) == parts
    if parts == 2:
        assert [int(np.argmax(c.scores[:10])) for c in read] == [4, 0]
        assert all(c.scores[10] == pytest.approx(0.8) for c in read)  # still no digit to the classifier


@shipped
def test_pairs_are_read_the_same_in_any_batch(reader):
    images, labels = load_mnist_fixture()
    x, _ = make_pairs(images, labels, 40, seed=4)   # more than one PAIR_BATCH
    together, two = reader.predict(x)
    alone = [reader.predict(x[i:i + 1]) for i in range(len(x))]
    np.testing.assert_allclose(together, np.concatenate([a for a, _ in alone]), atol=1e-5)
    np.testing.assert_allclose(two, np.concatenate([t for _, t in alone]), atol=1e-5)


def test_training_command_names_a_foreign_mnist_file(tmp_path, capsys):
    from cli import main

    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(b"not MNIST")
    assert main(["train-pairs", "--mnist", str(tmp_path), "--out", str(tmp_path / "m")]) == 1
    assert "train-images-idx3-ubyte.gz: checksum differs" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _tight_blob() -> Component:
    """A '7' and a '1' written as tight as one digit: 40 px tall, 18 wide (aspect 0.45)."""
    mask = np.zeros((40, 18), bool)
    mask[2:5, 0:10] = True       # the 7's bar
    mask[2:38, 8:11] = True      # its stem, shared with
    mask[2:38, 14:17] = True     # the '1'
    mask[18:21, 8:17] = True     # joined by a stroke
    return Component(Box(100, 50, 18, 40), mask)


_unsure_seven = _reads_everything_as(7, 0.6)  # a '7', below NARROW_SURE


@pytest.mark.parametrize("two, parts", [(0.999, 2), (0.9, 1)])
def test_a_narrow_mark_read_as_a_digit_is_cut_when_the_pair_reader_is_sure_it_is_two(two, parts):
    pairs = FixedPairs(7, 1, two=two)

    read = split_touching([[_tight_blob()]], [40.0], 3.0, _unsure_seven, pairs=pairs)[0]
    assert len(read) == parts and pairs.seen[0][0] == 1
    assert not any(c.doubtful for c in read)  # the pair reader was sure either way
    without = split_touching([[_tight_blob()]], [40.0], 3.0, _unsure_seven)[0]
    assert len(without) == 1  # no pair reader: a narrow mark read as a digit stays whole


def _one_through_zero() -> Component:
    """A '1' drawn down through the left side of a '0': 40 px tall, 38 wide, one component that
    no cut leaves both digits whole."""
    mask = np.zeros((40, 38), np.uint8)
    cv2.ellipse(mask, (21, 20), (15, 18), 0, 0, 360, 1, 3)
    mask[1:39, 2:6] = 1
    return Component(Box(100, 50, 38, 40), mask.astype(bool))


@pytest.mark.parametrize("two, read_whole, digits", [(0.999, 0.95, [1, 0]), (0.9, 0.95, [0]), (0.999, 0.995, [0])])
def test_a_wide_mark_no_cut_could_beat_is_cut_when_the_pair_reader_is_sure_it_is_two(two, read_whole, digits):
    pairs = FixedPairs(1, 0, two=two)

    read = split_touching([[_one_through_zero()]], [40.0], 3.0, _reads_everything_as(0, read_whole), pairs=pairs)[0]
    assert [int(np.argmax(c.scores[:10])) if c.scores is not None else 0 for c in read] == digits
    # Read whole surely (NARROW_SURE), the mark is not even asked.
    assert len(pairs.seen) == (read_whole < 0.99)
