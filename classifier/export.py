"""Export of a trained Keras model to a LiteRT (.tflite) flatbuffer with a dynamic batch size."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras


def to_tflite(model: keras.Model, path: Path, input_shape: tuple[int, int] = (28, 28)) -> Path:
    """Write ``model`` (logits out, inference mode) as float32 LiteRT to ``path``; the batch
    dimension stays dynamic so the runtime can resize it. ``input_shape``: one image's
    (height, width). Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    signature = [keras.InputSpec(shape=(None, *input_shape), dtype="float32")]
    with tempfile.TemporaryDirectory() as tmp:
        # Keras' own LiteRT export freezes the weights into the flatbuffer.
        target = Path(tmp) / "model.tflite"
        model.export(str(target), format="litert", input_signature=signature, verbose=False)
        shutil.copyfile(target, path)
    return path
