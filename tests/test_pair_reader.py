"""The pair reader: touching pairs normalised to 28x56, the shipped LiteRT model reading pairs
written from fixture digits, its card check, and how its reading is blended into a cut."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

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
    seen = []

    def pairs(images: np.ndarray) -> np.ndarray:
        seen.append(images.shape)
        out = np.zeros((len(images), 2, 10), np.float32)
        out[:, 0, 7] = out[:, 1, 1] = 1.0   # '71'
        return out

    plain = split_touching([[_pair_blob()]], [40.0], 4.0, _scorer)[0]
    assert len(plain) == 2 and all(c.scores is None for c in plain)
    cut = split_touching([[_pair_blob()]], [40.0], 4.0, _scorer, pairs=pairs)[0]
    assert seen == [(1,) + PAIR_SHAPE]        # one batch, the whole blob
    assert [int(np.argmax(c.scores)) for c in cut] == [7, 1]
    assert cut[0].scores[7] == pytest.approx(0.55) and cut[0].scores[1] == pytest.approx(0.45)


def _pair_reading(left: int, right: int):
    def pairs(images: np.ndarray) -> np.ndarray:
        out = np.zeros((len(images), 2, 10), np.float32)
        out[:, 0, left] = out[:, 1, right] = 1.0
        return out
    return pairs


@pytest.mark.parametrize("settle, read, doubtful", [
    (True, (1, 1), False),   # only another cut came close, and the pair reader reads the cut's '11'
    (True, (7, 1), True),    # the pair reader reads other digits: still in doubt
    (False, (1, 1), True),   # the whole came close too: a pair reader cannot say one digit or two
])
def test_pair_reader_settles_a_doubt_between_cuts_only(settle, read, doubtful):
    from segmentation.touching import _read_pairs
    blob = _pair_blob()
    pieces = [Component(Box(100, 50, 26, 40), blob.mask[:, :26], doubtful=True),
              Component(Box(126, 50, 26, 40), blob.mask[:, 26:], doubtful=True)]
    probs = np.zeros((2, 11), np.float32)
    probs[:, 1] = 0.9
    probs[:, 7] = 0.1
    _read_pairs([(blob, pieces, probs, settle)], [], _pair_reading(*read), probs, {})
    assert [p.doubtful for p in pieces] == [doubtful, doubtful]


@pytest.fixture(scope="module")
def reader() -> PairReader:
    return PairReader(MODELS)


@shipped
def test_shipped_reader_reads_pairs_written_from_fixture_digits(reader):
    images, labels = load_mnist_fixture()   # MNIST test digits: never seen in training
    x, y = make_pairs(images, labels, 60, seed=3)
    probs = reader.predict(x)
    assert probs.shape == (60, 2, 10)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0, atol=1e-5)
    logits = np.log(np.clip(probs, 1e-9, 1.0)).reshape(60, 20)
    assert both_right(logits, y).mean() >= 0.9


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


MNIST = default_dir("DIGITS_MNIST_DIR", "mnist")


@pytest.mark.skipif(MNIST is None, reason="MNIST files not found (../shared/data/mnist or DIGITS_MNIST_DIR)")
def test_training_command_writes_a_reader_and_its_card(tmp_path):
    card = train_pairs(PairOptions(mnist=MNIST, out=tmp_path, pairs=64, epochs=1, check_pairs=40))
    assert (tmp_path / PAIR_MODEL_FILE).is_file() and card["sha256"] == json.loads(
        (tmp_path / PAIR_CARD_FILE).read_text())["sha256"]
    assert set(card["data_md5"]) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert card["temperature"] > 0 and "CC BY-SA 3.0" in card["license"]
    probs = PairReader(tmp_path).predict(np.zeros((3,) + PAIR_SHAPE, np.float32))
    assert probs.shape == (3, 2, 10)


def _nothing_reads(images: np.ndarray) -> np.ndarray:
    """A stand-in classifier that reads every crop, whole or cut, as no digit."""
    out = np.full((len(images), 11), 0.02, np.float32)
    out[:, 10] = 0.8
    return out


@pytest.mark.parametrize("sure, parts", [(0.99, 2), (0.6, 1)])
def test_a_mark_read_as_no_digit_is_cut_only_when_the_pair_reader_is_sure(sure, parts):
    def pairs(images: np.ndarray) -> np.ndarray:
        out = np.full((len(images), 2, 10), (1 - sure) / 9, np.float32)
        out[:, 0, 4] = out[:, 1, 0] = sure   # '40'
        return out

    read = split_touching([[_pair_blob()]], [40.0], 4.0, _nothing_reads, pairs=pairs)[0]
    assert len(read) == parts
    if parts == 2:
        assert [int(np.argmax(c.scores[:10])) for c in read] == [4, 0]
        assert all(c.scores[10] == pytest.approx(0.8) for c in read)  # still no digit to the classifier


@shipped
def test_pairs_are_read_the_same_in_any_batch(reader):
    images, labels = load_mnist_fixture()
    x, _ = make_pairs(images, labels, 40, seed=4)   # more than one PAIR_BATCH
    together = reader.predict(x)
    alone = np.concatenate([reader.predict(x[i:i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_training_command_names_a_foreign_mnist_file(tmp_path, capsys):
    from cli import main

    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes(b"not MNIST")
    assert main(["train-pairs", "--mnist", str(tmp_path), "--out", str(tmp_path / "m")]) == 1
    assert "train-images-idx3-ubyte.gz: checksum differs" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
