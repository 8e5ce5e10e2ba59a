"""Property-based tests: the page stages take any array without crashing.

What each stage promises for arbitrary input (decided here, and relied on by benchmarks/fuzz.py,
which imports the ``check_*`` functions below and runs them over many more cases):

- ``pipeline.preprocess.preprocess`` reads 2-D uint8 pages only (what ``pipeline.load.iter_pages``
  yields). Any other dtype (bool, uint16, floats...) or number of dimensions (0-D, 1-D, 3-D)
  raises ``ValueError`` naming what it got: it does not guess a scaling. Every 2-D uint8 page is
  processed, whatever its shape (empty, 1 x 1, 1 x 3000, non-contiguous views, read-only) or
  content (blank, black, noise): ``ink`` and ``lines`` are bool of ``gray``'s shape and never
  overlap, ``matrix`` is a finite 2x3 affine, ``angle`` within +-5 degrees (0 without deskew, and
  then ``gray`` keeps the page's shape). The input is not modified.
- ``segmentation.segment.segment_page`` takes any 2-D mask (non-bool: nonzero is ink), with
  ``score=None`` or a scorer: every box lies inside the mask, every component's mask has its
  box's shape and holds only ink pixels, separators are one of ``. , / -``, every string holds a
  digit candidate, components run left to right; the scorer is called at most once, with
  (N, 28, 28) float32 crops in [0, 1]. Other numbers of dimensions raise ``ValueError``.
- ``segmentation.normalize.to_mnist`` takes any 2-D array of bool, integer or float dtype
  (NaN and infinities included) and returns a (28, 28) float32 array in [0, 1]; other numbers of
  dimensions raise ``ValueError``.
- ``pipeline.load.iter_pages`` on damaged image files yields 2-D uint8 pages within the limits or
  raises ``InputError``, nothing else.

Hypothesis runs derandomized (same examples every run, no example database) with no deadline.
"""
from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from pipeline.load import InputError, Limits, iter_pages
from pipeline.preprocess import METHODS, preprocess
from segmentation.normalize import MNIST_SIZE, PAIR_SHAPE, batch_to_mnist, to_mnist
from segmentation.segment import segment_page

SEPARATORS = {".", ",", "/", "-"}
MNIST = Path(__file__).resolve().parent / "fixtures" / "mnist_test_200.npz"


def fixed(max_examples: int) -> settings:
    """Deterministic settings: derandomized, no example database, no deadline."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    print_blob=True)


# --------------------------------------------------------------------------- the properties

def check_preprocess(gray, binarization: str = "sauvola", deskew: bool = True,
                     remove_lines: bool = True):
    """preprocess's contract for any input; returns the result (None when refused)."""
    array = np.asarray(gray)
    if array.ndim != 2 or array.dtype != np.uint8:
        with pytest.raises(ValueError, match="2-D uint8"):
            preprocess(gray, binarization, deskew, remove_lines)
        return None
    before = array.copy()
    out = preprocess(gray, binarization, deskew, remove_lines)
    assert np.array_equal(np.asarray(gray), before), "preprocess modified its input"
    assert out.gray.dtype == np.uint8 and out.gray.ndim == 2
    assert out.ink.dtype == bool and out.lines.dtype == bool
    assert out.ink.shape == out.lines.shape == out.gray.shape
    assert not np.logical_and(out.ink, out.lines).any(), "line pixels left in the ink"
    assert out.matrix.shape == (2, 3) and np.isfinite(out.matrix).all()
    assert math.isfinite(out.angle) and abs(out.angle) <= 5.0
    if not deskew or min(array.shape) < 32:
        assert out.angle == 0.0 and out.gray.shape == array.shape
    else:
        assert out.gray.shape[0] >= array.shape[0] and out.gray.shape[1] >= array.shape[1]
    return out


