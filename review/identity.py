"""Which current digit a stored decision is about.

A key (file, page, string_id, index) is only a position in one run's output: a re-run into the
same folder (other options, a new model, ``--resume``) can renumber strings or shift indices, so
an old key may name another digit. A decision therefore records the digit's box, and applies to
the digit of the same file and page whose box overlaps it most, provided IoU > MIN_IOU and no
other digit overlaps it as much. More than half (not "at least"): a digit split in two, or two
merged into one, overlaps the old box by exactly half and is not the same digit.

Decisions recorded without a box (older databases) fall back to their key, and are refused when
the model's reading recorded then differs from the current one (a sign the key moved).

A decision that matches no current digit is *stale*: reported, never applied to another digit.
Per digit, the latest matching decision (highest id) is in force, as before.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from review.data import DigitKey
from review.store import Box, Latest

MIN_IOU = 0.5


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes; 0 for empty ones."""
    iw = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    ih = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0, iw) * max(0, ih)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def row_box(row: Mapping[str, str]) -> Box | None:
    """A CSV row's (x, y, w, h), or None when missing or malformed."""
    try:
        x, y, w, h = (int(float(row[c])) for c in ("x", "y", "w", "h"))
    except (KeyError, TypeError, ValueError):
        return None
    return (x, y, w, h)


def same_digit(a: Box | None, b: Box | None) -> bool:
    return a is not None and b is not None and iou(a, b) > MIN_IOU


@dataclass
class Resolution:
    """Decisions matched to the current digits."""

    history: dict[DigitKey, list[Latest]] = field(default_factory=dict)  # per digit, oldest first
    stale: list[Latest] = field(default_factory=list)  # latest decision of each lost digit
    moved: int = 0  # digits in force through a decision recorded under another key

    @property
    def applied(self) -> dict[DigitKey, Latest]:
        """The decision in force per current digit."""
        return {key: rows[-1] for key, rows in self.history.items()}


class _Grid:
    """Boxes by (file, page) and coarse cell: two boxes that overlap share a cell, so matching
    looks at a few neighbours instead of every digit of the page (a ledger page has hundreds)."""

    CELL = 64  # page pixels
    MAX_CELLS = 256  # a box wider than this (a malformed row) is checked against the whole page

    def __init__(self) -> None:
        self.cells: dict[tuple, list] = {}
        self.pages: dict[tuple[str, int], list] = {}
        self.wide: dict[tuple[str, int], list] = {}

    def _cells(self, page: tuple[str, int], box: Box) -> list[tuple] | None:
        x0, y0 = box[0] // self.CELL, box[1] // self.CELL
        x1 = (box[0] + max(box[2], 1) - 1) // self.CELL
        y1 = (box[1] + max(box[3], 1) - 1) // self.CELL
        if (x1 - x0 + 1) * (y1 - y0 + 1) > self.MAX_CELLS:
            return None
        return [(page, cx, cy) for cx in range(x0, x1 + 1) for cy in range(y0, y1 + 1)]

    def add(self, page: tuple[str, int], box: Box, item) -> None:
        self.pages.setdefault(page, []).append(item)
        cells = self._cells(page, box)
        if cells is None:
            self.wide.setdefault(page, []).append(item)
        for cell in cells or ():
            self.cells.setdefault(cell, []).append(item)

    def near(self, page: tuple[str, int], box: Box) -> list:
        cells = self._cells(page, box)
        if cells is None:
            return list(self.pages.get(page, ()))
        seen: dict[int, object] = {id(i): i for i in self.wide.get(page, ())}
        for cell in cells:
            for item in self.cells.get(cell, ()):
                seen.setdefault(id(item), item)
        return list(seen.values())


class _Digits:
    """The current digits, their boxes indexed by place on the page."""

    def __init__(self, digits: Mapping[DigitKey, Mapping[str, str]]):
        self.digits = digits
        self.boxes: dict[DigitKey, Box | None] = {k: row_box(r) for k, r in digits.items()}
        self.grid = _Grid()
        for key, box in self.boxes.items():
            if box is not None:
                self.grid.add(key[:2], box, key)

    def match(self, decision: Latest) -> DigitKey | None:
        key, box = decision.key, decision.box
        if key is None:
            return None
        if box is None:  # older row: the key is all there is; refuse it if the reading moved
            row = self.digits.get(key)
            if row is None or (decision.model_digit and row.get("digit", "") != decision.model_digit):
                return None
            return key
        if self.boxes.get(key) == box:  # the common case: nothing re-ran
            return key
        scored = sorted(((iou(box, self.boxes[k]), k != key, k)  # type: ignore[arg-type]
                         for k in self.grid.near(key[:2], box)), key=lambda s: (-s[0], s[1]))
        if not scored or scored[0][0] <= MIN_IOU:
            return None
        if len(scored) > 1 and scored[1][0] == scored[0][0] and scored[0][1]:
            return None  # two other digits overlap it equally: ambiguous
        return scored[0][2]


def _same_identity(a: Latest, b: Latest) -> bool:
    """Were ``a`` and ``b`` about the same digit when they were recorded?"""
    if a.key is None or b.key is None or a.key[:2] != b.key[:2]:
        return False
    if a.box is not None and b.box is not None:
        return same_digit(a.box, b.box)
    return a.key == b.key


def _latest_of_each_digit(unmatched: list[Latest], others: Iterable[Latest]) -> list[Latest]:
    """``unmatched`` less the rows a later row (of either list) was about the same digit as:
    each lost digit is reported once, with the decision that was in force for it."""
    by_key: dict[DigitKey, list[Latest]] = {}
    grid = _Grid()
    for d in [*unmatched, *others]:
        if d.key is not None:
            by_key.setdefault(d.key, []).append(d)
            if d.box is not None:
                grid.add(d.key[:2], d.box, d)
    out = []
    for d in unmatched:
        near = by_key.get(d.key, []) if d.key is not None else []
        if d.box is not None and d.key is not None:
            near = near + grid.near(d.key[:2], d.box)
        if not any(o.id > d.id and _same_identity(d, o) for o in near):
            out.append(d)
    return out


def resolve(decisions: Iterable[Latest], digits: Mapping[DigitKey, Mapping[str, str]]) -> Resolution:
    """Match every stored decision (the whole log, oldest first) to the current ``digits``
    (key -> digits.csv row). The whole log, not the latest per key: after a re-run one key can
    hold decisions about two different digits."""
    current = _Digits(digits)
    out = Resolution()
    unmatched: list[Latest] = []
    for decision in sorted(decisions, key=lambda d: d.id):
        key = current.match(decision)
        if key is None:
            unmatched.append(decision)
        else:
            out.history.setdefault(key, []).append(decision)
    out.moved = sum(rows[-1].key != key for key, rows in out.history.items())
    matched = (d for rows in out.history.values() for d in rows)
    out.stale = _latest_of_each_digit(unmatched, matched)
    return out
