"""Recognition of separator marks inside a digit string: '.', ',', '-', '/'.

Each mark is judged against its string's line: height ``H`` (median digit height), ``top`` and
``base`` (median top and bottom edges of the digits, px):

* '.'  small roundish blob whose centre is in the bottom third of the line or below it (or a
  flat cap on the baseline: a dot that sat on a ruled line lost its lower part with the line);
* ','  small blob clearly taller than wide at the baseline (and a quarter of ``H`` tall: a thin
  sliver of a dot is a '.'), or elongated down-left (a tail) with a quarter of it below the
  baseline, up to 0.45 ``H`` across (bigger than any full stop);
* '-'  short horizontal bar around mid-height;
* '/'  thin straight stroke about as tall as the digits, leaning right by 30 degrees or more,
  and 15 more than the writer's slant; a '/' taller than the digits may lean less (18
  degrees: a printed '/' leans 23). About one written '1' in ten leans that much, so leaning
  strokes are read as '/' only where they make the string a date (d/m, m/yyyy, d/m/yy,
  d/m/yyyy, yyyy/m/d; also d/m/yyy, a year that lost a digit to two digits written over each
  other, which ``layout.split_to_shape`` may restore) in a string with no other separator, or
  whose '.' and ',' marks form no number's shape (:mod:`.patterns`: they are specks, dropped);
  otherwise they stay digits. (The page reader turns a '/' back into a digit where the date read
  is impossible.) Strokes that would make a date if they needed SLASH_DOUBT degrees less over the
  writer's slant stay digits, marked ``doubtful``: a writer whose '0's lean far makes the slant
  look steeper than it is.

Separators first or last in a string are noise (a speck before a field, a full stop after an
amount) and are dropped, as are small marks that match no separator: too small to be a digit.
Two separators in a row never occur in a date, amount or phone number: one of them is a speck or
a broken piece of a digit, so only the larger is kept and the digits beside it are marked
``doubtful`` (the dropped piece may have belonged to one of them).
A '.' or ',' among dashes in a shape no number has ('353-014-71.69') is a speck too.
"""
from __future__ import annotations

import math
from itertools import combinations

import cv2
import numpy as np

from .geometry import median
from .marks import Component
from .patterns import plausible

DOT_SIZE = 0.35       # longer side / H at most, full stop
CUT_DOT_ASPECT = 4.0  # width / height at most of a full stop cut flat by the ruled line it sat on ...
CUT_DOT_REACH = 0.05  # ... its bottom within this x H of the baseline (or below it)
COMMA_SIZE = 0.45     # longer side / H at most, a squat comma (too big for a full stop)
COMMA_MIN_HEIGHT = 0.25  # height / H at least, a dot-sized comma taller than wide (a thinner
#                          sliver of a dot, cut by the ruled line it sat on, is a full stop)
COMMA_HEIGHT = 0.6    # height / H at most, comma
COMMA_ELONGATION = 1.5  # major / minor axis at least for a squat comma (a dot is ~1; one of a
#                        few pixels can measure 1.4 whichever way its pixels fall)
COMMA_MIN_LEAN = -10.0  # degrees (positive like '/') more than which a squat comma's tail leans
DASH_HEIGHT = 0.3     # height / H at most, dash
SLASH_LEAN = 30.0     # degrees from vertical at least, '/' (~9% of written '1's lean more)
SLASH_LEAN_TALL = 18.0  # ... for a '/' at least SLASH_TALL x H tall (a printed '/' leans 23)
SLASH_TALL = 1.15
SLASH_OVER_SLANT = 15.0  # degrees more than the writer's slant (median of the other digits)
SLASH_DOUBT = 10.0    # degrees less over the slant for a stroke that would make a date to be a doubtful digit
SLASH_ELONGATION = 3.5  # major / minor axis (std devs) at least: a single straight stroke
NOISE_SIZE = 0.35     # longer side / H below which an unrecognised small mark is noise
MAX_SLASH_CANDIDATES = 8


def lean(mask: np.ndarray) -> tuple[float, float]:
    """Lean (degrees from vertical, positive = top to the right, like '/') of the ink's major
    axis, and its elongation (ratio of the axes' standard deviations; inf for a line)."""
    m = cv2.moments(mask.view(np.uint8), binaryImage=True)
    if m["m00"] < 3:
        return 0.0, 0.0
    a, b, c = m["mu20"] / m["m00"], m["mu11"] / m["m00"], m["mu02"] / m["m00"]
    # Eigen-decomposition of the 2x2 covariance [[a, b], [b, c]] (x right, y down).
    root = math.sqrt(((a - c) / 2) ** 2 + b * b)
    major, minor = (a + c) / 2 + root, (a + c) / 2 - root
    theta = 0.5 * math.atan2(2 * b, a - c)  # major axis angle from the x axis, y down
    # Lean from vertical: an axis going up-right (dx > 0, dy < 0 in image terms) is positive.
    angle = 90.0 - abs(math.degrees(theta))
    angle = angle if theta < 0 else -angle
    elongation = math.sqrt(major / minor) if minor > 1e-9 else math.inf
    return angle, elongation


