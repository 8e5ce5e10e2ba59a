"""Hostile inputs (issue 7): a corpus of bad files made here, in tmp_path, run in ONE batch
through ``python cli.py run`` next to good scans; the limits (--max-pixels, --max-pages,
--max-mb); and the model file's checksum.

Every bad input must end as one row of errors.csv with a plain-language reason (or be read
correctly, for the odd but valid ones: 16-bit and multi-page TIFF, CMYK, RGBA, palette, 1 x 1,
blank pages), never as a traceback on stderr; the good inputs are read as usual; the exit code
is 1 (some inputs failed).

Decisions recorded here: a folder named ``x.png`` is a folder (walked; the scans inside it are
read); a link named like an image that leads nowhere (a loop, or broken) is reported in
errors.csv instead of silently left out of the batch.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipeline.load import InputError, Limits, iter_pages

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
MODELS = ROOT / "models"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_REASON = "running as root: root reads a chmod 000 file anyway, so it cannot be made unreadable"
# A reason is plain language: no Python exception class names (ValueError, OSError...), no
# traceback, one line. (Poppler's own "Syntax Error (73): ..." detail may follow a reason.)
PYTHON_ERROR = re.compile(r"\b[A-Za-z]+(Error|Exception)\b|Traceback|File \"")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr[-3000:]


# --------------------------------------------------------------------------- file makers

def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny, well-formed PNG (valid CRCs) whose header claims ``width`` x ``height`` grey
    pixels: 2.5 gigapixels by default, from 60 bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def jpeg_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    """A small valid JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5: sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def pdf(pages: list[str], trailer_extra: str = "", extra_objects: tuple[str, ...] = ()) -> bytes:
    """A hand-written PDF with a correct cross-reference table; ``pages`` are MediaBoxes."""
    first_page = 3 + len(extra_objects)
    kids = " ".join(f"{first_page + k} 0 R" for k in range(len(pages)))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>", *extra_objects,
               *(f"<< /Type /Page /Parent 2 0 R /MediaBox [{box}] >>" for box in pages)]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R {trailer_extra} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def encrypted_pdf() -> bytes:
    """A PDF with a standard security handler /Encrypt dictionary whose user password is not
    empty (its /U entry matches no empty password): unreadable without the password."""
    encrypt = ("<< /Filter /Standard /V 1 /R 2 /O <" + "11" * 32 + "> /U <" + "22" * 32
               + "> /P -4 >>")
    ident = "<" + "ab" * 16 + ">"
    return pdf(["0 0 200 100"], trailer_extra=f"/Encrypt 3 0 R /ID [{ident} {ident}]",
               extra_objects=(encrypt,))


def tiff_with_damaged_second_page() -> bytes:
    """A two-page TIFF whose second page directory lost its width and height tags (Pillow
    fails while counting the pages: found by benchmarks/fuzz.py)."""
    buffer = io.BytesIO()
    frames = [Image.fromarray(card()), Image.new("L", (40, 30), 0)]
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(buffer.getvalue())
    assert data[:4] == b"II*\x00"  # little-endian, as Pillow writes
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for k in range(struct.unpack_from("<H", data, second)[0]):
        entry = second + 2 + 12 * k
        if struct.unpack_from("<H", data, entry)[0] in (256, 257):  # ImageWidth, ImageLength
            struct.pack_into("<H", data, entry, 65000)  # an unknown tag instead
    return bytes(data)


def many_pages_pdf(n: int = 500) -> bytes:
    """``n`` tiny (10 x 10 pt) blank pages, written by hand: instant to make."""
    return pdf(["0 0 10 10"] * n)


