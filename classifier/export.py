"""Export of a trained Keras model to a LiteRT (.tflite) flatbuffer with a dynamic batch size."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras

FORMATS = {
    True: "LiteRT flatbuffer, int8 weights with float32 activations (dynamic-range quantization)",
    False: "LiteRT flatbuffer, float32",
}
RELEASE_QUANTIZED = True  # what `train` and `train-pairs` write: the file's format and its card say the same


def to_tflite(model: keras.Model, path: Path, input_shape: tuple[int, int] = (28, 28),
              quantize: bool = RELEASE_QUANTIZED) -> Path:
    """Write ``model`` (logits out, inference mode) as LiteRT to ``path``; the batch dimension
    stays dynamic so the runtime can resize it. ``input_shape``: one image's (height, width).
    ``quantize``: int8 weights, float32 inputs, outputs and activations (the converter's
    dynamic-range quantization): a quarter of the size and ~3x the digits a second on a CPU
    with int8 dot products, for logits within ~0.01 of float32 ones. Returns ``path``."""
    import tensorflow as tf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signature = [keras.InputSpec(shape=(None, *input_shape), dtype="float32")]
    # Keras passes these on to the TensorFlow Lite converter; no representative data is needed.
    converter = {"optimizations": [tf.lite.Optimize.DEFAULT]} if quantize else {}
    with tempfile.TemporaryDirectory() as tmp:
        # Keras' own LiteRT export freezes the weights into the flatbuffer.
        target = Path(tmp) / "model.tflite"
        model.export(str(target), format="litert", input_signature=signature, verbose=False, **converter)
        shutil.copyfile(target, path)
    return path