class FakeScore:
    """A scorer that checks what it is given: (N, 28, 28) float32 in [0, 1]; returns (N, columns)
    probabilities that depend only on the crops (deterministic)."""

    def __init__(self, columns: int = 11):
        self.columns = columns
        self.calls = 0

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        self.calls += 1
        assert isinstance(crops, np.ndarray) and crops.dtype == np.float32
        assert crops.ndim == 3 and crops.shape[1:] == (MNIST_SIZE, MNIST_SIZE)
        assert np.isfinite(crops).all() and crops.min(initial=0) >= 0 and crops.max(initial=0) <= 1
        ink = crops.reshape(len(crops), -1)
        logits = np.stack([np.cos(ink @ np.linspace(0.01 * k, 0.02 * k, ink.shape[1]) + k)
                           for k in range(self.columns)], axis=1) * 4
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def check_mnist_crop(crop: np.ndarray) -> None:
    assert crop.shape == (MNIST_SIZE, MNIST_SIZE) and crop.dtype == np.float32
    assert np.isfinite(crop).all() and crop.min() >= 0.0 and crop.max() <= 1.0


class FakePairs:
    """A pair reader that checks what it is given: (N, 28, 56) float32 in [0, 1]; returns each
    side's ten digit probabilities (0.91 on one digit) and a two-digit probability, all depending
    only on the crops (deterministic)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        assert isinstance(crops, np.ndarray) and crops.dtype == np.float32
        assert crops.ndim == 3 and crops.shape[1:] == PAIR_SHAPE
        assert np.isfinite(crops).all() and crops.min(initial=0) >= 0 and crops.max(initial=0) <= 1
        ink = crops.reshape(len(crops), -1).mean(axis=1).astype(np.float64)
        sides = np.full((len(crops), 2, 10), 0.01, np.float32)
        for side in range(2):
            sides[np.arange(len(crops)), side, (ink * 997 * (side + 1)).astype(int) % 10] = 0.91
        return sides, ((ink * 7919) % 1.0).astype(np.float32)


def check_segment(ink, score=None, pairs=None):
    """segment_page's contract for any input; returns the strings (None when refused)."""
    array = np.asarray(ink)
    if array.ndim != 2:
        with pytest.raises(ValueError):
            segment_page(ink, score, pairs=pairs)
        return None
    strings = segment_page(ink, score, pairs=pairs)
    mask = array.astype(bool) if array.dtype == bool else array != 0
    height, width = mask.shape
    if isinstance(score, FakeScore):
        assert score.calls <= 4, f"score called {score.calls} times"  # broken pieces, wholes, parts, layout joins
    if isinstance(pairs, FakePairs):
        assert pairs.calls <= 3, f"pair reader called {pairs.calls} times"  # narrow, cut pairs, layout splits
    for string in strings:
        assert string and any(c.separator is None for c in string)
        centres = [c.centre[0] for c in string]
        assert centres == sorted(centres), "components out of reading order"
        for c in string:
            b = c.box
            assert b.w > 0 and b.h > 0 and b.x >= 0 and b.y >= 0, b
            assert b.x + b.w <= width and b.y + b.h <= height, (b, mask.shape)
            assert c.mask.dtype == bool and c.mask.shape == (b.h, b.w)
            assert not (c.mask & ~mask[b.y:b.bottom, b.x:b.right]).any(), "mask holds paper"
            assert c.separator is None or c.separator in SEPARATORS, c.separator
            check_mnist_crop(to_mnist(c.mask))
    digits = [c.mask for string in strings for c in string if c.separator is None]
    batch = batch_to_mnist(digits)
    assert batch.shape == (len(digits), MNIST_SIZE, MNIST_SIZE)
    return strings


def check_to_mnist(image):
    """to_mnist's contract for any input; returns the crop (None when refused)."""
    array = np.asarray(image)
    # float64 beyond float32's range becomes inf (then 1) in the cast: numpy warns, no error.
    with np.errstate(over="ignore"):
        if array.ndim != 2:
            with pytest.raises(ValueError):
                to_mnist(image)
            return None
        crop = to_mnist(image)
    check_mnist_crop(crop)
    if not array.size or not np.any(np.nan_to_num(array.astype(np.float64)) > 0):
        assert not crop.any(), "no ink in, ink out"
    return crop


def check_iter_pages(path: Path, dpi: int = 72, limits: Limits = Limits()) -> list:
    """iter_pages's contract on any file: pages numbered from 1, 2-D uint8, within the limits;
    or InputError with a plain reason. Returns the page shapes read before any error, and the
    error message or None."""
    shapes = []
    try:
        for number, page in iter_pages(path, dpi, limits):
            assert number == len(shapes) + 1
            assert isinstance(page, np.ndarray) and page.ndim == 2 and page.dtype == np.uint8
            assert 0 < page.size <= limits.max_pixels, page.shape
            assert len(shapes) < limits.max_pages
            shapes.append(page.shape)
    except InputError as err:
        message = str(err)
        assert message and "Traceback" not in message and "\n" not in message, message
        return [shapes, message]
    return [shapes, None]


