"""pipeline.load: every supported format becomes grey pages; every bad input a plain InputError."""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from pipeline import load
from pipeline.load import InputError, Limits, find_inputs, iter_pages


# --------------------------------------------------------------------------- helpers

def pages(path: Path, **kwargs) -> list[tuple[int, np.ndarray]]:
    return list(iter_pages(path, **kwargs))


def only_page(path: Path, **kwargs) -> np.ndarray:
    (number, page), = pages(path, **kwargs)
    assert number == 1
    assert page.ndim == 2 and page.dtype == np.uint8
    return page


def card() -> np.ndarray:
    """40 x 60 grey card: white paper, a black square top left, mid grey bottom right."""
    image = np.full((40, 60), 255, np.uint8)
    image[2:12, 3:13] = 0
    image[30:38, 45:58] = 128
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims ``width`` x ``height`` with almost no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + png_chunk(b"IEND", b""))


def minimal_pdf(media_box: str = "0 0 200 100", trailer_extra: str = "",
                extra_objects: tuple[str, ...] = ()) -> bytes:
    """A hand-written one-page PDF with a correct cross-reference table."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               f"<< /Type /Page /Parent 2 0 R /MediaBox [{media_box}] >>", *extra_objects]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return out


# --------------------------------------------------------------------------- formats

@pytest.mark.parametrize("suffix,mode", [
    (".png", "L"), (".png", "RGB"), (".bmp", "L"), (".bmp", "RGB"), (".tif", "L"),
    (".tiff", "RGB"), (".png", "LA"), (".png", "RGBA"), (".png", "P"), (".bmp", "P"),
])
def test_lossless_formats_round_trip(tmp_path, suffix, mode):
    expected = card()
    path = tmp_path / f"card{suffix}"
    Image.fromarray(expected).convert(mode).save(path)
    np.testing.assert_array_equal(only_page(path), expected)


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_jpeg_round_trips_within_compression_error(tmp_path, mode):
    expected = card()
    path = tmp_path / "card.jpg"
    Image.fromarray(expected).convert(mode).save(path, quality=95)
    page = only_page(path)
    assert page.shape == expected.shape
    assert page[5, 6] < 30 and page[20, 30] > 225 and abs(int(page[34, 50]) - 128) < 20


def test_cmyk_black_is_dark_and_paper_white(tmp_path):
    image = Image.new("CMYK", (20, 10), (0, 0, 0, 0))
    image.paste((0, 0, 0, 255), (0, 0, 10, 10))
    image.save(tmp_path / "cmyk.jpg", quality=95)
    page = only_page(tmp_path / "cmyk.jpg")
    assert page[5, 2] < 20 and page[5, 17] > 235


def test_one_bit_images(tmp_path):
    image = Image.new("1", (8, 2), 1)
    image.putpixel((0, 0), 0)
    for suffix in (".png", ".tif", ".bmp"):
        image.save(tmp_path / f"bits{suffix}")
        page = only_page(tmp_path / f"bits{suffix}")
        assert page[0, 0] == 0 and (page.ravel()[1:] == 255).all()


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_scaled_to_eight(tmp_path, suffix):
    image = Image.new("I;16", (4, 1))
    image.putdata([0, 257, 32768, 65535])
    image.save(tmp_path / f"deep{suffix}")
    np.testing.assert_array_equal(only_page(tmp_path / f"deep{suffix}"), [[0, 1, 128, 255]])


def test_alpha_is_composited_on_white(tmp_path):
    image = Image.new("RGBA", (4, 1), (0, 0, 0, 0))  # transparent black reads as paper
    image.putpixel((1, 0), (0, 0, 0, 255))
    image.putpixel((2, 0), (0, 0, 0, 128))
    image.putpixel((3, 0), (20, 20, 20, 255))
    image.save(tmp_path / "alpha.png")
    page = only_page(tmp_path / "alpha.png")
    assert page[0, 0] == 255 and page[0, 1] == 0 and 120 <= page[0, 2] <= 135 and page[0, 3] == 20


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (3, 1))
    image.putpalette([0, 0, 0, 255, 255, 255, 40, 40, 40] + [0] * 759)
    image.putdata([0, 1, 2])
    image.info["transparency"] = 0  # palette entry 0 (black) is transparent: paper
    image.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(only_page(tmp_path / "palette.png"), [[255, 255, 40]])


def test_blue_ink_stays_dark(tmp_path):
    rgb = np.full((10, 40, 3), 255, np.uint8)
    rgb[:, 0:10] = (0, 0, 255)  # pure blue
    rgb[:, 10:20] = (25, 45, 160)  # blue ballpoint
    rgb[:, 20:30] = (20, 20, 20)  # black ink
    Image.fromarray(rgb).save(tmp_path / "blue.png")
    page = only_page(tmp_path / "blue.png")
    paper = int(page[:, 35].min())
    assert paper == 255
    assert page[:, 0:10].max() < 60 and page[:, 10:20].max() < 80
    # Ballpoint blue must sit far from paper: the binarizer's contrast floor is 40 grey levels.
    assert paper - int(page[:, 10:20].max()) > 150


def test_exif_orientation_applied(tmp_path):
    stored = np.full((20, 40), 255, np.uint8)
    stored[0:5, 0:5] = 0  # mark at the stored image's top left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    page = only_page(tmp_path / "phone.jpg")
    assert page.shape == (40, 20)
    assert page[:5, -5:].mean() < 40 and page[:5, :5].mean() > 215  # top left went top right


def test_multipage_tiff_yields_every_frame_in_order(tmp_path):
    frames = [Image.fromarray(np.full((30, 20 + 10 * i), 50 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / "stack.tif", save_all=True, append_images=frames[1:])
    result = pages(tmp_path / "stack.tif")
    assert [number for number, _ in result] == [1, 2, 3]
    for i, (_, page) in enumerate(result):
        assert page.shape == (30, 20 + 10 * i) and (page == 50 * i).all()


def test_one_pixel_image_loads(tmp_path):
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    assert only_page(tmp_path / "dot.png").shape == (1, 1)


def test_content_decides_not_suffix(tmp_path):
    Image.fromarray(card()).save(tmp_path / "really_a_png.jpg", format="PNG")
    np.testing.assert_array_equal(only_page(tmp_path / "really_a_png.jpg"), card())


def test_two_page_pdf_rendered_at_dpi(tmp_path):
    first = Image.new("L", (200, 100), 255)
    second = Image.new("RGB", (150, 120), "white")
    second.paste((0, 0, 0), (10, 10, 40, 40))
    first.save(tmp_path / "two.pdf", save_all=True, append_images=[second], resolution=72)
    result = pages(tmp_path / "two.pdf", dpi=144)  # 72 dpi pages drawn at twice the size
    assert [number for number, _ in result] == [1, 2]
    (_, page1), (_, page2) = result
    assert page1.shape == (200, 400) and page1.min() > 240
    assert page2.shape == (240, 300)
    assert page2[30:70, 30:70].max() < 40 and page2[150:, 150:].min() > 240


def spy_on_pdf_renders(monkeypatch) -> list[tuple[int, int]]:
    """A list that records (first_page, last_page) of every pdf2image render from now on."""
    import pdf2image

    calls: list[tuple[int, int]] = []
    real = pdf2image.convert_from_path

    def spy(*args, **kwargs):
        calls.append((kwargs.get("first_page"), kwargs.get("last_page")))
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf2image, "convert_from_path", spy)
    return calls


def test_pdf_pages_are_rendered_one_at_a_time(tmp_path, monkeypatch):
    pages_in = [Image.new("L", (50, 50), 255) for _ in range(3)]
    pages_in[0].save(tmp_path / "three.pdf", save_all=True, append_images=pages_in[1:])
    calls = spy_on_pdf_renders(monkeypatch)
    stream = iter_pages(tmp_path / "three.pdf", dpi=72)
    assert next(stream)[0] == 1
    assert calls == [(1, 1)]  # nothing rendered ahead
    assert [number for number, _ in stream] == [2, 3]
    assert calls == [(1, 1), (2, 2), (3, 3)]


def test_one_pdf_page_rendered_alone(tmp_path, monkeypatch):
    pages_in = [Image.new("L", (50, 50), shade) for shade in (255, 128, 0)]
    pages_in[0].save(tmp_path / "three.pdf", save_all=True, append_images=pages_in[1:])
    calls = spy_on_pdf_renders(monkeypatch)
    [(number, grey)] = list(iter_pages(tmp_path / "three.pdf", dpi=72, page=2))
    assert number == 2 and calls == [(2, 2)] and 100 < grey.mean() < 160
    with pytest.raises(InputError, match="no page 4"):
        list(iter_pages(tmp_path / "three.pdf", dpi=72, page=4))


def test_hand_written_pdf_renders(tmp_path):
    (tmp_path / "plain.pdf").write_bytes(minimal_pdf())
    assert only_page(tmp_path / "plain.pdf", dpi=72).shape == (100, 200)


# --------------------------------------------------------------------------- bad input

def reason(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        pages(path, **kwargs)
    message = str(caught.value)
    assert message and "Traceback" not in message
    return message.lower()


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in reason(tmp_path / "empty.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_truncated_image(tmp_path, suffix):
    noise = np.random.default_rng(0).integers(0, 256, (200, 300), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / f"full{suffix}")
    data = (tmp_path / f"full{suffix}").read_bytes()
    (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    assert "truncated" in reason(tmp_path / f"cut{suffix}")


def test_text_file_named_png(tmp_path):
    (tmp_path / "notes.png").write_text("amount: 1234.56\nthis is not an image\n")
    assert "not an image" in reason(tmp_path / "notes.png")


def test_binary_junk_named_jpg(tmp_path):
    (tmp_path / "junk.jpg").write_bytes(bytes(range(256)) * 4)
    assert "not an image" in reason(tmp_path / "junk.jpg")


def test_decompression_bomb_header_refused_before_decoding(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header_only(50_000, 50_000))
    assert "too large" in reason(tmp_path / "bomb.png")


def test_pixel_limit_checked_from_header(tmp_path, monkeypatch):
    (tmp_path / "big.png").write_bytes(png_header_only(5000, 5000))

    def no_decoding(self):
        raise AssertionError("pixels decoded despite the size limit")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    message = reason(tmp_path / "big.png", limits=Limits(max_pixels=10_000_000))
    assert "too large" in message and "5000 x 5000" in message


def test_byte_limit(tmp_path):
    Image.fromarray(card()).save(tmp_path / "card.png")
    assert "too large" in reason(tmp_path / "card.png", limits=Limits(max_bytes=10))


def test_tiff_page_limit(tmp_path):
    frames = [Image.new("L", (10, 10), 255) for _ in range(3)]
    frames[0].save(tmp_path / "stack.tif", save_all=True, append_images=frames[1:])
    assert "3 pages" in reason(tmp_path / "stack.tif", limits=Limits(max_pages=2))


def test_pdf_page_limit(tmp_path):
    frames = [Image.new("L", (10, 10), 255) for _ in range(3)]
    frames[0].save(tmp_path / "three.pdf", save_all=True, append_images=frames[1:])
    assert "3 pages" in reason(tmp_path / "three.pdf", limits=Limits(max_pages=2))


def test_pdf_page_size_checked_before_rendering(tmp_path, monkeypatch):
    import pdf2image

    (tmp_path / "poster.pdf").write_bytes(minimal_pdf("0 0 14400 14400"))  # 200 x 200 inches

    def no_rendering(*args, **kwargs):
        raise AssertionError("page rendered despite the size limit")

    monkeypatch.setattr(pdf2image, "convert_from_path", no_rendering)
    message = reason(tmp_path / "poster.pdf", dpi=300)
    assert "60000 x 60000" in message and "dpi" in message


def test_encrypted_pdf(tmp_path):
    # Standard security handler whose user password is not empty: unreadable without it.
    encrypt = ("<< /Filter /Standard /V 1 /R 2 /O <" + "11" * 32 + "> /U <" + "22" * 32
               + "> /P -4 >>")
    ident = "<" + "ab" * 16 + ">"
    data = minimal_pdf(trailer_extra=f"/Encrypt 4 0 R /ID [{ident} {ident}]",
                       extra_objects=(encrypt,))
    (tmp_path / "locked.pdf").write_bytes(data)
    assert "password" in reason(tmp_path / "locked.pdf")


def test_corrupted_pdf(tmp_path):
    Image.new("L", (50, 50), 255).save(tmp_path / "good.pdf")
    data = (tmp_path / "good.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    assert "damaged" in reason(tmp_path / "cut.pdf")
    assert "damaged" in reason(tmp_path / "junk.pdf")


def test_text_file_named_pdf(tmp_path):
    (tmp_path / "notes.pdf").write_text("not a pdf at all\n")
    assert "not a pdf" in reason(tmp_path / "notes.pdf")


def test_unreadable_file(tmp_path, monkeypatch):
    Image.fromarray(card()).save(tmp_path / "secret.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(load, "open", denied, raising=False)
    assert "permission denied" in reason(tmp_path / "secret.png")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_by_mode(tmp_path):
    Image.fromarray(card()).save(tmp_path / "secret.png")
    (tmp_path / "secret.png").chmod(0)
    try:
        assert "permission denied" in reason(tmp_path / "secret.png")
    finally:
        (tmp_path / "secret.png").chmod(0o644)


def test_missing_file(tmp_path):
    assert "not found" in reason(tmp_path / "nowhere.png")


def test_directory_named_like_an_image(tmp_path):
    (tmp_path / "x.png").mkdir()
    assert "folder" in reason(tmp_path / "x.png")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.png")
    assert "not a regular file" in reason(tmp_path / "pipe.png")
    assert find_inputs([tmp_path]) == []


def test_bad_dpi_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError):
        pages(tmp_path / "anything.pdf", dpi=0)


# --------------------------------------------------------------------------- find_inputs

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "scans"
    (root / "sub" / "deeper").mkdir(parents=True)
    for name in ("b.png", "A.PNG", "scan 1 é.jpg", "日本.tif", "sub/c.JPEG", "sub/deeper/d.pdf",
                 "sub/e.bmp", "notes.txt", "sub/readme", "sub/f.tiff"):
        (root / name).write_bytes(b"x")
    (root / "folder.png").mkdir()  # a folder named like an image is not an input
    os.symlink("..", root / "sub" / "loop")  # a symlink loop must not hang the walk
    os.symlink("missing.png", root / "broken.png")
    os.symlink("self.png", root / "self.png")  # a link to itself
    return root


def test_find_inputs_recursive_sorted_relative_names(tree):
    names = [name for _, name in find_inputs([tree])]
    assert names == sorted(names)
    # Links named like images that lead nowhere are listed: reading them says why they fail.
    assert names == ["A.PNG", "b.png", "broken.png", "scan 1 é.jpg", "self.png", "sub/c.JPEG",
                     "sub/deeper/d.pdf", "sub/e.bmp", "sub/f.tiff", "日本.tif"]
    for path, name in find_inputs([tree]):
        assert path == tree / name and (path.is_file() or name in ("broken.png", "self.png"))


def test_links_that_lead_nowhere_are_reported(tree):
    with pytest.raises(InputError, match="broken link: it points to missing.png"):
        pages(tree / "broken.png")
    with pytest.raises(InputError, match="link loop"):
        pages(tree / "self.png")


def test_find_inputs_several_arguments(tree, tmp_path):
    single = tmp_path / "single.tif"
    single.write_bytes(b"x")
    found = find_inputs([single, tree / "sub", tree / "sub" / "e.bmp"])
    assert found[0] == (single, "single.tif")
    assert [name for _, name in found[1:]] == ["c.JPEG", "deeper/d.pdf", "e.bmp", "f.tiff"]


def test_find_inputs_skips_unsupported_file_argument(tree):
    assert find_inputs([tree / "notes.txt"]) == []


def test_find_inputs_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        find_inputs([tmp_path / "nowhere"])


def test_find_inputs_empty_folder(tmp_path):
    assert find_inputs([tmp_path]) == []
