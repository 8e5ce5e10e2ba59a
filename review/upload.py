"""Upload page: read a dropped image/PDF with ``pipeline.api.read_image``, and classify a digit
drawn on a canvas with ``classifier.runtime.DigitClassifier``. Both are imported lazily, so the
review works without a model; these endpoints then answer 503 with the reason."""
from __future__ import annotations

import base64
import io
import tempfile
import threading
from pathlib import Path

import cv2
import numpy as np
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from PIL import Image, ImageSequence, UnidentifiedImageError

bp = Blueprint("upload", __name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
MAX_PAGES = 5  # pages of one upload that are read
MAX_PIXELS = 60_000_000  # per page
MAX_CANVAS = 2048  # canvas drawings: max side in pixels
FALLBACK_THRESHOLD = 0.9  # colours of an overlay drawn here (results read without one)
_model_lock = threading.Lock()


@bp.get("/upload")
def upload_page():
    return render_template("upload.html")


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, max_pages: int = MAX_PAGES,
                 ) -> list[np.ndarray]:
    """Grey uint8 pages (paper bright) of an image file; transparency composited on white."""
    try:
        image = Image.open(io.BytesIO(data))
        pages = []
        for frame in ImageSequence.Iterator(image):
            if len(pages) == max_pages:
                break
            if frame.width * frame.height > max_pixels:
                abort(413, f"Image too large ({frame.width}x{frame.height} pixels).")
            rgba = frame.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            pages.append(np.asarray(Image.alpha_composite(white, rgba).convert("L")))
        return pages
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        abort(400, f"Not a readable image (PNG, JPEG, TIFF or BMP expected): {type(err).__name__}.")


def _pdf_pages(data: bytes) -> list[np.ndarray]:
    try:
        from pipeline.load import InputError, iter_pages
    except ImportError:
        abort(503, "PDF reading is not available yet (pipeline.load.iter_pages is missing).")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.pdf"
        path.write_bytes(data)
        pages = []
        try:
            for _, gray in iter_pages(path):
                pages.append(gray)
                if len(pages) == MAX_PAGES:
                    break
        except InputError as err:
            abort(400, f"Not a readable PDF: {err}")
        return pages


def _data_url(image: np.ndarray | bytes, mime: str = "image/png") -> str:
    """A data URL of encoded image bytes (``mime``), or of an array encoded here as PNG."""
    if not isinstance(image, bytes):
        ok, buf = cv2.imencode(".png", image)
        if not ok:
            raise ValueError("PNG encoding failed")
        image, mime = buf.tobytes(), "image/png"
    return f"data:{mime};base64," + base64.b64encode(image).decode("ascii")


def result_json(result, gray: np.ndarray) -> dict:
    from pipeline.overlay import draw_overlay, encode_overlay

    overlay = next((v for k, v in sorted(result.artifacts.items()) if k.startswith("overlays/")), None)
    if overlay is None:  # read without overlays: draw one the same way (amber below this confidence)
        overlay = encode_overlay(draw_overlay(gray, result.strings, FALLBACK_THRESHOLD))
    return {
        "page": result.page, "error": result.error,
        "overlay": _data_url(overlay, "image/jpeg"),
        "strings": [{
            "string_id": s.string_id, "text": s.text, "confidence": round(s.confidence, 4),
            "flagged": s.flagged, "kind": s.kind,
            "glyphs": [{"label": g.label, "confidence": round(g.confidence, 4),
                        "flagged": g.flagged, "separator": g.is_separator,
                        "alternatives": [[a, round(p, 4)] for a, p in g.alternatives[:3]]}
                       for g in s.glyphs],
        } for s in result.strings],
    }


@bp.post("/api/read")
def read_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, "Send the image or PDF as the multipart field 'file'.")
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in IMAGE_SUFFIXES | {".pdf"}:
        abort(415, f"Unsupported file type '{suffix}': use PNG, JPEG, TIFF, BMP or PDF.")
    try:
        from pipeline.api import read_image
    except ImportError:
        abort(503, "Reading pages is not available yet (pipeline.api.read_image is missing).")
    data = upload.read()
    pages = _pdf_pages(data) if suffix == ".pdf" else decode_image(data)
    out = []
    for number, gray in enumerate(pages, start=1):
        try:
            result = read_image(gray)
        except (FileNotFoundError, ValueError) as err:  # no model, or one that does not load
            abort(503, f"Reading pages is not available: {err}")
        result.page = number
        out.append(result_json(result, gray))
    return jsonify(file=upload.filename, pages=out)


def _classifier():
    ext = current_app.extensions
    with _model_lock:
        if "review_classifier" not in ext:
            try:
                from classifier.runtime import DigitClassifier
            except ImportError:
                abort(503, "The classifier is not available yet (classifier.runtime is missing).")
            model_dir = current_app.config.get("MODEL_DIR")
            try:
                ext["review_classifier"] = DigitClassifier(model_dir) if model_dir else DigitClassifier()
            except Exception as err:  # missing model files, bad checksum...
                abort(503, f"The classifier could not be loaded: {err}")
        return ext["review_classifier"]


def canvas_ink(data: bytes) -> np.ndarray:
    """A drawing (dark strokes on white or transparent) as ink intensity in [0, 1]."""
    pages = decode_image(data, max_pixels=MAX_CANVAS * MAX_CANVAS, max_pages=1)
    if not pages:
        abort(400, "Empty image.")
    gray = pages[0]
    if max(gray.shape) > MAX_CANVAS:
        abort(413, f"Drawing too large (max {MAX_CANVAS} pixels a side).")
    return 1.0 - gray.astype(np.float32) / 255.0


@bp.post("/api/classify")
def classify():
    upload = request.files.get("image")
    data = upload.read() if upload is not None else request.get_data(cache=False)
    if not data:
        abort(400, "Send the drawing as a PNG body or the multipart field 'image'.")
    from segmentation.normalize import to_mnist

    mnist = to_mnist(canvas_ink(data))
    if not mnist.any():
        abort(400, "The drawing is empty.")
    model = _classifier()
    with _model_lock:  # interpreters are not thread-safe
        probs = np.asarray(model.predict(mnist[None].astype(np.float32)))[0]
    labels = list(model.labels)
    return jsonify(labels=labels, probabilities=[round(float(p), 5) for p in probs],
                   best=labels[int(np.argmax(probs))],
                   input=_data_url((mnist * 255).astype(np.uint8)))