def classify(comp: Component, height: float, top: float, base: float) -> str | None:
    """The small separator ('.', ',' or '-') a mark is, against its line (px), or None."""
    x, y, w, h = comp.box.x, comp.box.y, comp.box.w, comp.box.h
    span = max(1.0, base - top)
    cy = (y + h / 2 - top) / span   # 0 at the top of the line, 1 at the baseline
    rel_top = (y - top) / span
    bottom = y + h
    if h <= DASH_HEIGHT * height and w >= 1.5 * h and 0.15 * height <= w <= 1.3 * height \
            and 0.25 <= cy <= 0.8:
        return "-"
    # A dot that sat on a ruled line lost its lower part with the line: a flat cap on the baseline.
    flat = CUT_DOT_ASPECT if bottom >= base - CUT_DOT_REACH * height else 2.5
    if max(w, h) <= DOT_SIZE * height and 0.4 <= w / max(1, h) <= flat and cy >= 0.65 \
            and rel_top >= 0.5:
        # A comma has a tail: clearly taller than wide, or elongated and hanging below the
        # baseline. A full stop is round and sits on it (baselines wander by a few px).
        tall = h >= 1.5 * w and h >= COMMA_MIN_HEIGHT * height
        return "," if tall or _comma_tail(comp, base) else "."
    if h <= COMMA_HEIGHT * height and w <= 0.4 * height and h >= 1.2 * w and rel_top >= 0.45 \
            and bottom >= base - 0.1 * height:
        return ","
    if max(w, h) <= COMMA_SIZE * height and cy >= 0.65 and rel_top >= 0.45 and _comma_tail(comp, base):
        return ","  # a squat comma, too big for a full stop
    return None


def _comma_tail(comp: Component, base: float) -> bool:
    """Whether a small mark at the baseline has a comma's tail: about as tall as wide or taller,
    hanging a quarter of its height below the baseline, and drawn out down and to the left like
    the foot of a '/' (a dot drawn out the other way, by a pen drag or a speck of the ruled line
    under it, is still a full stop)."""
    w, h = comp.box.w, comp.box.h
    if h < 0.9 * w or (comp.box.y + h - base) / h < 0.25:
        return False
    angle, elongation = lean(comp.mask)
    return elongation >= COMMA_ELONGATION and angle > COMMA_MIN_LEAN


def could_be_slash(comp: Component, height: float) -> bool:
    """Cheap pre-test: digit-tall, box 0.2-1x as wide as tall, sparse (a thin diagonal)."""
    w, h = comp.box.w, comp.box.h
    return h >= 0.8 * height and 0.2 * h <= w <= h and comp.area <= 0.4 * w * h


def slash_margin(comp: Component, height: float, writer: float) -> float:
    """Degrees by which a digit-tall mark leans past what a '/' needs (<= 0: no '/'), given
    its line height (px) and the writer's slant (degrees)."""
    if not could_be_slash(comp, height):
        return 0.0
    angle, elongation = lean(comp.mask)
    if elongation < SLASH_ELONGATION:
        return 0.0
    need = SLASH_LEAN_TALL if comp.box.h >= SLASH_TALL * height else SLASH_LEAN
    return angle - max(need, writer + SLASH_OVER_SLANT)


def slant(mask: np.ndarray) -> float:
    """Writing slant (degrees, positive leaning right) of a digit: the shear of its ink."""
    m = cv2.moments(mask.view(np.uint8), binaryImage=True)
    return math.degrees(math.atan2(-m["mu11"], m["mu02"])) if m["mu02"] > 0 else 0.0


def date_like(groups: list[int], short_year: bool = False) -> bool:
    """Whether digit groups split by '/' read as a date or a short fraction: d/m, m/yy, m/yyyy,
    d/m/yy, d/m/yyyy or yyyy/m/d (group sizes in digits); with ``short_year`` also d/m/yyy, a
    year one digit short (two of its digits run together and read as one)."""
    if len(groups) == 2:
        return 1 <= groups[0] <= 2 and groups[1] in (1, 2, 4)
    if len(groups) == 3:
        years = (2, 3, 4) if short_year else (2, 4)
        return (1 <= groups[0] <= 2 and 1 <= groups[1] <= 2 and groups[2] in years) or \
            (groups[0] == 4 and 1 <= groups[1] <= 2 and 1 <= groups[2] <= 2)
    return False