def save(path: Path, image: Image.Image, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


def card(size: tuple[int, int] = (120, 60)) -> np.ndarray:
    """White paper with a dark bar: a page with some ink on it."""
    image = np.full(size[::-1], 250, np.uint8)
    image[10:50, 50:56] = 20
    return image


# What each input of the batch must give: ("ok", pages), ("error", words in the reason) or
# ("partial", (pages read, words in the reason of the page that failed)).
Expected = dict[str, tuple[str, object]]


def make_corpus(folder: Path) -> Expected:
    """The hostile corpus, plus good scans, in ``folder``; returns what each must give."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: Expected = {}

    # Good scans (with digits), names with spaces and non-ASCII letters included.
    for name, sample in [("good.png", "crop_02.png"), ("scan 1 é.png", "crop_04.png"),
                         ("日本 ñ.tif", "crop_01.tif")]:
        shutil.copy(SAMPLES / sample, folder / name)
        expected[name] = ("ok", 1)

    # Nothing to read.
    (folder / "empty.png").write_bytes(b"")
    expected["empty.png"] = ("error", "empty")
    (folder / "notes.png").write_text("amount: 1234.56\nthis is a text file, not a scan\n")
    expected["notes.png"] = ("error", "not an image")
    (folder / "text.pdf").write_text("not a PDF at all\n")
    expected["text.pdf"] = ("error", "not a pdf")
    buffer = io.BytesIO()
    Image.new("L", (20, 20), 255).save(buffer, format="GIF")
    (folder / "animation.png").write_bytes(buffer.getvalue())  # a GIF: format not accepted
    expected["animation.png"] = ("error", "not an image")

    # Truncated files.
    noise = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
    for suffix, format_ in [(".png", "PNG"), (".jpg", "JPEG")]:
        buffer = io.BytesIO()
        Image.fromarray(noise).save(buffer, format=format_)
        data = buffer.getvalue()
        (folder / f"truncated{suffix}").write_bytes(data[: len(data) // 2])
        expected[f"truncated{suffix}"] = ("error", "truncated")

    # Decompression bombs: headers claiming billions of pixels.
    (folder / "bomb.png").write_bytes(png_bomb())
    expected["bomb.png"] = ("error", "too large")
    (folder / "bomb.jpg").write_bytes(jpeg_bomb())
    expected["bomb.jpg"] = ("error", "too large")
    # Under Pillow's own guard (179 million pixels) but over the default limit: a blank page of
    # this size is a valid 170 KB PNG that would take gigabytes to read.
    (folder / "huge.png").write_bytes(png_bomb(13_000, 13_000))
    expected["huge.png"] = ("error", "13000 x 13000 pixels (limit 100,000,000 pixels)")

    # Odd but valid images: read, no error.
    save(folder / "one_pixel.png", Image.new("L", (1, 1), 0))
    save(folder / "black.png", Image.new("L", (300, 200), 0))
    save(folder / "white.png", Image.new("L", (300, 200), 255))
    save(folder / "sixteen.tif", Image.fromarray(card().astype(np.uint16) * 257))
    frames = [Image.fromarray(card()), Image.new("L", (80, 40), 255), Image.new("RGB", (50, 50), "white")]
    save(folder / "pages.tif", frames[0], save_all=True, append_images=frames[1:])
    save(folder / "cmyk.jpg", Image.fromarray(card()).convert("CMYK"))
    save(folder / "rgba.png", Image.fromarray(card()).convert("RGBA"))
    save(folder / "palette.png", Image.fromarray(card()).convert("P"))
    for name in ["one_pixel.png", "black.png", "white.png", "sixteen.tif", "cmyk.jpg",
                 "rgba.png", "palette.png"]:
        expected[name] = ("ok", 1)
    expected["pages.tif"] = ("ok", 3)
    (folder / "damaged_page2.tif").write_bytes(tiff_with_damaged_second_page())
    expected["damaged_page2.tif"] = ("partial", (1, "page 2 of the image is damaged"))

    # PDFs: encrypted, corrupted, 500 pages (over the --max-pages 100 of the batch run).
    (folder / "locked.pdf").write_bytes(encrypted_pdf())
    expected["locked.pdf"] = ("error", "password")
    good_pdf = pdf(["0 0 200 100"])
    (folder / "corrupt.pdf").write_bytes(good_pdf[:40] + bytes(range(256)) * 2)
    expected["corrupt.pdf"] = ("error", "damaged")
    (folder / "many.pdf").write_bytes(many_pages_pdf(500))
    expected["many.pdf"] = ("error", "500 pages, more than the limit of 100")

    # Unreadable (root reads it anyway: then it is a good image).
    secret = save(folder / "secret.png", Image.fromarray(card()))
    secret.chmod(0)
    expected["secret.png"] = ("ok", 1) if IS_ROOT else ("error", "permission denied")

    # A folder named like an image, holding a scan: a folder, walked.
    save(folder / "x.png" / "inside.png", Image.fromarray(card()))
    expected["x.png/inside.png"] = ("ok", 1)

    # Links: a loop, a broken link, and a folder link back up the tree (must not hang).
    os.symlink("loop.png", folder / "loop.png")
    expected["loop.png"] = ("error", "link loop")
    os.symlink("nowhere.png", folder / "dangling.png")
    expected["dangling.png"] = ("error", "broken link")
    os.symlink("..", folder / "x.png" / "up")
    return expected


# --------------------------------------------------------------------------- the batch

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    expected = make_corpus(base / "scans")
    out = base / "out"
    started = time.perf_counter()
    done = cli("run", str(base / "scans"), "--out", str(out), "--quiet", "--max-pages", "100")
    seconds = time.perf_counter() - started
    (base / "scans" / "secret.png").chmod(0o644)
    return expected, done, out, seconds


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"file": str, "text": str}, keep_default_na=False)


def test_batch_exit_code_and_no_traceback(batch):
    expected, done, out, seconds = batch
    no_traceback(done)
    assert done.returncode == 1, (done.stdout, done.stderr[-2000:])
    assert "done:" in done.stdout and "could not be read" in done.stdout
    assert (out / "errors.csv").is_file()


@pytest.mark.xfail(strict=False, reason="pipeline/run.py count_pages opens every input with "
                   "Image.open outside pipeline.load's warning guard (and with every Pillow "
                   "plugin): the 169-megapixel huge.png prints a DecompressionBombWarning with "
                   "its source line on stderr")
def test_batch_stderr_has_no_python_warnings(batch):
    _, done, _, _ = batch
    assert not re.search(r"\w+Warning: ", done.stderr), done.stderr[-2000:]


def test_every_bad_input_is_one_plain_row_in_errors_csv(batch):
    expected, done, out, _ = batch
    errors = read_csv(out / "errors.csv")
    bad = {name: words for name, (kind, words) in expected.items() if kind == "error"}
    bad |= {name: what[1] for name, (kind, what) in expected.items() if kind == "partial"}
    assert sorted(errors["file"]) == sorted(bad), errors.to_string()
    for row in errors.itertuples():
        reason = row.error
        assert bad[row.file].lower() in reason.lower(), (row.file, reason)
        if expected[row.file][0] == "partial":
            assert row.page == expected[row.file][1][0] + 1, (row.file, row.page)
        assert not PYTHON_ERROR.search(reason) and "\n" not in reason, (row.file, reason)
        assert len(reason) >= 10


def test_odd_but_valid_inputs_are_read(batch):
    expected, done, out, _ = batch
    pages = read_csv(out / "pages.csv")
    counts = pages.groupby("file")["page"].apply(sorted).to_dict()
    for name, (kind, what) in expected.items():
        if kind in ("ok", "partial"):
            n_pages = what if kind == "ok" else what[0]
            assert counts.get(name) == list(range(1, n_pages + 1)), (name, counts.get(name))
    assert "x.png" not in counts  # the folder itself is no input


def test_good_inputs_are_read_as_usual(batch):
    _, _, out, _ = batch
    strings = read_csv(out / "strings.csv")
    truth = pd.read_csv(SAMPLES / "truth.csv", dtype={"text": str}, keep_default_na=False)
    for name, sample in [("good.png", "crop_02.png"), ("scan 1 é.png", "crop_04.png"),
                         ("日本 ñ.tif", "crop_01.tif")]:
        read = set(strings.loc[strings["file"] == name, "text"])
        assert read, f"nothing read from {name}"
        assert set(truth.loc[truth["file"] == sample, "text"]) & read, (name, read)
    overlays = {p.name for p in (out / "overlays").glob("*.jpg")}
    assert any("é" in name for name in overlays) and any("日本" in name for name in overlays)


def test_batch_is_quick(batch):
    # 500 pages are refused from the page count, not rendered; the bombs from their headers.
    assert batch[3] < 120, f"the hostile batch took {batch[3]:.0f} s"


# --------------------------------------------------------------------------- limits

def test_limit_options_each_refuse_with_their_limit(tmp_path):
    scans = tmp_path / "scans"
    save(scans / "wide.png", Image.new("L", (200, 100), 255))  # 20,000 pixels
    frames = [Image.new("L", (20, 20), 255)] * 3
    save(scans / "three.tif", frames[0], save_all=True, append_images=frames[1:])
    noise = np.random.default_rng(1).integers(0, 256, (300, 300), dtype=np.uint8)
    save(scans / "heavy.png", Image.fromarray(noise))  # ~90 KB of incompressible noise
    save(scans / "small.png", Image.fromarray(card((60, 40))))
    (scans / "three.pdf").write_bytes(pdf(["0 0 72 72"] * 3))
    done = cli("run", str(scans), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1",
               "--max-pixels", "10000", "--max-pages", "2", "--max-mb", "0.05")
    no_traceback(done)
    assert done.returncode == 1
    errors = read_csv(tmp_path / "out" / "errors.csv").set_index("file")["error"].to_dict()
    assert set(errors) == {"wide.png", "three.tif", "three.pdf", "heavy.png"}, errors
    assert "200 x 100" in errors["wide.png"] and "10,000" in errors["wide.png"]
    assert "3 pages" in errors["three.tif"] and "limit of 2" in errors["three.tif"]
    assert "3 pages" in errors["three.pdf"] and "limit of 2" in errors["three.pdf"]
    assert "too large" in errors["heavy.png"] and "MiB" in errors["heavy.png"]
    assert "0.05" in errors["heavy.png"], errors["heavy.png"]  # the limit, not "0 MiB"
    assert "small.png" in set(read_csv(tmp_path / "out" / "pages.csv")["file"])


def test_pages_before_a_damaged_page_are_kept(tmp_path):
    (tmp_path / "two.tif").write_bytes(tiff_with_damaged_second_page())
    stream = iter_pages(tmp_path / "two.tif")
    number, page = next(stream)
    assert number == 1 and page.shape == (60, 120)
    with pytest.raises(InputError, match="page 2 of the image is damaged"):
        next(stream)


def test_default_limits_are_sane():
    limits = Limits()
    assert 70_000_000 <= limits.max_pixels <= 120_000_000  # A3 at 600 dpi fits, a bomb does not
    assert 100 <= limits.max_pages <= 10_000
    assert 50 * 2**20 <= limits.max_bytes <= 2**30


def test_bomb_refused_from_the_header_under_default_limits(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_bomb())
    started = time.perf_counter()
    with pytest.raises(InputError, match="too large"):
        list(iter_pages(tmp_path / "bomb.png"))
    assert time.perf_counter() - started < 2  # nothing decoded


def test_pdf_of_500_pages_is_read_page_by_page(tmp_path, monkeypatch):
    from tests.test_load import spy_on_pdf_renders

    (tmp_path / "many.pdf").write_bytes(many_pages_pdf(500))
    calls = spy_on_pdf_renders(monkeypatch)
    stream = iter_pages(tmp_path / "many.pdf", dpi=72)  # under the default limit of 1000 pages
    first = [next(stream) for _ in range(3)]
    assert [number for number, _ in first] == [1, 2, 3]
    assert all(page.shape == (10, 10) for _, page in first)
    assert calls == [(1, 1), (2, 2), (3, 3)]  # nothing rendered ahead
    stream.close()
    with pytest.raises(InputError, match="500 pages, more than the limit of 499"):
        next(iter_pages(tmp_path / "many.pdf", limits=Limits(max_pages=499)))


@pytest.mark.skipif(IS_ROOT, reason=ROOT_REASON)
@pytest.mark.skipif(os.name != "posix", reason="chmod 000 is POSIX")
def test_unreadable_file_through_the_cli(tmp_path):
    secret = save(tmp_path / "scans" / "secret.png", Image.fromarray(card()))
    secret.chmod(0)
    try:
        done = cli("run", str(tmp_path / "scans"), "--out", str(tmp_path / "out"), "--quiet",
                   "--workers", "1")
    finally:
        secret.chmod(0o644)
    no_traceback(done)
    assert done.returncode == 1
    assert "permission denied" in read_csv(tmp_path / "out" / "errors.csv")["error"][0]


@pytest.mark.skipif(shutil.which("qpdf") is None,
                    reason="qpdf is not installed: the hand-written /Encrypt PDF of the batch "
                           "covers encryption; qpdf would add a real AES-256 one")
def test_qpdf_encrypted_pdf(tmp_path):
    (tmp_path / "plain.pdf").write_bytes(pdf(["0 0 200 100"]))
    subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--",
                    str(tmp_path / "plain.pdf"), str(tmp_path / "locked.pdf")], check=True)
    with pytest.raises(InputError, match="password"):
        list(iter_pages(tmp_path / "locked.pdf"))


def test_page_of_static_is_preprocessed_quickly():
    # Every short vertical run of a noise page was once checked in a Python loop (8 s for a
    # 1000 x 1400 page of specks, about a minute for A4 at 300 dpi).
    from pipeline.preprocess import preprocess

    rng = np.random.default_rng(0)
    page = np.where(rng.random((600, 800)) < 0.2, 0, 255).astype(np.uint8)
    started = time.perf_counter()
    preprocess(page)
    assert time.perf_counter() - started < 3


@pytest.mark.xfail(strict=False, reason="segmentation/merge.py merge_pieces is quadratic in the "
                   "number of components (_neighbour_height scans every box for every candidate "
                   "pair): a page of static noise takes minutes (1000 x 1400 px: ~5 min)")
def test_page_of_static_is_segmented_quickly():
    # In a child process that faulthandler ends after 2 s of segmentation (a signal raised
    # into the middle of numpy code confuses pytest's traceback printing).
    code = """if True:
        import faulthandler, sys
        import numpy as np
        from pipeline.preprocess import preprocess
        from segmentation.segment import segment_page
        rng = np.random.default_rng(0)
        ink = preprocess(np.where(rng.random((400, 560)) < 0.2, 0, 255).astype(np.uint8)).ink
        faulthandler.dump_traceback_later(2.0, exit=True)
        segment_page(ink)
        faulthandler.cancel_dump_traceback_later()
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, "segment_page took over 2 s on a 400 x 560 page of noise:\n" + \
        done.stderr[-1500:]


# --------------------------------------------------------------------------- the model file

def model_copy(tmp_path: Path, name: str = "models") -> Path:
    folder = tmp_path / name
    shutil.copytree(MODELS, folder)
    return folder


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_corrupted_model_refused_naming_the_file(tmp_path):
    from classifier.runtime import DigitClassifier

    folder = model_copy(tmp_path)
    flip_a_byte(folder / "digits.tflite")
    with pytest.raises(ValueError) as caught:
        DigitClassifier(folder)
    assert str(folder / "digits.tflite") in str(caught.value)
    assert "sha256" in str(caught.value)


def test_foreign_file_named_digits_tflite_refused(tmp_path):
    from classifier.runtime import DigitClassifier

    folder = model_copy(tmp_path)
    shutil.copy(SAMPLES / "crop_02.png", folder / "digits.tflite")
    with pytest.raises(ValueError, match="sha256") as caught:
        DigitClassifier(folder)
    assert str(folder / "digits.tflite") in str(caught.value)


def test_foreign_file_with_a_matching_card_is_not_loaded(tmp_path):
    # Someone also rewrote the card's checksum: the interpreter refuses the file, with a message.
    import hashlib
    import json

    from classifier.runtime import DigitClassifier

    folder = model_copy(tmp_path)
    foreign = b"TFL3" + bytes(range(256)) * 8
    (folder / "digits.tflite").write_bytes(foreign)
    card_path = folder / "model_card.json"
    card_data = json.loads(card_path.read_text())
    card_data["sha256"] = hashlib.sha256(foreign).hexdigest()
    card_path.write_text(json.dumps(card_data))
    # In a child process: a native crash of the interpreter must not take pytest down.
    code = ("from classifier.runtime import DigitClassifier\n"
            f"DigitClassifier({str(folder)!r})\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "ValueError" in done.stderr and str(folder / "digits.tflite") in done.stderr
    assert "not a loadable LiteRT model" in done.stderr


def test_missing_model_file_named(tmp_path):
    from classifier.runtime import DigitClassifier

    folder = model_copy(tmp_path)
    (folder / "digits.tflite").unlink()
    with pytest.raises(FileNotFoundError, match="digits.tflite"):
        DigitClassifier(folder)


def run_with_model_dir(tmp_path: Path, folder: Path, *options: str) -> subprocess.CompletedProcess:
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(SAMPLES / "crop_02.png", scans / "good.png")
    shutil.copy(SAMPLES / "crop_04.png", scans / "good2.png")
    return cli("run", str(scans), "--out", str(tmp_path / "out"), "--quiet",
               "--model-dir", str(folder), *options)


@pytest.mark.parametrize("damage", ["flipped byte", "foreign file"])
def test_cli_refuses_a_bad_model_dir_with_exit_code_2(tmp_path, damage):
    folder = model_copy(tmp_path)
    if damage == "flipped byte":
        flip_a_byte(folder / "digits.tflite")
    else:
        shutil.copy(SAMPLES / "crop_02.png", folder / "digits.tflite")
    done = run_with_model_dir(tmp_path, folder, "--workers", "1")
    no_traceback(done)
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    assert done.stderr.startswith("error: "), done.stderr
    assert f"{folder / 'digits.tflite'}: sha256 does not match" in done.stderr


def test_cli_refuses_a_bad_model_dir_with_exit_code_2_with_workers(tmp_path):
    folder = model_copy(tmp_path)
    flip_a_byte(folder / "digits.tflite")
    done = run_with_model_dir(tmp_path, folder, "--workers", "2")
    no_traceback(done)
    assert done.returncode == 2, (done.stdout, done.stderr[-2000:])
    assert f"{folder / 'digits.tflite'}: sha256 does not match" in done.stderr


def test_keras_models_are_never_loaded_unsafely():
    # The runtime reads a LiteRT flatbuffer (no code in it). Any Keras model loading in the
    # code must keep safe_mode on (Keras 3's default), since a .keras file with a Lambda layer
    # runs arbitrary Python when loaded unsafely; legacy .h5 loading has no safe mode at all.
    import ast

    for path in sorted((ROOT / "classifier").glob("*.py")) + [ROOT / "cli.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name.endswith("load_model"):
                    safe = [k for k in node.keywords if k.arg == "safe_mode"]
                    assert not safe or ast.unparse(safe[0].value) == "True", \
                        f"{path.name}:{node.lineno}: {name} with safe_mode disabled"
                    assert ".h5" not in ast.unparse(node), f"{path.name}:{node.lineno}: legacy .h5"
