"""The typed result tree: page -> digit string -> glyph, each with its geometry and confidence.

Every element can ``export()`` itself to plain rows; the CSV columns of ``strings.csv`` and
``digits.csv`` are defined here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STRING_COLUMNS = ["file", "page", "string_id", "x", "y", "w", "h", "text", "confidence",
                  "flagged", "n_digits", "kind"]
DIGIT_COLUMNS = ["file", "page", "string_id", "index", "x", "y", "w", "h", "digit", "confidence",
                 "alt1", "alt1_conf", "alt2", "alt2_conf", "flagged", "crop", "flag_reason"]
ERROR_COLUMNS = ["file", "page", "error"]
PAGE_COLUMNS = ["file", "page", "width", "height", "angle", "strings", "flagged"]
SEPARATORS = ".,/-"
# Why a digit is flagged (digits.csv ``flag_reason``), in the order they are checked.
NOT_A_DIGIT_REASON = "not a digit"      # the classifier's top class is '?'
LOW_CONFIDENCE = "low confidence"       # top digit below the threshold
SEGMENTATION_DOUBT = "segmentation"     # a close call between cutting the mark apart or not
SEPARATOR_LAYOUT = "separator layout"   # beside a separator in a string no one writes that way
IMPOSSIBLE_DATE = "impossible date"     # in a group that makes a date-shaped string no possible date
SHORT_ZERO = "short 0"                  # a '0' far shorter than its neighbours, low on the line: a '6' without its stem?
AMBIGUOUS_GROUPING = "ambiguous grouping"  # beside the separator of '71.575': thousands or decimals?
FLAG_REASONS = (NOT_A_DIGIT_REASON, LOW_CONFIDENCE, SEGMENTATION_DOUBT, SEPARATOR_LAYOUT, IMPOSSIBLE_DATE, SHORT_ZERO,
                AMBIGUOUS_GROUPING)
NOT_A_DIGIT = "?"


@dataclass(frozen=True)
class Box:
    """Axis-aligned box in page pixels, origin top left."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def union(self, other: "Box") -> "Box":
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    @staticmethod
    def enclosing(boxes: "list[Box]") -> "Box":
        out = boxes[0]
        for box in boxes[1:]:
            out = out.union(box)
        return out


@dataclass
class Glyph:
    """One mark of a string: a digit (``'0'``-``'9'``, or ``'?'`` for a rejected mark) or a
    separator. ``alternatives`` holds every (label, probability) pair, best first (the CSVs show
    the top three)."""

    box: Box
    label: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...] = ()
    flagged: bool = False
    is_separator: bool = False
    crop: str = ""  # file name under flagged/ once exported
    reason: str = ""  # why it is flagged: one of FLAG_REASONS, "" when it is not
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)  # 28x28 input, if kept

    def flag(self, reason: str) -> None:
        """Flag it for ``reason`` (one of FLAG_REASONS) unless it is flagged already: the first
        reason found is the one a reviewer sees."""
        if not self.flagged:
            self.flagged, self.reason = True, reason

    def export(self) -> dict:
        alts = list(self.alternatives[1:3]) + [("", float("nan"))] * (2 - len(self.alternatives[1:3]))
        return {"x": self.box.x, "y": self.box.y, "w": self.box.w, "h": self.box.h,
                "digit": self.label, "confidence": round(self.confidence, 4),
                "alt1": alts[0][0], "alt1_conf": round(alts[0][1], 4),
                "alt2": alts[1][0], "alt2_conf": round(alts[1][1], 4),
                "flagged": self.flagged, "crop": self.crop, "flag_reason": self.reason}


@dataclass
class DigitString:
    """Digits (and recognised separators) of one field or run of handwriting, in reading order."""

    glyphs: list[Glyph]
    string_id: int = 0
    kind: str = "line"  # line, box or comb

    @property
    def box(self) -> Box:
        return Box.enclosing([g.box for g in self.glyphs])

    @property
    def digits(self) -> list[Glyph]:
        return [g for g in self.glyphs if not g.is_separator]

    @property
    def text(self) -> str:
        return "".join(g.label for g in self.glyphs)

    @property
    def confidence(self) -> float:
        """The lowest confidence of the string's digits: a string is as sure as its worst digit."""
        return min((g.confidence for g in self.digits), default=0.0)

    @property
    def flagged(self) -> bool:
        return any(g.flagged for g in self.digits)

    def export(self) -> dict:
        box = self.box
        return {"string_id": self.string_id, "x": box.x, "y": box.y, "w": box.w, "h": box.h,
                "text": self.text, "confidence": round(self.confidence, 4),
                "flagged": self.flagged, "n_digits": len(self.digits), "kind": self.kind}


