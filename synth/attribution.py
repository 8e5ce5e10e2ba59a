"""ATTRIBUTION.md for a generated set: MNIST's licence and the test indices the set uses."""
from __future__ import annotations

from pathlib import Path

from classifier.datasets import MNIST_ATTRIBUTION


def index_ranges(indices: list[int]) -> str:
    """Sorted indices as compact ranges: ``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    parts, run = [], []
    for i in sorted(set(indices)):
        if run and i != run[-1] + 1:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
            run = []
        run.append(i)
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(parts)


def write_attribution(path: Path, used: list[int]) -> None:
    """Write the licence note, naming every MNIST test index drawn on the pages."""
    text = f"""# Attribution

The handwritten digits on these synthetic scans come from MNIST.
{MNIST_ATTRIBUTION}

These images, being derived from MNIST, are shared under the same licence, CC BY-SA 3.0
(https://creativecommons.org/licenses/by-sa/3.0/). They were changed: each digit was
upscaled, re-stroked with a different pen width, composed into strings on generated forms,
cheques and ledgers, and passed through a simulated scanner.

Only digits of the MNIST **test** split (`t10k-images-idx3-ubyte.gz`, indices 0-9999) were used,
never training digits, so these pages can evaluate a model trained on MNIST's training split.
`sources.csv` lists the test indices of every string, in writing order; all
{len(set(used))} indices used:

{index_ranges(used)}
"""
    Path(path).write_text(text, encoding="utf-8")