def choose_slashes(margins: list[float]) -> set[int]:
    """Positions (in a string of digit-like marks) to read as '/': the subset of the leaning
    marks (margin > 0) that makes the string date-like, with the largest total margin; none
    when no subset does. A '1' leaning like a '/' is common, a '/' outside a date is not. Only
    when no subset gives a whole date is one with a year a digit short taken ('17/01/023':
    ``layout.split_to_shape`` may restore the digit); '13/11/98' never becomes '13/1/198'."""
    cands = sorted((k for k, m in enumerate(margins) if m > 0), key=lambda k: -margins[k])
    cands = sorted(cands[:MAX_SLASH_CANDIDATES])
    for short_year in (False, True):
        best, best_score = set(), 0.0
        for r in (1, 2):
            for subset in combinations(cands, r):
                cuts = [-1, *subset, len(margins)]
                groups = [b - a - 1 for a, b in zip(cuts[:-1], cuts[1:])]
                score = sum(margins[k] for k in subset)
                if date_like(groups, short_year) and score > best_score:
                    best, best_score = set(subset), score
        if best:
            return best
    return set()


def collapse_runs(string: list[Component]) -> list[Component]:
    """The string with each run of consecutive separators reduced to its largest mark (by
    ink); where such a run lies between two digits, both are marked doubtful. (A run at either
    end is end noise, dropped anyway.)"""
    out: list[Component] = []
    collapsed = False
    for comp in string:
        if comp.separator is not None and out and out[-1].separator is not None:
            if comp.area > out[-1].area:
                out[-1] = comp
            collapsed = True
            continue
        if collapsed and len(out) >= 2:
            comp.doubtful = out[-2].doubtful = True
        collapsed = False
        out.append(comp)
    return out


def label_separators(string: list[Component], marks: set[int], height: float, top: float,
                     base: float) -> list[Component]:
    """The string (in reading order) with separators labelled, unrecognised small marks and
    separators at either end removed. ``marks`` are the positions of the small marks (not
    digit-sized) in ``string``: only they can be '.', ',' or '-'; only the others '/'."""
    out = []
    for k, comp in enumerate(string):
        comp.separator = classify(comp, height, top, base) if k in marks else None
        if k in marks and comp.separator is None and (
                max(comp.box.w, comp.box.h) < NOISE_SIZE * height or comp.box.w >= 2.5 * comp.box.h):
            continue  # a speck or a bit of line, too small to be a digit
        out.append(comp)
    out = collapse_runs(out)
    for end in (0, -1):
        while out and out[end].separator is not None:
            out.pop(end)
    return read_slashes(drop_stray_points(out), height)


def shape(string: list[Component]) -> str:
    """The string's shape for :func:`.patterns.plausible`: separators as themselves, every other
    mark as '?' (a digit not read yet: a '0' would make every amount look zero-led)."""
    return "".join(c.separator or "?" for c in string)


def drop_stray_points(string: list[Component]) -> list[Component]:
    """The string without its '.' and ',' marks where they sit among dashes in a way no
    number is written ('353-014-71.69'): those are specks."""
    kinds = {c.separator for c in string} - {None}
    if "-" not in kinds or not kinds & {".", ","} or plausible(shape(string)):
        return string
    rest = [c for c in string if c.separator not in (".", ",")]
    return rest if plausible(shape(rest)) else string


def read_slashes(string: list[Component], height: float) -> list[Component]:
    """The string with leaning strokes read as '/' where that makes it a date (see
    :func:`choose_slashes`). Only strings with no separator, or with '.' and ',' marks in a
    shape no number has ('1910.8165': a speck in '19/08/65'), are considered; in the latter
    the points are taken for specks and dropped when the slashes are chosen."""
    kinds = {c.separator for c in string} - {None}
    if not string or kinds - {".", ","} or (kinds and plausible(shape(string))):
        return string
    rest = [c for c in string if c.separator is None]
    bodies = [c for c in rest if could_be_slash(c, height)]
    if not bodies:
        return string
    others = [slant(c.mask) for c in rest if not could_be_slash(c, height)]
    writer = median(others) if len(others) >= 2 else 0.0
    chosen = choose_slashes([slash_margin(c, height, writer) for c in rest])
    if not chosen:
        # Strokes that lean nearly enough for a '/' and would make a date: read as digits, but
        # doubtful ('09/10/91' by a writer whose slanted '0's make the slant look steep).
        near = choose_slashes([slash_margin(c, height, writer - SLASH_DOUBT) for c in rest])
        for k in near:
            rest[k].doubtful = True
        return string
    for k in chosen:
        rest[k].separator = "/"
    return rest