# --------------------------------------------------------------------------- strategies

ANY_DTYPE = st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.bool_])


@st.composite
def any_array(draw, max_side: int = 24):
    """Arrays of every dtype we were asked about, 0-D to 3-D, empty sides included; floats
    with NaN and infinities."""
    dtype = draw(ANY_DTYPE)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=max_side))
    return draw(hnp.arrays(dtype, shape))


@st.composite
def long_thin(draw, dtype=np.uint8):
    """Huge aspect ratios: 1-3 px by up to 3000 px, either way round."""
    short = draw(st.integers(1, 3))
    long = draw(st.integers(100, 3000))
    shape = (short, long) if draw(st.booleans()) else (long, short)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 1.0]))
    return rng.integers(0, 256, shape, dtype=np.uint8)


def page_of(style: str, shape: tuple[int, int], seed: int) -> np.ndarray:
    """A 2-D uint8 page (paper bright) of a given content style."""
    rng = np.random.default_rng(seed)
    h, w = shape
    if style == "white":
        return np.full(shape, 255, np.uint8)
    if style == "black":
        return np.zeros(shape, np.uint8)
    if style == "grey":
        return np.full(shape, int(rng.integers(0, 256)), np.uint8)
    if style == "noise":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if style == "salt":
        page = np.full(shape, 255, np.uint8)
        page[rng.random(shape) < 0.05] = 0
        return page
    page = np.full(shape, int(rng.integers(180, 256)), np.uint8)
    if style in ("lines", "mixed"):  # ruling lines and a box
        for y in rng.integers(0, max(1, h), 3):
            page[y: y + int(rng.integers(1, 4)), :] = int(rng.integers(0, 160))
        if h > 4 and w > 4:
            y0, x0 = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
            page[y0, x0:w - 1] = page[h - 2, x0:w - 1] = 40
            page[y0:h - 1, x0] = page[y0:h - 1, w - 2] = 40
    if style in ("digits", "mixed"):
        digits = np.load(MNIST)["images"]
        size = int(rng.integers(8, 60))
        x = 0
        while x < w:
            glyph = Image.fromarray(digits[int(rng.integers(0, len(digits)))])
            glyph = np.asarray(glyph.resize((size, size)), np.uint8)
            y = int(rng.integers(-size // 2, max(1, h - size // 2)))
            ys, xs = slice(max(0, y), min(h, y + size)), slice(x, min(w, x + size))
            part = glyph[ys.start - y: ys.stop - y, : xs.stop - xs.start]
            page[ys, xs] = np.minimum(page[ys, xs], 255 - part)
            x += int(size * rng.uniform(0.3, 1.5))  # overlapping (touching) to spaced
    return page


PAGE_STYLES = ["white", "black", "grey", "noise", "salt", "lines", "digits", "mixed"]


@st.composite
def pages(draw):
    """2-D uint8 pages: every style, sides 0-400 px (1 x 1 and empty included), sometimes as a
    non-contiguous, reversed, transposed or read-only view."""
    style = draw(st.sampled_from(PAGE_STYLES))
    shape = (draw(st.integers(0, 300)), draw(st.integers(0, 400)))
    page = page_of(style, shape, draw(st.integers(0, 2**32 - 1)))
    view = draw(st.sampled_from(["plain", "transposed", "reversed", "strided", "read-only"]))
    if view == "transposed":
        page = page.T
    elif view == "reversed":
        page = page[::-1, ::-1]
    elif view == "strided":
        page = page[::2, ::3]
    elif view == "read-only":
        page.flags.writeable = False
    return page


@st.composite
def masks(draw):
    """Ink masks: random noise of any density, blobs, and strings of MNIST digits (spaced,
    touching, overlapping), bool or another dtype where nonzero is ink."""
    kind = draw(st.sampled_from(["noise", "digits", "blobs", "full", "empty"]))
    shape = (draw(st.integers(1, 120)), draw(st.integers(1, 300)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "noise":
        mask = rng.random(shape) < draw(st.sampled_from([0.01, 0.05, 0.2, 0.5, 0.9]))
    elif kind == "digits":
        mask = page_of("digits", shape, seed) < 128
    elif kind == "blobs":
        mask = np.zeros(shape, bool)
        for _ in range(int(rng.integers(1, 12))):
            y, x = int(rng.integers(0, shape[0])), int(rng.integers(0, shape[1]))
            mask[y: y + int(rng.integers(1, 40)), x: x + int(rng.integers(1, 40))] = True
    else:
        mask = np.full(shape, kind == "full")
    dtype = draw(st.sampled_from([np.bool_, np.bool_, np.uint8, np.float32]))
    return mask.astype(dtype) * (1 if dtype == np.bool_ else draw(st.sampled_from([1, 255])))


SCORERS = st.sampled_from([None, 10, 11])  # None, or a fake scorer with that many columns


def scorer(columns):
    return None if columns is None else FakeScore(columns)


def pair_reader(columns):
    """A fake pair reader beside the 11-column scorer (the pipeline's pair), none otherwise."""
    return FakePairs() if columns == 11 else None


# --------------------------------------------------------------------------- preprocess

@fixed(80)
@given(any_array(), st.sampled_from(METHODS), st.booleans())
def test_preprocess_any_array_processed_or_value_error(array, binarization, deskew):
    check_preprocess(array, binarization, deskew)


@fixed(60)
@given(pages(), st.sampled_from(METHODS), st.booleans(), st.booleans())
def test_preprocess_any_page(page, binarization, deskew, remove_lines):
    check_preprocess(page, binarization, deskew, remove_lines)


@fixed(15)
@given(long_thin(), st.booleans())
def test_preprocess_huge_aspect_ratios(page, deskew):
    check_preprocess(page, deskew=deskew)


@pytest.mark.parametrize("shape", [(0, 0), (0, 7), (7, 0), (1, 1), (2, 2), (31, 33), (32, 32)])
@pytest.mark.parametrize("value", [0, 255])
def test_preprocess_tiny_and_empty_pages(shape, value):
    check_preprocess(np.full(shape, value, np.uint8))


def test_preprocess_black_page_is_fast():
    # An all-ink mask has no boundary, so its stroke width estimate is enormous: line removal
    # once built kernels of millions of pixels and spent a minute on a 40 x 3000 black strip.
    import time

    started = time.perf_counter()
    for shape in [(40, 3000), (3000, 40), (600, 800)]:
        check_preprocess(np.zeros(shape, np.uint8))
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.uint16), np.zeros((8, 8), bool),
                                 np.zeros((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8),
                                 np.zeros(8, np.uint8), np.uint8(3), [[0, 255], [255, 0]]])
def test_preprocess_refuses_non_pages_with_value_error(bad):
    with pytest.raises(ValueError, match="2-D uint8"):
        preprocess(bad)


# --------------------------------------------------------------------------- segmentation

@fixed(60)
@given(masks(), SCORERS)
def test_segment_any_mask(mask, columns):
    check_segment(mask, scorer(columns), pair_reader(columns))


@fixed(40)
@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=30)),
       SCORERS)
