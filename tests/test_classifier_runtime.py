"""The shipped LiteRT model through DigitClassifier: accuracy on fixture digits, refusal of a
corrupt or foreign model, batching, no TensorFlow import."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier.runtime import CARD_FILE, MODEL_FILE, DigitClassifier
from tests.fixtures import load_mnist_fixture

MODELS = Path(__file__).resolve().parents[1] / "models"
pytestmark = pytest.mark.skipif(not (MODELS / MODEL_FILE).exists(), reason="no shipped model in models/")


@pytest.fixture(scope="module")
def classifier() -> DigitClassifier:
    return DigitClassifier(MODELS)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_mnist_fixture()
    return images.astype(np.float32) / 255.0, labels


def test_classifies_fixture_digits(classifier, digits):
    images, labels = digits
    probs = classifier.predict(images)
    assert probs.shape == (200, 11) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs.argmax(axis=1) == labels).sum() >= 198  # the shipped model gets all 200


def test_labels_and_threshold(classifier):
    assert classifier.labels == tuple("0123456789") + ("?",)
    assert 0.0 < classifier.threshold < 1.0
    assert classifier.temperature > 0.0


def test_batching_does_not_change_results(classifier, digits):
    images = digits[0][:37]
    together = classifier.predict(images)
    one_by_one = np.concatenate([classifier.predict(images[i: i + 1]) for i in range(len(images))])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert classifier.predict(np.zeros((0, 28, 28), np.float32)).shape == (0, 11)


def test_more_than_one_batch(classifier, digits):
    images = np.concatenate([digits[0]] * 3)  # 600 > the runtime's batch of 256
    probs = classifier.predict(images)
    np.testing.assert_allclose(probs[:200], probs[400:], atol=1e-5)


def test_more_threads_give_the_same_probabilities(classifier, digits):
    images = digits[0]
    np.testing.assert_allclose(DigitClassifier(threads=2).predict(images), classifier.predict(images), atol=1e-5)


def test_rejects_wrong_shape(classifier):
    with pytest.raises(ValueError, match="28, 28"):
        classifier.predict(np.zeros((3, 32, 32), np.float32))


def _copy(tmp_path: Path) -> Path:
    for name in (MODEL_FILE, CARD_FILE):
        shutil.copy(MODELS / name, tmp_path / name)
    return tmp_path


def test_corrupt_model_refused(tmp_path):
    folder = _copy(tmp_path)
    data = bytearray((folder / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=MODEL_FILE):
        DigitClassifier(folder)


def test_foreign_model_refused(tmp_path):
    folder = _copy(tmp_path)
    card = json.loads((folder / CARD_FILE).read_text())
    card["sha256"] = "0" * 64  # a card written for another model file
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ValueError, match="sha256"):
        DigitClassifier(folder)


def test_missing_model_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=MODEL_FILE):
        DigitClassifier(tmp_path)


def test_no_tensorflow_and_fast_cold_start():
    code = ("import sys, time; t = time.perf_counter();"
            "from classifier.runtime import DigitClassifier; import numpy as np;"
            "c = DigitClassifier(); c.predict(np.zeros((4, 28, 28), np.float32));"
            "print(time.perf_counter() - t); assert 'tensorflow' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=MODELS.parent, check=True)
    seconds = float(done.stdout.strip().splitlines()[-1])
    assert seconds < 2.0  # ~0.1-0.3 s on an idle machine; generous for shared CI CPUs
