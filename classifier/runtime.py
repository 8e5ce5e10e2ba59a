"""Digit classifier at run time: the LiteRT model plus its card. Never imports TensorFlow
(cold start matters: loading the interpreter takes milliseconds, TensorFlow takes seconds)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from classifier.calibration import softmax

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "models"
MODEL_FILE = "digits.tflite"
CARD_FILE = "model_card.json"
PAIR_MODEL_FILE = "pairs.tflite"   # classifier.pair_model writes these
PAIR_CARD_FILE = "pairs_card.json"
PAIR_OUTPUTS = 21  # logits: left digit (10), right digit (10), two digits rather than one (1)
BATCH = 256  # largest batch of digits sent to the interpreter at once
# Pairs are 4x the pixels with 32-128 channels at full size: batches of 16 keep the interpreter's
# activations a few MB (60 at once took 35 MB more per worker than 20).
PAIR_BATCH = 16


def sha256sum(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class LiteRTModel:
    """A LiteRT model checked against its card (sha256), run in batches of at most ``batch``."""

    def __init__(self, model_path: Path, card_path: Path, threads: int = 1, batch: int = BATCH) -> None:
        for path in (model_path, card_path):
            if not path.is_file():
                raise FileNotFoundError(f"{path}: not found (train a model or use the shipped models/)")
        try:
            card = json.loads(card_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{card_path}: not a valid model card ({err})") from err
        content = model_path.read_bytes()
        if hashlib.sha256(content).hexdigest() != card.get("sha256"):
            raise ValueError(f"{model_path}: sha256 does not match {card_path.name}; "
                             "the model file is corrupt or does not belong to this card")
        try:
            self._interpreter = Interpreter(model_content=content, num_threads=threads)
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"{model_path}: not a loadable LiteRT model ({err})") from err
        self.card: dict = card
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0
        self._max_batch = batch

    def _run(self, chunk: np.ndarray) -> np.ndarray:
        if len(chunk) != self._batch:  # re-plan only when the batch size changes
            self._interpreter.resize_tensor_input(self._input, chunk.shape, strict=False)
            self._interpreter.allocate_tensors()
            self._batch = len(chunk)
        self._interpreter.set_tensor(self._input, chunk)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()

    def run(self, images: np.ndarray, shape: tuple[int, int], outputs: int) -> np.ndarray:
        """Logits (N, ``outputs``) float32 of images (N, *``shape``)."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 3 or images.shape[1:] != shape:
            raise ValueError(f"expected images of shape (N, {shape[0]}, {shape[1]}), got {images.shape}")
        if len(images) == 0:
            return np.zeros((0, outputs), np.float32)
        step = self._max_batch
        return np.concatenate([self._run(images[i: i + step]) for i in range(0, len(images), step)])


class PairReader:
    """Calibrated digit probabilities for both digits of a touching pair (28x56 crops from
    ``segmentation.normalize.to_pair``), and the probability that a crop holds two digits
    rather than one; see ``classifier.pair_model``."""

    def __init__(self, model_dir: Path = DEFAULT_DIR, threads: int = 1) -> None:
        model_dir = Path(model_dir)
        self._model = LiteRTModel(model_dir / PAIR_MODEL_FILE, model_dir / PAIR_CARD_FILE, threads, PAIR_BATCH)
        self.card: dict = self._model.card
        self.temperature: float = float(self.card["temperature"])
        if "two_temperature" not in self.card:
            raise ValueError(f"{model_dir / PAIR_CARD_FILE}: a pair reader without the two-digit head "
                             "(trained before it); train a new one with `python cli.py train-pairs`")
        self.two_temperature: float = float(self.card["two_temperature"])

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 56) float32 in [0, 1] -> ((N, 2, 10) left and right digit probabilities,
        (N,) probability that the crop holds two digits rather than one)."""
        z = self._model.run(images, (28, 56), PAIR_OUTPUTS)
        digits = softmax(z[:, :20].reshape(-1, 2, 10), self.temperature).astype(np.float32)
        return digits, (1.0 / (1.0 + np.exp(-z[:, 20] / self.two_temperature))).astype(np.float32)


class DigitClassifier:
    """Calibrated probabilities over ('0', ..., '9', '?') for MNIST-style 28x28 crops."""

    def __init__(self, model_dir: Path = DEFAULT_DIR, threads: int = 1) -> None:
        """``threads``: the interpreter's CPU threads (1 in a worker process, which gets one core;
        more pays for large batches in a process that has the machine to itself). The pair
        reader is loaded too when ``model_dir`` holds one (``pairs``; None otherwise)."""
        model_dir = Path(model_dir)
        self._model = LiteRTModel(model_dir / MODEL_FILE, model_dir / CARD_FILE, threads)
        card = self._model.card
        self.labels: tuple[str, ...] = tuple(card["labels"])
        self.threshold: float = float(card["threshold"])
        self.temperature: float = float(card["temperature"])
        self.card: dict = card
        self.pairs = PairReader(model_dir, threads) if (model_dir / PAIR_MODEL_FILE).is_file() else None

    def logits(self, images: np.ndarray) -> np.ndarray:
        """Raw (uncalibrated) logits, (N, len(labels)) float32."""
        return self._model.run(images, (28, 28), len(self.labels))

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N, len(labels)) calibrated probabilities."""
        return softmax(self.logits(images), self.temperature).astype(np.float32)