def test_segment_small_arbitrary_masks(mask, columns):
    check_segment(mask, scorer(columns))


@fixed(10)
@given(long_thin(np.bool_), SCORERS)
def test_segment_huge_aspect_ratios(mask, columns):
    check_segment(mask, scorer(columns))


@pytest.mark.parametrize("mask", [np.zeros((0, 0), bool), np.zeros((0, 5), bool),
                                  np.ones((1, 1), bool), np.ones((40, 40), bool)])
def test_segment_degenerate_masks(mask):
    check_segment(mask, FakeScore())


@pytest.mark.parametrize("bad", [np.zeros(5, bool), np.zeros((4, 4, 2), bool), np.bool_(True)])
def test_segment_refuses_non_2d_with_value_error(bad):
    with pytest.raises(ValueError):
        segment_page(bad)


# --------------------------------------------------------------------------- normalisation

@fixed(150)
@given(any_array(max_side=24))
def test_to_mnist_any_array(array):
    check_to_mnist(array)


@fixed(20)
@given(long_thin(np.bool_))
def test_to_mnist_huge_aspect_ratios(mask):
    check_to_mnist(mask)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e300, -1.0, 1e-45])
def test_to_mnist_special_floats(value):
    image = np.zeros((5, 7), np.float64)
    image[1:4, 2:5] = value
    check_to_mnist(image)
    with np.errstate(over="ignore"):
        check_to_mnist(image.astype(np.float32))


