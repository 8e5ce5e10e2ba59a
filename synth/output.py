"""Writing scans to disk: PNG, JPEG and TIFF with their dpi, multi-page PDF at a known
resolution; byte-for-byte reproducible (no timestamps)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

# PDFs carry a creation date; a fixed one keeps the files reproducible.
PDF_DATE = time.gmtime(1704067200)  # 2024-01-01T00:00:00Z


def to_pil(image: np.ndarray) -> Image.Image:
    """uint8 grey (H, W) or RGB (H, W, 3) as a PIL image."""
    return Image.fromarray(image, "L" if image.ndim == 2 else "RGB")


def save_image(path: Path, image: np.ndarray, dpi: int, quality: int = 85) -> None:
    """Save by suffix: .png, .jpg/.jpeg (``quality``), .tif/.tiff (deflate); dpi recorded."""
    suffix = path.suffix.lower()
    pil = to_pil(image)
    if suffix == ".png":
        pil.save(path, dpi=(dpi, dpi), optimize=False, compress_level=6)
    elif suffix in (".jpg", ".jpeg"):
        pil.save(path, dpi=(dpi, dpi), quality=quality)
    elif suffix in (".tif", ".tiff"):
        pil.save(path, dpi=(dpi, dpi), compression="tiff_adobe_deflate")
    else:
        raise ValueError(f"unsupported image type: {path.name}")


def save_pdf(path: Path, pages: list[np.ndarray], dpi: int, quality: int = 80) -> None:
    """A multi-page PDF whose pages render back to exactly these pixels at ``dpi``
    (each image is stored JPEG-compressed, page size = pixels / dpi inches)."""
    images = [to_pil(p) for p in pages]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=float(dpi),
                   quality=quality, title=path.stem, creationDate=PDF_DATE, modDate=PDF_DATE)
