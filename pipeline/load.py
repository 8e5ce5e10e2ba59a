"""Finding input files and turning them into grey pages, one page at a time.

Every page comes out as a 2-D uint8 array with the paper bright and the ink dark, whatever the
file held (colour, alpha, palette, CMYK, 1-bit, 16-bit, EXIF-rotated, multi-page TIFF, PDF).
Anything that cannot be read raises :class:`InputError` with a reason a user can act on; sizes are
checked from the file header before any pixel is decoded, so a hostile file cannot exhaust memory.
"""
from __future__ import annotations

import errno
import math
import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pdf"})
# Pillow decoders we trust with scans; content decides the decoder, not the file name.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP")  # JPEG covers MPO (multi-picture) files too
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"II*\x00", b"MM\x00*", b"BM")
PDF_TIMEOUT_S = 300  # per poppler call; a PDF that takes longer is treated as unreadable
_MIB = 1024 * 1024


class InputError(Exception):
    """An input file that cannot be read; ``str(err)`` is a plain-language reason."""


@dataclass(frozen=True)
class Limits:
    """Refuse inputs above these sizes (pixels per page, pages per file, bytes per file).

    Reading a page takes about 15-20 bytes of memory per pixel (preprocessing, segmentation,
    overlay), per worker: 100 million pixels (an A3 page at 600 dpi is 70 million) is already
    1.5-2 GB. A PNG of a blank 13000 x 13000 page compresses to under 200 KB, so the file size
    limit alone does not protect memory.
    """

    max_pixels: int = 100_000_000
    max_pages: int = 1000
    max_bytes: int = 500 * _MIB


# --------------------------------------------------------------------------- finding inputs

def find_inputs(paths: list[Path]) -> list[tuple[Path, str]]:
    """Supported files under ``paths`` as ``(path, name)`` pairs.

    A file argument gives its file name; a folder is searched recursively (symlinked folders
    followed once, so loops end) and gives names relative to it in posix form. Each argument's
    files are sorted by name; arguments keep their order; a file reached twice is listed once.
    Only the suffixes in :data:`SUFFIXES` (any case) are kept; folders named like images are
    walked like any folder. Inside a folder, a link named like an image that leads nowhere (broken,
    or a loop) is listed, so that :func:`iter_pages` reports it rather than it vanishing from the
    batch. A path that does not exist raises :class:`InputError`.
    """
    found: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for root in map(Path, paths):
        if root.is_dir():
            batch = sorted(_walk(root), key=lambda item: item[1])
        elif root.is_file():
            batch = [(root, root.name)] if _supported(root) else []
        elif root.is_symlink() or os.path.lexists(root):
            continue  # broken or looping link given directly: nothing to read
        else:
            raise InputError(f"{root}: no such file or folder")
        for path, name in batch:
            key = os.path.realpath(path) if path.exists() else os.path.abspath(path)
            if key not in seen:
                seen.add(key)
                found.append((path, name))
    return found