@dataclass
class FieldResult:
    """One named field of a form or cheque: ``value`` normalised (ISO date, plain decimal
    amount, digits as written; the text as read when it cannot be normalised), ``text`` as read,
    ``confidence`` its weakest digit's, ``flagged`` when a digit is doubtful or a rule fails
    (``problems`` says which), ``string_id`` the string in strings.csv it was read from (0: none)."""

    name: str
    value: str = ""
    text: str = ""
    confidence: float = 0.0
    flagged: bool = True
    problems: tuple[str, ...] = ()
    string_id: int = 0


@dataclass
class PageResult:
    """Everything read from one page. ``artifacts`` maps output-relative paths (``overlays/...``,
    ``flagged/...``) to encoded image bytes, so a worker can hand them to the parent to write."""

    file: str
    page: int
    width: int = 0
    height: int = 0
    angle: float = 0.0  # deskew angle applied, degrees, counter-clockwise positive
    strings: list[DigitString] = field(default_factory=list)
    error: str | None = None
    artifacts: dict[str, bytes] = field(default_factory=dict)
    fields: list[FieldResult] = field(default_factory=list)
    # Every field name of the template (or cheque) in use, in order: the columns of fields.csv,
    # the same for every page of a run. Empty when no template is in use: no fields.csv rows.
    field_names: list[str] = field(default_factory=list)

    def string_rows(self) -> list[dict]:
        return [{"file": self.file, "page": self.page, **s.export()} for s in self.strings]

    def digit_rows(self) -> list[dict]:
        rows = []
        for s in self.strings:
            for index, glyph in enumerate(s.glyphs):
                if glyph.is_separator:
                    continue
                rows.append({"file": self.file, "page": self.page, "string_id": s.string_id,
                             "index": index, **glyph.export()})
        return rows

    def page_rows(self) -> list[dict]:
        if self.error:
            return []
        return [{"file": self.file, "page": self.page, "width": self.width, "height": self.height,
                 "angle": round(self.angle, 3), "strings": len(self.strings),
                 "flagged": sum(s.flagged for s in self.strings)}]

    def field_columns(self) -> list[str]:
        """fields.csv columns: file, page, then per field <name>, <name>_confidence,
        <name>_flagged, then ``problems`` (why fields are flagged)."""
        names = [c for n in self.field_names for c in (n, f"{n}_confidence", f"{n}_flagged")]
        return ["file", "page", *names, "problems"]

    def field_rows(self) -> list[dict]:
        """One fields.csv row for this page (none without a template, or for a failed page).
        Fields of another template page are left empty."""
        if self.error or not self.field_names:
            return []
        row: dict = {"file": self.file, "page": self.page}
        found = {f.name: f for f in self.fields}
        for name in self.field_names:
            f = found.get(name)
            row[name] = f.value if f else ""
            row[f"{name}_confidence"] = round(f.confidence, 4) if f else ""
            row[f"{name}_flagged"] = f.flagged if f else ""
        row["problems"] = "; ".join(f"{f.name}: {p}" for f in self.fields for p in f.problems)
        return [row]

    def error_rows(self) -> list[dict]:
        return [{"file": self.file, "page": self.page, "error": self.error}] if self.error else []


def page_stem(file: str, page: int) -> str:
    """A flat, filesystem-safe name for one page of one input, used for overlays and crops."""
    flat = file.replace("\\", "/").strip("/").replace("/", "__")
    return f"{flat}__p{page}"


def overlay_name(file: str, page: int) -> str:
    return f"overlays/{page_stem(file, page)}.jpg"  # pipeline.overlay.encode_overlay


def crop_name(file: str, page: int, string_id: int, index: int) -> str:
    return f"flagged/{page_stem(file, page)}_s{string_id}_i{index}.png"