# --------------------------------------------------------------------------- damaged files

def _png_chunks_fixed(data: bytes) -> bytes:
    """``data`` with every PNG chunk's CRC recomputed (so a mutation gets past the CRC check
    and reaches the decoder); data that is no longer a chunk sequence is left as it is."""
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos: pos + 4])[0]
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 4: end - 4]
        out += data[pos: pos + 4] + body + struct.pack(">I", zlib.crc32(body))
        pos = end
    return bytes(out + data[pos:])


def seed_images() -> dict[str, bytes]:
    """Small valid files of each raster format, in the modes scanners produce."""
    rng = np.random.default_rng(0)
    grey = np.full((30, 40), 255, np.uint8)
    grey[5:25, 10:14] = 0
    grey[rng.random(grey.shape) < 0.05] = 90
    rgb = np.stack([grey, grey // 2 + 100, grey], axis=2)
    files = {}

    def save(name, image, **kwargs):
        buffer = io.BytesIO()
        image.save(buffer, **kwargs)
        files[name] = buffer.getvalue()

    save("grey.png", Image.fromarray(grey), format="PNG")
    save("rgba.png", Image.fromarray(rgb).convert("RGBA"), format="PNG")
    save("palette.png", Image.fromarray(rgb).convert("P"), format="PNG", transparency=0)
    save("sixteen.png", Image.fromarray(grey.astype(np.uint16) * 257), format="PNG")
    save("grey.jpg", Image.fromarray(grey), format="JPEG", quality=80)
    save("cmyk.jpg", Image.fromarray(rgb).convert("CMYK"), format="JPEG")
    save("grey.tif", Image.fromarray(grey), format="TIFF", compression="tiff_lzw")
    save("sixteen.tif", Image.fromarray(grey.astype(np.uint16) * 257), format="TIFF")
    frames = [Image.fromarray(grey), Image.fromarray(rgb)]
    save("pages.tif", frames[0], format="TIFF", save_all=True, append_images=frames[1:])
    save("bitonal.tif", Image.fromarray(grey).convert("1"), format="TIFF", compression="group4")
    save("rgb.bmp", Image.fromarray(rgb), format="BMP")
    return files


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to a few random damages: bit flips, byte runs overwritten, header fields set to
    extreme values, truncation, deletion, duplication or insertion of a span."""
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        n = len(data)
        if n == 0:
            break
        kind = int(rng.integers(0, 7))
        at = int(rng.integers(0, n))
        if kind == 0:
            data[at] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:
            span = int(rng.integers(1, 16))
            data[at: at + span] = rng.integers(0, 256, min(span, n - at), dtype=np.uint8).tobytes()
        elif kind == 2:  # a header field (a size, a count, an offset) set to an extreme
            at = int(rng.integers(0, min(n, 64)))
            value = int(rng.choice([0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            width = int(rng.choice([1, 2, 4]))
            data[at: at + width] = value.to_bytes(8, "big")[-width:]
        elif kind == 3:
            del data[at:]
        elif kind == 4:
            del data[at: at + int(rng.integers(1, 64))]
        elif kind == 5:
            span = data[at: at + int(rng.integers(1, 64))]
            data[at:at] = span
        else:
            data[at:at] = rng.integers(0, 256, int(rng.integers(1, 32)), dtype=np.uint8).tobytes()
    out = bytes(data)
    if out.startswith(b"\x89PNG") and rng.random() < 0.7:
        out = _png_chunks_fixed(out)
    return out


SEEDS = seed_images()


@fixed(60)
@given(st.sampled_from(sorted(SEEDS)), st.integers(0, 2**32 - 1))
def test_iter_pages_damaged_images_raise_only_input_error(tmp_path_factory, name, seed):
    path = tmp_path_factory.mktemp("damaged") / name
    path.write_bytes(mutate(SEEDS[name], np.random.default_rng(seed)))
    check_iter_pages(path, limits=Limits(max_pixels=4_000_000, max_pages=20))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_images_are_read(tmp_path, name):
    (tmp_path / name).write_bytes(SEEDS[name])
    shapes, error = check_iter_pages(tmp_path / name)
    assert error is None and shapes and all(shape == (30, 40) for shape in shapes)
