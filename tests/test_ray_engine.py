"""--engine ray on a local Ray instance writes the same rows and images as a local run."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[cluster]'): --engine ray untested")
pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install 'ray[data]')")

from pipeline.options import RunOptions  # noqa: E402
from pipeline.run import run  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def table(out: Path, name: str) -> list[tuple]:
    frame = pd.read_csv(out / name, dtype=str, keep_default_na=False)
    return sorted(map(tuple, frame.to_numpy().tolist()))


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(SAMPLES.parent)}})
    yield
    ray.shutdown()


def test_ray_matches_a_local_run(local_ray, tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    for name in ("crop_01.tif", "crop_04.png", "cheque_03.png"):
        shutil.copy(SAMPLES / name, scans / name)
    (scans / "broken.png").write_bytes(b"not an image")
    local = run(RunOptions(inputs=[scans], out=tmp_path / "local", workers=1, progress=False))
    remote = run(RunOptions(inputs=[scans], out=tmp_path / "ray", engine="ray", workers=2, progress=False))
    assert (remote.files, remote.pages, remote.errors) == (local.files, local.pages, local.errors) == (4, 3, 1)
    for name in ("strings.csv", "digits.csv", "pages.csv", "errors.csv"):
        assert table(tmp_path / "ray", name) == table(tmp_path / "local", name), name
    for folder in ("overlays", "flagged"):
        assert sorted(p.name for p in (tmp_path / "ray" / folder).iterdir()) == \
            sorted(p.name for p in (tmp_path / "local" / folder).iterdir())
    # Resuming a finished run reads nothing again.
    again = run(RunOptions(inputs=[scans], out=tmp_path / "ray", engine="ray", workers=2, progress=False,
                           resume=True))
    assert again.skipped == 3 and again.pages == 0 and again.errors == 1
    assert table(tmp_path / "ray", "pages.csv") == table(tmp_path / "local", "pages.csv")
