"""The exported LiteRT model agrees with the Keras model it came from: exactly in float32, closely
with int8 weights (a tiny model trained for one epoch on the shipped fixture digits, so no data
set is needed)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures import load_mnist_fixture

pytestmark = pytest.mark.slow
keras = pytest.importorskip("keras", reason="TensorFlow/Keras not installed (pip install .[train])")


def run_tflite(path, images: np.ndarray) -> np.ndarray:
    """Outputs of the LiteRT model at ``path`` on one batch of ``images``."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, images.shape, strict=False)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, images)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_litert_matches_keras(tmp_path):
    from classifier.architectures import build_model
    from classifier.calibration import softmax
    from classifier.export import to_tflite

    images, labels = load_mnist_fixture()
    images = images.astype(np.float32) / 255.0
    keras.utils.set_random_seed(0)
    model = build_model("cnn")  # batch norm + dropout: checks the export is in inference mode
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(images, labels, batch_size=32, epochs=1, verbose=0)
    expected = model.predict(images, batch_size=64, verbose=0)

    exact = to_tflite(model, tmp_path / "digits.tflite", quantize=False)
    got = run_tflite(exact, images)

    assert got.shape == (200, 11)
    assert (got.argmax(axis=1) == expected.argmax(axis=1)).all()
    np.testing.assert_allclose(softmax(got), softmax(expected), atol=1e-4)

    # The shipped form: int8 weights, float32 in and out; close to the float model, not equal.
    small = to_tflite(model, tmp_path / "digits_int8.tflite")
    quantized = run_tflite(small, images)
    assert small.stat().st_size < 0.4 * exact.stat().st_size
    assert (quantized.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.98
    assert np.abs(softmax(quantized) - softmax(expected)).max() < 0.1
    assert not np.allclose(quantized, expected, atol=1e-6)


def test_ensemble_exports_as_one_model(tmp_path):
    from classifier.architectures import build_model, ensemble_model
    from classifier.export import to_tflite

    keras.utils.set_random_seed(1)
    members = [build_model("mlp"), build_model("mlp")]  # same names: renamed for Keras
    ensemble = ensemble_model(members)
    images = load_mnist_fixture()[0][:16].astype(np.float32) / 255.0
    expected = np.mean([m.predict(images, verbose=0) for m in members], axis=0)
    got = run_tflite(to_tflite(ensemble, tmp_path / "e.tflite", quantize=False), images)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_rotated_views_are_opencvs_rotations_and_export_as_one_model(tmp_path):
    import cv2

    from classifier.architectures import build_model, ensemble_model, rotation_map
    from classifier.export import to_tflite

    images = load_mnist_fixture()[0][:16].astype(np.float32) / 255.0

    def rotated(degrees: float) -> np.ndarray:
        matrix = cv2.getRotationMatrix2D((13.5, 13.5), degrees, 1.0)
        return np.stack([cv2.warpAffine(x, matrix, (28, 28), flags=cv2.INTER_LINEAR) for x in images])

    np.testing.assert_allclose((images.reshape(16, -1) @ rotation_map(6)).reshape(images.shape), rotated(6),
                               atol=1e-6)
    keras.utils.set_random_seed(2)
    member = build_model("mlp")
    expected = np.mean([member.predict(v, verbose=0) for v in (images, rotated(6), rotated(-6))], axis=0)
    model = ensemble_model([member], rotations=6)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-5)
    got = run_tflite(to_tflite(model, tmp_path / "r.tflite", quantize=False), images)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_an_ensemble_of_runs_names_its_members_architectures():
    from classifier.release import _members_text, previous_training

    records = [{"training": {"options": {"arch": arch}, "command": f"train {arch}"}} for arch in ("deep", "deep", "cnn")]
    training = previous_training(records, "release")
    assert training["member_architectures"] == ["deep", "deep", "cnn"]
    assert _members_text(training["member_architectures"], 3, "deep") == "2 x deep + 1 x cnn"
    assert _members_text(None, 2, "cnn") == "2 x cnn"  # an ensemble trained in one run