def _supported(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    # Folders already walked, by identity; the root's ancestors count as walked, so a link back
    # up the tree (a loop) is not followed.
    visited: set[tuple[int, int]] = set()
    for parent in Path(os.path.realpath(root)).parents:
        try:
            st = os.stat(parent)
            visited.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # reached again through a symlink: a loop
            dirnames[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        for filename in filenames:
            path = Path(dirpath, filename)
            # is_file() follows links and is False for folders, broken links and link loops;
            # the links are kept (they end as errors with their reason), the rest skipped.
            if _supported(path) and (path.is_file() or (path.is_symlink() and not path.exists())):
                yield path, path.relative_to(root).as_posix()


# --------------------------------------------------------------------------- reading pages

def iter_pages(path: Path, dpi: int = 300, limits: Limits = Limits(),
               page: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(page_number, grey)`` for every page of an image or PDF, numbered from 1, or only
    for page number ``page`` (a PDF then renders that page alone).

    ``grey`` is a 2-D uint8 array, paper bright and ink dark. PDF pages are rendered at ``dpi``
    (dots per inch, > 0) one at a time; raster images keep their own resolution. Raises
    :class:`InputError` for anything unreadable or over ``limits``; pages already yielded stay
    valid when a later page of the same file fails.
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    path = Path(path)
    head = _check_file(path, limits)
    # PDFs may carry a little junk before their header; an image's own signature wins.
    if b"%PDF-" in head and not head.startswith(IMAGE_SIGNATURES):
        yield from _pdf_pages(path, dpi, limits, page)
    elif path.suffix.lower() == ".pdf":
        raise InputError("not a PDF file: its content does not start with a PDF header")
    else:
        yield from ((n, grey) for n, grey in _image_pages(path, head, limits) if page in (None, n))


def _check_file(path: Path, limits: Limits) -> bytes:
    """Basic file checks; returns the first KiB for content sniffing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"broken link: it points to {os.readlink(path)}, which does not "
                             "exist") from None
        raise InputError("file not found") from None
    except PermissionError:
        raise InputError("permission denied: the file's folder cannot be read") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise InputError("link loop: the link leads round in a circle, never to a file") from None
        raise InputError(f"file cannot be read: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
        raise InputError("not a regular file")
    if st.st_size == 0:
        raise InputError("file is empty (0 bytes)")
    if st.st_size > limits.max_bytes:
        raise InputError(f"file is too large ({_size(st.st_size)}, limit "
                         f"{_size(limits.max_bytes)})")
    try:
        with open(path, "rb") as handle:
            return handle.read(1024)
    except PermissionError:
        raise InputError("permission denied: the file cannot be read") from None
    except OSError as err:
        raise InputError(f"file cannot be read: {err.strerror or err}") from None


def _size(n_bytes: int) -> str:
    """A file size for a message: MiB with as many decimals as it takes to tell sizes apart."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    mib = n_bytes / _MIB
    return f"{mib:.0f} MiB" if mib >= 10 else f"{mib:.3g} MiB"


@contextmanager
def _quiet():
    """Silence Pillow's warnings while decoding (corrupt EXIF, skipped tags, its decompression
    bomb warning: the limits here are enforced separately). The file is either read or refused
    with an InputError; warnings would only print noise on stderr. Never held across a yield."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _image_pages(path: Path, head: bytes, limits: Limits) -> Iterator[tuple[int, np.ndarray]]:
    try:
        with _quiet():
            image = Image.open(path, formats=IMAGE_FORMATS)  # reads the header only
    except Image.DecompressionBombError as err:  # Pillow's own guard, at 2 x MAX_IMAGE_PIXELS
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
        raise InputError(f"image is too large: {size} (over Pillow's safety limit)") from None
    except UnidentifiedImageError:
        raise InputError(_not_an_image(head)) from None
    except Exception as err:  # plugins raise OSError, SyntaxError, ValueError, struct.error, ...
        raise InputError(f"image header is damaged ({_first_line(err)})") from None
    with image:
        try:
            with _quiet():
                n_frames = getattr(image, "n_frames", 1)  # TIFF: walks the page directory
        except Exception:  # a damaged later page: read the pages before it, then say which
            n_frames = None
        if n_frames is not None and n_frames > limits.max_pages:
            raise InputError(f"image has {n_frames} pages, more than the limit of "
                             f"{limits.max_pages}")
        index = 0
        while n_frames is None or index < n_frames:
            if index >= limits.max_pages:
                raise InputError(f"image has more than {limits.max_pages} pages (the limit)")
            try:
                with _quiet():
                    image.seek(index)
            except EOFError:
                if n_frames is None and index > 0:
                    return  # counted by walking: this was the last page
                raise InputError(f"page {index + 1} of the image is missing (the file is "
                                 "damaged)") from None
            except Exception as err:
                raise InputError(f"page {index + 1} of the image is damaged "
                                 f"({_first_line(err)})") from None
            width, height = image.size
            if width * height > limits.max_pixels:
                raise InputError(f"image is too large: {width} x {height} pixels "
                                 f"(limit {limits.max_pixels:,} pixels)")
            if width <= 0 or height <= 0:
                raise InputError(f"image has no pixels ({width} x {height})")
            try:
                with _quiet():
                    image.load()
            except MemoryError:
                raise InputError(f"not enough memory to decode page {index + 1} ({width} x "
                                 f"{height} pixels)") from None
            except Exception as err:  # decoders raise OSError, SyntaxError, zlib.error, ...
                raise InputError(f"image data is truncated or damaged ({_first_line(err)})") from None
            yield index + 1, _page_array(image, index + 1)
            index += 1


def _page_array(image: Image.Image, number: int) -> np.ndarray:
    """The decoded page, upright and grey; a mode or size that cannot be converted (a damaged
    or exotic file) is an InputError."""
    try:
        with _quiet():
            page = to_gray(_upright(image))
    except MemoryError:
        raise InputError(f"not enough memory to convert page {number} ({image.width} x "
                         f"{image.height} pixels)") from None
    except Exception as err:
        raise InputError(f"page {number} cannot be converted to grey ({image.mode} image: "
                         f"{_first_line(err)})") from None
    if page.ndim != 2 or page.size == 0:
        raise InputError(f"page {number} has no pixels")
    return page


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation (phone photos, some scanners)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block should not cost the page: keep it as stored
        return image


def _not_an_image(head: bytes) -> str:
    # Control bytes other than whitespace do not occur in text files (UTF-8 included).
    if all(b >= 32 or b in b"\t\n\r\f" for b in head[:256]):
        return "not an image: the file contains text"
    return "not an image: content is not PNG, JPEG, TIFF, BMP or PDF"


def to_gray(image: Image.Image) -> np.ndarray:
    """Any Pillow image as a 2-D uint8 grey array (paper bright, ink dark).

    Luminance (ITU-R 601: 0.299 R + 0.587 G + 0.114 B) keeps blue and black ink dark; alpha is
    composited on white paper; 16-bit and 32-bit integer data is scaled from 0..65535 to 0..255;
    float data is taken as 0..1 when its maximum is at most 1, else as 0..255.
    """
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        data = np.asarray(image).astype(np.float32)
        if mode == "I" and data.size and data.max() <= 255:  # 8-bit values stored as int32
            return np.clip(data, 0, 255).astype(np.uint8)
        return np.clip(np.rint(data / 257.0), 0, 255).astype(np.uint8)
    if mode == "F":
        data = np.nan_to_num(np.asarray(image, dtype=np.float32))
        if data.size and data.max() <= 1.0:
            data = data * 255.0
        return np.clip(np.rint(data), 0, 255).astype(np.uint8)
    if "A" in mode or "a" in mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    elif mode not in ("L", "1", "P", "RGB"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV: via RGB so luminance is right
    return np.asarray(image.convert("L"), dtype=np.uint8).copy()


# --------------------------------------------------------------------------- PDF

def _pdf_pages(path: Path, dpi: int, limits: Limits,
               only: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    # Imported here so that reading images works without poppler's Python wrapper.
    from pdf2image import convert_from_path, pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPopplerTimeoutError

    def info(**pages: int) -> dict:
        try:
            return pdfinfo_from_path(str(path), timeout=PDF_TIMEOUT_S, **pages)
        except PDFInfoNotInstalledError:
            raise InputError("cannot read PDFs: poppler (pdfinfo, pdftoppm) is not "
                             "installed") from None
        except PDFPopplerTimeoutError:
            raise InputError(f"PDF took longer than {PDF_TIMEOUT_S} s to open") from None
        except Exception as err:  # PDFPageCountError and parse errors
            raise InputError(_pdf_reason(str(err))) from None

    n_pages = int(info().get("Pages", 0))
    if n_pages <= 0:
        raise InputError("PDF has no pages")
    if n_pages > limits.max_pages:
        raise InputError(f"PDF has {n_pages} pages, more than the limit of {limits.max_pages}")
    if only is not None and not 1 <= only <= n_pages:
        raise InputError(f"PDF has no page {only} (it has {n_pages})")
    first, last = (1, n_pages) if only is None else (only, only)
    sizes = _page_sizes(info(first_page=first, last_page=last))
    largest = max(sizes.values(), key=lambda wh: wh[0] * wh[1], default=(0.0, 0.0))
    for page in range(first, last + 1):
        width_pt, height_pt = sizes.get(page, largest)
        width, height = math.ceil(width_pt / 72 * dpi), math.ceil(height_pt / 72 * dpi)
        if width * height > limits.max_pixels:
            raise InputError(f"PDF page {page} would be {width} x {height} pixels at {dpi} dpi "
                             f"(limit {limits.max_pixels:,} pixels); use a lower dpi")
        try:
            images = convert_from_path(str(path), dpi=dpi, first_page=page, last_page=page,
                                       grayscale=True, thread_count=1, timeout=PDF_TIMEOUT_S)
        except PDFPopplerTimeoutError:
            raise InputError(f"PDF page {page} took longer than {PDF_TIMEOUT_S} s to "
                             "render") from None
        except Exception as err:
            raise InputError(f"PDF page {page} cannot be rendered: {_first_line(err)}") from None
        if len(images) != 1:
            raise InputError(f"PDF page {page} cannot be rendered (the PDF is damaged)")
        with images[0] as image:
            gray = _page_array(image, page)
        yield page, gray


_PAGE_SIZE = re.compile(r"Page\s+(\d+)\s+size")
_POINTS = re.compile(r"([\d.]+)\s*x\s*([\d.]+)")


def _page_sizes(info: dict) -> dict[int, tuple[float, float]]:
    """Page number -> (width, height) in points from ``pdfinfo -f -l`` output."""
    sizes = {}
    for key, value in info.items():
        page, points = _PAGE_SIZE.match(key), _POINTS.match(str(value))
        if page and points:
            sizes[int(page.group(1))] = (float(points.group(1)), float(points.group(2)))
    if not sizes and "Page size" in info:  # older poppler: one size for the whole file
        points = _POINTS.match(str(info["Page size"]))
        if points:
            sizes = {1: (float(points.group(1)), float(points.group(2)))}
    return sizes


def _pdf_reason(message: str) -> str:
    lowered = message.lower()
    if "password" in lowered or "encrypt" in lowered:
        return "PDF is password-protected (encrypted); save an unprotected copy and retry"
    detail = [line.strip() for line in message.splitlines()[1:] if line.strip()]
    return "PDF is damaged or not a PDF" + (f" ({detail[0]})" if detail else "")


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__
