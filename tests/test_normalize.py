import cv2
import numpy as np
import pytest

from segmentation.normalize import batch_to_mnist, ink_image, to_mnist


def _digit_mask(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h + 20, w + 20), np.uint8)
    cv2.ellipse(mask, ((w + 20) // 2, (h + 20) // 2), (w // 2, h // 2), 0, 0, 360, 255, max(2, h // 12))
    return mask > 0


def _centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return float((ys * image).sum() / image.sum()), float((xs * image).sum() / image.sum())


@pytest.mark.parametrize("h,w", [(90, 60), (15, 10), (60, 12), (30, 80)])
def test_mnist_convention(h, w):
    out = to_mnist(_digit_mask(h, w))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9
    ys, xs = np.nonzero(out > 0.05)
    longest = max(np.ptp(ys) + 1, np.ptp(xs) + 1)
    assert 19 <= longest <= 22  # 20 px box, plus anti-aliasing fringe
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0


def test_thin_upright_one():
    stroke = np.zeros((100, 10), bool)
    stroke[:, 3:7] = True  # scales to a 2 px wide glyph
    out = to_mnist(stroke)
    assert out.max() > 0.9 and abs(_centre_of_mass(out)[1] - 13.5) < 1.0


def test_aspect_ratio_kept():
    out = to_mnist(_digit_mask(80, 20))
    ys, xs = np.nonzero(out > 0.3)
    assert (np.ptp(ys) + 1) > 2.5 * (np.ptp(xs) + 1)


def test_empty_and_dtypes():
    assert not to_mnist(np.zeros((10, 10), bool)).any()
    assert not to_mnist(np.zeros((0, 0), np.float32)).any()
    u16 = (_digit_mask(40, 30) * 65535).astype(np.uint16)
    np.testing.assert_allclose(to_mnist(u16), to_mnist(_digit_mask(40, 30)), atol=1e-5)
    assert ink_image(np.array([[np.nan, 2.0]])).tolist() == [[0.0, 1.0]]
    with pytest.raises(ValueError):
        to_mnist(np.zeros((3, 3, 3)))


def test_batch():
    batch = batch_to_mnist([_digit_mask(30, 20), _digit_mask(50, 40)])
    assert batch.shape == (2, 28, 28)
    assert batch_to_mnist([]).shape == (0, 28, 28)


def test_matches_mnist_statistics():
    """A real MNIST digit re-normalised stays close to itself (fixture shipped in tests/fixtures)."""
    from tests.fixtures import load_mnist_fixture

    images, _ = load_mnist_fixture()
    diffs = [np.abs(to_mnist(img) - img / 255.0).mean() for img in images[:50]]
    assert np.median(diffs) < 0.075  # whole-pixel centring and the 10% tight box differ slightly
