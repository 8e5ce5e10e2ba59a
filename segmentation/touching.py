"""Splitting digits that touch into one component.

A digit-sized component wider than WIDE x its height (or TWO_WIDE expected digit widths of its
string) gets candidate cuts: valleys of its vertical ink projection, dips of its upper contour
and rises of its lower contour (the concavities where two digits meet). Each candidate position
gives a straight vertical cut and a minimum-ink cut path (dynamic programming, one column step
per row, so it follows slanted joins the way a drop-fall path does). Candidate segmentations
into 2 or 3 parts, and the component left whole, are normalised and scored (two batches per
page: the wholes, then the parts of the components a split could still win). Each option is
worth the sum of its parts' log top-digit probabilities, plus a prior on the number of digits
given the width (SLOPE per expected digit width, even at EVEN_AT; for a narrow component read
whole as no digit, a '1' in a split's reading counts as ONE_WIDTH of a digit), minus
CROSS_COST per extra stroke a cut passes through and SHAPE_COST per part whose digit does not
fit its shape (a '1' spread out like two digits, a sliver read as an '8'). The best option
wins; when the winner leads an option that reads other digits (the whole versus a split, or
another cut) by less than DOUBT_MARGIN, its components are marked ``doubtful``. Without a
scorer, components at least TWO_NO_SCORE expected digit widths wide are cut at the deepest
valleys near the even positions.

With a pair reader (``pairs``), a component cut in two is also read whole: digits that overlap
lose strokes to any cut ('54' cut into '5' and a '1'-like remnant of the '4'), the pair reader
sees both whole, and each part's final probabilities blend the two readings (:func:`blend_pair`).
Where another cut in two came within AGREE_MARGIN and its parts read exactly the two digits the
pair reader is sure of, that cut is taken instead (:func:`_recut`); so is one within DOUBT_MARGIN
whose digits the pair reader reads without being sure of both (in doubt).
A component read whole as no digit that no cut beat is cut in two when the pair reader is sure
of both its digits (PAIR_SURE); such a component is cut even where its top digit alone would
have kept it whole, only when the pair reader is as sure of both. The pair reader's third head
(two digits or one) settles close calls: a narrow mark read whole as a digit, but not surely, is
cut in two when the head is sure it holds two ('71' written as tight as one digit, TIGHT_SURE),
and a close call between one digit and two is no longer doubtful when the head is sure either
way (TWO_SURE, ONE_SURE), and a close cut in two is undone when the whole reads one digit and
the head finds one digit far likelier (UNDO_ONE), or is not sure of two and the pair reader reads
other digits than the cut's parts (a '4' with a long bar, two digits wide, cut '11').
A part of a cut in two read as no digit, beside one read as a digit, is cut again where the pair
reader and the classifier read the same two digits in it ('391' cut '3' | '91', too narrow for
three parts to be tried).

A cut is an int array ``c`` of one column per row of the component's mask: pixel (y, x) lies
left of the cut when ``x < c[y]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import cv2
import numpy as np

from pipeline.results import Box

from .geometry import median
from .marks import Component
from .normalize import batch_to_mnist, batch_to_pair

WIDE = 0.9           # width / height from which a component may hold two digits (scored)
TWO_WIDE = 1.3       # ... or width / expected digit width (scored)
PAIR_ASPECT = 0.5    # width / height from which a component read whole as no digit is cut too
TIGHT_ASPECT = 0.4   # the same with a pair reader, which may find two digits written tight in one read as a digit
TWO_NO_SCORE = 1.9   # width / expected digit width from which it is cut without a scorer
THREE = 2.3          # width / expected digit width from which three parts are tried too
THREE_NO_SCORE = 3.2
DIGIT_ASPECT = 0.65  # typical handwritten digit width / height
MAX_ASPECT = 4.5     # wider than this it is no run of digits worth cutting (signature, line)
MAX_CANDIDATES = 6   # cut positions kept per component
MAX_CROSSINGS = 3    # strokes a cut may pass through (two digits touch at one or two places)
THREE_PATHS = 5      # best cut paths combined into three-part splittings
MIN_PART_HEIGHT = 0.4  # part height / component height: every digit spans most of the line
MIN_PART_INK = 0.08    # part ink / component ink
SLANT_COST = 0.05      # DP cost of a sideways step, in ink pixels
DRIFT_COST = 0.02      # DP cost per column away from the candidate position, in ink pixels
SLOPE = 2.6          # prior log-odds of one more digit per expected digit width
EVEN_AT = 1.8        # expected digit widths where one and two digits are even a priori
CROSS_COST = 1.0     # log-probability handicap per extra stroke a cut passes through
ONE_SPREAD = 0.15    # a '1' spreading more than this (x std / height, deslanted) is not one
OTHER_SPREAD = 0.07  # other digits spreading less than this are slivers
SHAPE_COST = 3.0     # log-probability handicap of a digit that does not fit its crop
DOUBT_MARGIN = 0.5   # log-probability lead over any option reading other digits below which it is doubtful
ONE_WIDTH = 0.5      # a written '1' is about half as wide as other digits (split readings of narrow pairs)
PAIR_SURE = 0.9      # pair reader's confidence (both sides) that cuts a component read whole as no digit
NARROW_SURE = 0.99   # a narrow mark read whole as a digit at least this surely is not asked whether it is two
PAIR_WIDTH = 2.0     # expected digit widths (by the class read) up to which a wide mark no cut could beat is asked too
TIGHT_SURE = 0.99    # the pair reader's two-digit head's probability that cuts such a mark in two
TWO_SURE = 0.95      # ... that settles a close call between one digit and two for two (ONE_SURE: for one)
ONE_SURE = 0.05
UNDO_ONE = 0.3       # ... at most which a close cut in two of a mark read whole as a digit is undone
REPAIR_SURE = 0.95   # confidence of a repair (a join's top digit, a pair's both digits) that leaves no doubt
AGREE_MARGIN = 3.0   # log-probability by which a cut in two reading the pair reader's sure digits may trail the best cut
# How much wider than a typical digit each class is written (median width/height of MNIST training
# digits per class over 0.8, the median of the classes other than '1'): a '0', '2' or '5' as wide as
# one and a half digits is still one digit. Narrower classes ('6', '9': 0.875) and the '1' (judged
# by its shape rule, ONE_SPREAD) stay at 1.0: a narrow reading must not make a cut more likely.
CLASS_WIDTH = (1.125, 1.0, 1.19, 1.0, 1.0, 1.19, 1.0, 1.0, 1.0, 1.0)

Scorer = Callable[[np.ndarray], np.ndarray]
# (N, 28, 56) pair crops -> ((N, 2, 10) probabilities of the left and right digit, (N,) probability
# that the crop holds two digits rather than one).
PairScorer = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
PairReading = tuple[np.ndarray, float]  # one component's (2, 10) digit probabilities, two-digit probability


def _local_minima(values: np.ndarray) -> np.ndarray:
    """Indices of local minima, plateaus included (a flat valley reports its middle)."""
    v = np.asarray(values, np.float64)
    if len(v) < 3:
        return np.zeros(0, np.int64)
    # Collapse runs of equal values, find strict minima among the runs, map back to run middles.
    starts = np.flatnonzero(np.diff(v, prepend=np.nan) != 0)
    ends = np.append(starts[1:], len(v)) - 1
    r = v[starts]
    inner = np.flatnonzero((r[1:-1] < r[:-2]) & (r[1:-1] < r[2:])) + 1
    return (starts[inner] + ends[inner]) // 2


def profiles(mask: np.ndarray, smooth: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical projection (ink px per column, smoothed over ``smooth`` columns), upper contour
    (first ink row per column, h where empty) and lower contour (last ink row, -1 where empty)."""
    h, w = mask.shape
    proj = mask.sum(axis=0).astype(np.float64)
    if smooth > 1:
        proj = np.convolve(proj, np.ones(smooth) / smooth, mode="same")
    has = mask.any(axis=0)
    top = np.where(has, mask.argmax(axis=0), h)
    bottom = np.where(has, h - 1 - mask[::-1].argmax(axis=0), -1)
    return proj, top, bottom


def candidate_columns(mask: np.ndarray, parts: int, stroke: float) -> list[int]:
    """Up to MAX_CANDIDATES columns where a cut may separate touching digits, best first
    (least ink crossed), from projection valleys and contour concavities, plus the evenly
    spaced positions for ``parts`` parts as a fallback."""
    h, w = mask.shape
    proj, top, bottom = profiles(mask, max(1, int(round(stroke))))
    lo, hi = max(1, int(0.12 * h), int(0.1 * w)), min(w - 1, w - max(1, int(0.12 * h), int(0.1 * w)))
    if hi <= lo:
        return []
    found = set(_local_minima(proj).tolist())
    found |= set(_local_minima(-top.astype(np.float64)).tolist())
    found |= set(_local_minima(bottom.astype(np.float64)).tolist())
    found |= {int(round(w * i / parts)) for i in range(1, parts)}
    cols = sorted(c for c in found if lo <= c < hi)
    # Near-duplicates (within a pen width) keep the one crossing least ink.
    cols.sort(key=lambda c: (proj[c], c))
    kept: list[int] = []
    for c in cols:
        if all(abs(c - k) > max(1.0, stroke) for k in kept):
            kept.append(c)
    return kept[:MAX_CANDIDATES]


def min_ink_path(mask: np.ndarray, x0: int, reach: int) -> np.ndarray:
    """Cut through ``mask`` from top to bottom crossing the least ink, moving at most one column
    per row, staying within ``reach`` columns of ``x0`` (small costs for slant and drift)."""
    h, w = mask.shape
    lo, hi = max(1, x0 - reach), min(w - 1, x0 + reach)
    cols = np.arange(lo, hi + 1)
    ink = mask[:, lo:hi + 1].astype(np.float64) + DRIFT_COST * np.abs(cols - x0)[None]
    n = len(cols)
    acc = np.empty((h, n))
    acc[0] = ink[0]
    pad = np.full(n + 2, np.inf)
    for y in range(1, h):
        pad[1:-1] = acc[y - 1]
        acc[y] = np.minimum(np.minimum(pad[:-2], pad[2:]) + SLANT_COST, pad[1:-1]) + ink[y]
    path = np.empty(h, np.int64)
    k = int(acc[-1].argmin())
    path[-1] = k
    for y in range(h - 1, 0, -1):
        prev = acc[y - 1]
        best, step = prev[k], 0
        if k > 0 and prev[k - 1] + SLANT_COST < best:
            best, step = prev[k - 1] + SLANT_COST, -1
        if k < n - 1 and prev[k + 1] + SLANT_COST < best:
            step = 1
        k += step
        path[y - 1] = k
    return path + lo


def cut_parts(mask: np.ndarray, cuts: list[np.ndarray]) -> list[np.ndarray]:
    """The mask split along sorted, non-crossing cuts into len(cuts) + 1 full-size masks."""
    xs = np.arange(mask.shape[1])[None]
    left_of = [xs < cut[:, None] for cut in cuts]  # one comparison per cut, not two per part
    parts, rest = [], mask
    for side in left_of:
        parts.append(rest & side)
        rest = rest & ~side
    return parts + [rest]


def _plausible(parts: list[np.ndarray], total: int) -> bool:
    for p in parts:
        rows = np.flatnonzero(p.any(axis=1))
        if len(rows) == 0 or rows[-1] - rows[0] + 1 < MIN_PART_HEIGHT * p.shape[0]:
            return False
        if p.sum() < MIN_PART_INK * total:
            return False
    return True


def cuts_at(mask: np.ndarray, x0: int) -> tuple[np.ndarray, np.ndarray]:
    """The two cuts tried at column ``x0``: straight down, and the minimum-ink path from it
    (within a quarter of the mask's height either side)."""
    h = mask.shape[0]
    return np.full(h, x0, np.int64), min_ink_path(mask, x0, max(2, int(0.25 * h)))


def segmentations(mask: np.ndarray, stroke: float, with_three: bool) -> list[list[np.ndarray]]:
    """Candidate splittings of ``mask`` into 2 (and 3) plausible parts, each a list of cuts.
    Cuts through more than MAX_CROSSINGS strokes are not tried; three-part splittings combine
    the minimum-ink paths of the THREE_PATHS best positions (the count of crops to score grows
    with the square of the paths)."""
    h, w = mask.shape
    total = int(mask.sum())
    out: list[list[np.ndarray]] = []
    seen: set[bytes] = set()
    paths = []
    for x0 in candidate_columns(mask, 3 if with_three else 2, stroke):
        straight, path = cuts_at(mask, x0)
        paths.append(path)
        for cut in (straight, path):
            key = cut.tobytes()
            if key in seen or strokes_crossed(mask, cut) > MAX_CROSSINGS:
                continue
            seen.add(key)
            if _plausible(cut_parts(mask, [cut]), total):
                out.append([cut])
    if with_three:
        for a, b in combinations(paths[:THREE_PATHS], 2):
            first, second = (a, b) if a.mean() <= b.mean() else (b, a)
            second = np.maximum(second, first)  # cuts must not cross
            if (second - first).mean() < 0.2 * h:
                continue
            if _plausible(cut_parts(mask, [first, second]), total):
                out.append([first, second])
    return out


def valley_cuts(mask: np.ndarray, parts: int, stroke: float) -> list[np.ndarray] | None:
    """Scorer-free choice: for each of the ``parts - 1`` evenly spaced positions the candidate
    cut crossing least ink within a third of a part's width, as a minimum-ink path."""
    h, w = mask.shape
    proj, _, _ = profiles(mask, max(1, int(round(stroke))))
    cols = candidate_columns(mask, parts, stroke)
    cuts = []
    for i in range(1, parts):
        want = w * i / parts
        near = [c for c in cols if abs(c - want) <= w / (3 * parts)]
        if not near:
            return None
        x0 = min(near, key=lambda c: (proj[c], abs(c - want)))
        cuts.append(min_ink_path(mask, x0, max(2, int(0.15 * h))))
    for k in range(1, len(cuts)):
        cuts[k] = np.maximum(cuts[k], cuts[k - 1])
    parts_ = cut_parts(mask, cuts)
    return cuts if _plausible(parts_, int(mask.sum())) else None


def spread(mask: np.ndarray) -> float:
    """Sideways spread of the ink once its slant is taken out, relative to its height: the std
    of x about the best line x(y). A '1' is a single stroke (MNIST: median 0.05, 99th
    percentile 0.14); every other digit spreads more (1st percentiles 0.09-0.14)."""
    m = cv2.moments(mask.view(np.uint8), binaryImage=True)
    if m["m00"] == 0 or m["mu02"] <= 0:
        return 0.0
    mu20, mu11, mu02 = m["mu20"] / m["m00"], m["mu11"] / m["m00"], m["mu02"] / m["m00"]
    rows = np.flatnonzero(mask.any(axis=1))
    return float(np.sqrt(max(mu20 - mu11 * mu11 / mu02, 0.0)) / (rows[-1] - rows[0] + 1))


def shape_penalty(label: int, mask: np.ndarray) -> float:
    """Log-probability handicap when the classifier's digit does not fit the crop's shape: a
    '1' far too spread out (typically two touching digits read as one '1'), or any other
    digit as thin as a single stroke (a sliver cut off a neighbour)."""
    s = spread(mask)
    if (label == 1 and s > ONE_SPREAD) or (label != 1 and s < OTHER_SPREAD):
        return SHAPE_COST
    return 0.0


def strokes_crossed(mask: np.ndarray, cut: np.ndarray) -> int:
    """How many separate runs of ink the cut passes through (pixels just right of it)."""
    h, w = mask.shape
    on = mask[np.arange(h), np.clip(cut, 0, w - 1)].astype(np.int8)
    return int(np.count_nonzero(np.diff(on, prepend=0) == 1))


def crossing_cost(mask: np.ndarray, cuts: list[np.ndarray]) -> float:
    """CROSS_COST for every stroke beyond the first that each of ``cuts`` passes through (two
    digits touch at one place; a cut through more strokes cuts a digit)."""
    return CROSS_COST * sum(max(0, strokes_crossed(mask, cut) - 1) for cut in cuts)


def crop_part(mask: np.ndarray, box: Box) -> Component | None:
    """A full-size part mask of a component cropped to its ink, as a Component in page pixels."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return Component(Box(box.x + int(x0), box.y + int(y0), int(x1 - x0), int(y1 - y0)),
                     mask[y0:y1, x0:x1].copy())


def tight_mask(mask: np.ndarray) -> np.ndarray:
    """``mask`` cropped to its ink (unchanged when it has none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] if len(rows) else mask


@dataclass
class _Job:
    component: Component
    options: list[list[np.ndarray]]  # the segmentations tried (cuts), whole first as []
    start: int                       # index of its first part in the batch of parts
    counts: list[int]                # parts per split option (the whole is scored apart)
    digits: float                    # width in expected widths of the digit the whole reads as

    def first_part(self, option: int) -> int:
        """Index in the batch of parts of the first part of ``option`` (1: the first split)."""
        return self.start + sum(self.counts[:option - 1])

    def pieces(self, option: int) -> list[Component | None]:
        """The component cut by ``option``'s cuts, each part as a Component (None: no ink)."""
        comp = self.component
        return [crop_part(p, comp.box) for p in cut_parts(comp.mask, self.options[option])]


def prior(parts: int, digits: float) -> float:
    """Log prior of ``parts`` digits in a component about ``digits`` digit-widths wide, relative
    to one digit: rising SLOPE per digit-width, even at EVEN_AT (two vs one), EVEN_AT + 1 ..."""
    return SLOPE * sum(digits - (k - 2) - EVEN_AT for k in range(2, parts + 1))


def split_width(digits: float, reading: tuple[int, ...]) -> float:
    """The width ``digits`` (in expected digit widths) of a component as the prior of a split
    reading ``reading`` sees it: a '1' takes ONE_WIDTH of a digit's width."""
    return digits * len(reading) / sum(ONE_WIDTH if k == 1 else 1.0 for k in reading)


def digit_width(string: list[Component], height: float) -> float:
    """Expected width (px) of one digit in a string: the median width of its ordinary digits
    (neither '1'-thin nor wide), blended half and half with DIGIT_ASPECT x height (few digits
    make a noisy median); DIGIT_ASPECT x height alone when fewer than two such digits."""
    generic = DIGIT_ASPECT * height
    widths = [c.box.w for c in string
              if c.box.h >= 0.6 * height and 0.35 <= c.box.w / max(1, c.box.h) < WIDE]
    return 0.5 * (median(widths) + generic) if len(widths) >= 2 else generic


def is_wide(component: Component, line_height: float, width: float, scored: bool) -> bool:
    """Whether a digit-sized component may hold touching digits: wider than WIDE x its height,
    or than TWO_WIDE expected digit widths (``width``, px), but not absurdly wide."""
    w, h = component.box.w, component.box.h
    aspect = w / max(1, h)
    if h < 0.6 * line_height or aspect > MAX_ASPECT:
        return False
    if not scored:
        return w >= TWO_NO_SCORE * width
    return aspect >= WIDE or w >= TWO_WIDE * width


def beyond_splits(whole_value: float, digits: float, with_three: bool) -> bool:
    """Whether a whole reading's value (log probability, shape penalty included) leads the
    prior of every split of a mark ``digits`` expected digit widths wide by DOUBT_MARGIN: no
    split can win, nor come close, so its cuts need not be made or scored."""
    return whole_value >= max(prior(n, digits) for n in ((2, 3) if with_three else (2,))) + DOUBT_MARGIN


def maybe_pair(component: Component, line_height: float, aspect: float = PAIR_ASPECT) -> bool:
    """Whether a digit-sized component not wide enough for :func:`is_wide` may still be two
    touching digits, one of them a thin '1' ('01', '61', '11'): at least ``aspect`` times as
    wide as tall. It is cut only when the classifier reads it whole as no digit, or (with a pair
    reader) the pair reader is sure it holds two."""
    w, h = component.box.w, component.box.h
    return h >= 0.6 * line_height and w >= aspect * h


def score_crops(score: Scorer, crops: list[np.ndarray]) -> np.ndarray:
    """``score(batch_to_mnist(crops))``, each distinct crop normalised and scored once: about a
    quarter of the parts a page's candidate cuts give are repeats (the same part cut off by
    different candidate cuts; measured on 8 benchmark pages)."""
    if not crops:
        return np.zeros((0, 11), np.float32)
    first: dict[tuple, int] = {}
    where = np.array([first.setdefault((c.shape, c.dtype.str, c.tobytes()), len(first)) for c in crops])
    unique = [crops[k] for k in np.unique(where, return_index=True)[1]]
    return np.asarray(score(batch_to_mnist(unique)))[where]


def digit_values(probs: np.ndarray, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the classifier's probabilities for ``crops``: each crop's log top-digit
    probability, less its shape penalty; whether it is read as no digit at all (the last
    class, '?', on top); and its top digit."""
    probs = np.asarray(probs, np.float64)
    unread = probs.argmax(axis=1) == probs.shape[1] - 1 if probs.shape[1] > 10 else np.zeros(len(probs), bool)
    digits = probs[:, :10]
    labels = digits.argmax(axis=1)
    values = np.log(np.clip(digits.max(axis=1), 1e-6, 1.0))
    return values - [shape_penalty(int(k), crop) for k, crop in zip(labels, crops)], unread, labels


def _rivals(values: list[float], readings: list[tuple[int, ...]], choice: int) -> list[int]:
    """The options that the chosen one (0: whole) beat by less than DOUBT_MARGIN while reading
    other digits: the whole versus a split, or another cut ('6' '5' instead of '0' '5'). Cuts
    reading the same digits are no rivals: they differ only in a few pixels."""
    return [o for o, value in enumerate(values)
            if o != choice and readings[o] != readings[choice] and values[choice] - value < DOUBT_MARGIN]


def blend_pair(single: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """A cut part's final probabilities: half the classifier's on the part (``single``, the ten
    digits then '?') and half the pair reader's for that side (``pair``, ten digits) scaled to
    the part's digit share, so '?' keeps the classifier's probability: the pair reader, taught
    only digits, cannot tell that printed text cut in two is none. Averaging rather than
    multiplying keeps a disagreement visible as a low confidence (a flag) instead of letting
    one confident reader overrule the other."""
    single = np.asarray(single, np.float64)
    unread = single[10:].sum()
    return ((single + np.concatenate([np.asarray(pair, np.float64) * (1.0 - unread), single[10:]])) / 2
            ).astype(np.float32)


def both_sides(sides: np.ndarray) -> float:
    """How sure the pair reader is of both digits of a mark: the product of each side's top
    probability (``sides``: its (2, 10) digit probabilities)."""
    return float(np.asarray(sides).max(axis=1).prod())


def take_pair_reading(parts: list[Component], sides: np.ndarray) -> None:
    """Give the two ``parts`` of a mark cut where the pair reader read two digits its readings
    (``sides``, (2, 10)) as their scores, ten digits then '?' at 0 (blurred strokes of overlapping
    digits leave no cut that keeps both whole, so the parts alone would be misread), in doubt
    unless it is sure of both at REPAIR_SURE."""
    doubtful = both_sides(sides) < REPAIR_SURE
    for part, side in zip(parts, sides):
        part.scores = np.append(side, 0.0).astype(np.float32)
        part.doubtful = doubtful


def _sure_of_both(reading: PairReading) -> bool:
    """Whether the pair reader is sure of both digits of a mark, together at least PAIR_SURE."""
    return both_sides(reading[0]) >= PAIR_SURE


def _read_pairs(components: list[Component], pairs: PairScorer, known: dict[int, PairReading]) -> None:
    """Read ``components`` not yet in ``known`` (by ``id``) with the pair reader, in one call."""
    todo = [c for c in {id(c): c for c in components}.values() if id(c) not in known]
    if todo:
        digits, two = pairs(batch_to_pair([c.mask for c in todo]))
        for c, sides, p in zip(todo, np.asarray(digits), np.asarray(two, np.float64)):
            known[id(c)] = (sides, float(p))


@dataclass
class _Doubt:
    """A close call (``rivals``: the options that nearly beat the ``choice``; 0 is the whole)
    and the chosen reading's marks; the pair reader may settle it (:meth:`settled`)."""

    component: Component
    choice: int
    rivals: list[int]
    pieces: list[Component]
    probs: np.ndarray | None = None  # the classifier's on a chosen cut in two's parts
    key: tuple[int, int] = (-1, -1)  # (string, component) of the choice in ``decided``
    whole_digit: bool = False        # the whole was read as a digit (not as no digit)

    def settled(self, reading: PairReading) -> bool:
        """Whether the pair reader settles it: sure of one digit where the whole was chosen,
        or, for a cut in two, sure of two digits (if the whole came close) and reading the
        digits its parts read (if another cut came close)."""
        sides, two = reading
        if self.choice == 0:
            return two <= ONE_SURE
        if len(self.pieces) != 2 or self.probs is None:
            return False  # a reader of pairs cannot settle a cut into three
        whole = 0 not in self.rivals or two >= TWO_SURE
        cuts = all(r == 0 for r in self.rivals) or self._parts_read_as(sides)
        return whole and cuts

    def undone(self, reading: PairReading) -> bool:
        """Whether the pair reader undoes a cut in two the whole came close to, the whole reading
        one digit: it finds one digit far likelier than two (UNDO_ONE), or it is not sure of two
        (TWO_SURE) and reads other digits than the cut's parts do (a '4' with a long bar, two
        digits wide, cut '11' and read '41' by the pair reader: neither reader backs the cut)."""
        if self.choice == 0 or len(self.pieces) != 2 or 0 not in self.rivals or not self.whole_digit:
            return False
        sides, two = reading
        other = self.probs is not None and not self._parts_read_as(sides)
        return two <= UNDO_ONE or (two < TWO_SURE and other)

    def _parts_read_as(self, sides: np.ndarray) -> bool:
        """Whether the classifier read the chosen cut's parts (``probs``) as the digits the pair
        reader reads on its two sides."""
        return all(np.argmax(single[:10]) == np.argmax(side) for single, side in zip(self.probs, sides))


def _agreeing_cuts(values: list[float], readings: list[tuple[int, ...]], counts: list[int], choice: int
                   ) -> dict[tuple[int, ...], tuple[int, float]]:
    """The best cut in two for each other reading within AGREE_MARGIN of the chosen cut in two
    (option index and how far it trails the choice, by reading): one of them replaces the choice
    if the pair reader reads it."""
    best: dict[tuple[int, ...], tuple[int, float]] = {}
    for o in sorted(range(1, len(values)), key=lambda o: -values[o]):
        if counts[o - 1] == 2 and readings[o] != readings[choice] and values[choice] - values[o] < AGREE_MARGIN:
            best.setdefault(readings[o], (o, values[choice] - values[o]))
    return best


def _recut(s: int, c: int, job: "_Job", agreeing: dict[tuple[int, ...], tuple[int, float]],
           reading: PairReading, parts_probs: np.ndarray, decided: dict[tuple[int, int], list[Component]]) -> bool:
    """Replace a component's chosen cut in two by a close one (``agreeing``) whose parts read the
    digits the pair reader reads, two digits at least TWO_SURE: two readers agreeing outweigh a
    small lead of the cut's own reading ('47' overlapping, cut into a '1' and a '0' by 0.5
    log-probability, read '4' '7' by the cut just behind). The pair reader must be sure of both
    digits together (PAIR_SURE), or else the cut must trail by less than DOUBT_MARGIN (a close
    call either way: '14' cut '11' by 0.04, the pair reader reading '14' at 0.75), and is in doubt."""
    sides, two = reading
    found = agreeing.get(tuple(int(k) for k in np.argmax(sides, axis=1)))
    if found is None or two < TWO_SURE:
        return False
    option, lead = found
    sure = _sure_of_both(reading)
    if not sure and lead >= DOUBT_MARGIN:
        return False
    return _take_cut(s, c, job, option, sides, parts_probs, decided, doubtful=not sure)


def _take_cut(s: int, c: int, job: "_Job", option: int, sides: np.ndarray, parts_probs: np.ndarray,
              decided: dict[tuple[int, int], list[Component]], doubtful: bool) -> bool:
    """Cut a component at its two-part ``option`` (into ``decided``), each part's scores the
    :func:`blend_pair` of its own reading and the pair reader's ``sides``; False, and nothing
    changed, when a part would be empty."""
    pieces = job.pieces(option)
    if None in pieces:
        return False
    for piece, single, side in zip(pieces, parts_probs[job.first_part(option):], sides):
        piece.scores = blend_pair(single, side)
        piece.doubtful = doubtful
    decided[(s, c)] = pieces
    return True


def _apply_pairs(cut_in_two: list[tuple[Component, list[Component], np.ndarray]],
                 unread_whole: list[tuple[int, int, "_Job", int]], doubts: list[_Doubt], pairs: PairScorer,
                 known: dict[int, PairReading], parts_probs: np.ndarray,
                 decided: dict[tuple[int, int], list[Component]],
                 unconfirmed: list[tuple[int, int, Component]],
                 recuts: list[tuple[int, int, "_Job", dict[tuple[int, ...], int]]]) -> None:
    """One call of the pair reader on the page's components cut in two (each part's ``scores``
    become :func:`blend_pair` of the two readings), on those read whole as no digit that no cut
    beat (one the pair reader reads as two digits, both sides together at least PAIR_SURE, '01'
    or '40' nested so that no cut leaves either whole, is cut at its best two-part cut and its
    parts read the same way), on the close calls it may settle (:class:`_Doubt`), and on the
    ``unconfirmed`` cuts (string, index, component) of marks read whole as no digit that only a
    pair reader sure of both digits (PAIR_SURE) keeps (an '8' cut '11', a printed word: undone).
    A cut in two with a close rival cut (``recuts``) takes the rival whose parts read what the
    pair reader reads (:func:`_recut`)."""
    _read_pairs([comp for comp, _, _ in cut_in_two] + [job.component for _, _, job, _ in unread_whole]
                + [d.component for d in doubts] + [comp for _, _, comp in unconfirmed], pairs, known)
    for s, c, comp in unconfirmed:
        if not _sure_of_both(known[id(comp)]):
            decided.pop((s, c), None)
    for comp, pieces, probs in cut_in_two:
        for piece, single, side in zip(pieces, probs, known[id(comp)][0]):
            piece.scores = blend_pair(single, side)
    recut = {id(job.component) for s, c, job, agreeing in recuts
             if _recut(s, c, job, agreeing, known[id(job.component)], parts_probs, decided)}
    for s, c, job, option in unread_whole:
        reading = known[id(job.component)]
        if _sure_of_both(reading):
            _take_cut(s, c, job, option, reading[0], parts_probs, decided, job.component.doubtful)
    for doubt in doubts:
        if id(doubt.component) in recut:
            continue
        if doubt.undone(known[id(doubt.component)]):
            decided.pop(doubt.key, None)
        elif doubt.settled(known[id(doubt.component)]):
            for piece in doubt.pieces:
                piece.doubtful = False


def _resplit_unread(decided: dict[tuple[int, int], list[Component]], score: Scorer, pairs: PairScorer,
                    stroke: float) -> None:
    """Cut again the part of a cut in two that is read as no digit beside one read as a digit
    and is at least PAIR_ASPECT as wide as tall ('3' | '91' of '391', too narrow for three parts
    to be tried): at its best cut in two, where the pair reader is sure of two digits (TWO_SURE,
    PAIR_SURE) and the classifier reads the same two in the new parts. The parts take the pair
    reader's probabilities, in doubt under REPAIR_SURE. A printed corner mark cut in two (both
    parts no digit) is left alone. One pair reader and one score call, only when such parts exist."""
    def unread(piece: Component) -> bool:
        return piece.scores is None or int(np.argmax(piece.scores)) >= 10

    found = [(key, k, piece) for key, pieces in decided.items() if len(pieces) == 2
             for k, piece in enumerate(pieces)
             if unread(piece) and not unread(pieces[1 - k]) and piece.box.w >= PAIR_ASPECT * piece.box.h]
    if not found:
        return
    known: dict[int, PairReading] = {}
    _read_pairs([piece for _, _, piece in found], pairs, known)
    jobs, crops = [], []
    for key, k, piece in found:
        if known[id(piece)][1] < TWO_SURE or not _sure_of_both(known[id(piece)]):
            continue
        options = segmentations(piece.mask, stroke, False)
        start = len(crops)
        for cuts in options:
            crops.extend(tight_mask(p) for p in cut_parts(piece.mask, cuts))
        if options:  # every option is a cut in two; the width (2.0) is not used here
            jobs.append((key, k, _Job(piece, [[]] + options, start, [2] * len(options), 2.0)))
    if not crops:
        return
    probs = score_crops(score, crops)
    values = digit_values(probs, crops)[0]
    for key, k, job in sorted(jobs, key=lambda j: -j[1]):  # right part first: indices stay valid
        mask = job.component.mask
        best = max(range(1, len(job.options)), key=lambda o: values[job.first_part(o):][:2].sum()
                   - crossing_cost(mask, job.options[o]))
        sides = known[id(job.component)][0]
        parts = job.pieces(best)
        if None in parts or not np.array_equal(probs[job.first_part(best):][:2].argmax(axis=1),
                                               sides.argmax(axis=1)):
            continue  # the two readers must read the same two digits
        take_pair_reading(parts, sides)
        pieces = decided[key]
        decided[key] = pieces[:k] + parts + pieces[k + 1:]


def split_touching(strings: list[list[Component]], heights: list[float], stroke: float,
                   score: Scorer | None, min_height: float = 0.0,
                   pairs: PairScorer | None = None) -> list[list[Component]]:
    """Each string with its wide components replaced by their best split (left to right).

    ``heights`` are the strings' line heights (px); ``stroke`` the page's pen width (px).
    Strings whose line is under ``min_height`` px (small print beside the handwriting) are left
    alone. ``score`` is called at most twice per page: once on the wide components (and those
    that may be a pair with a '1', see :func:`maybe_pair`) whole, then once on the candidate
    parts of those a split could still beat (and, with ``pairs``, once more on the cuts of parts
    read as no digit that the pair reader reads as two: :func:`_resplit_unread`). A split's value
    is at most its prior (log probabilities are <= 0), so a whole reading that leads every split's prior
    by DOUBT_MARGIN is final (unless the pair reader is sure it holds two) and its cuts are never
    made or scored (the same result, faster).
    ``pairs`` (optional) reads whole, at most twice per page, the marks read as a digit but not
    surely (NARROW_SURE) that are narrow or that no cut could beat (cut when it is sure they hold
    two, TIGHT_SURE), then the components cut in two, those read whole as no digit
    that no cut beat, and those whose reading was a close call (see :func:`_apply_pairs`), and
    once more the cut parts read as no digit (:func:`_resplit_unread`).
    """
    decided: dict[tuple[int, int], list[Component]] = {}
    wide: list[tuple[int, int, Component, float]] = []
    narrow: set[tuple[int, int]] = set()  # scored only in case they are read as no digit
    for s, (string, height) in enumerate(zip(strings, heights)):
        if height < min_height:
            continue
        width = digit_width(string, height)
        for c, comp in enumerate(string):
            if comp.separator is not None:
                continue
            digits = comp.box.w / width
            if not is_wide(comp, height, width, score is not None):
                if score is not None and maybe_pair(comp, height, PAIR_ASPECT if pairs is None else TIGHT_ASPECT):
                    wide.append((s, c, comp, digits))
                    narrow.add((s, c))
                continue
            if score is not None:
                wide.append((s, c, comp, digits))
                continue
            parts = 2 if digits < THREE_NO_SCORE else 3
            cuts = valley_cuts(comp.mask, parts, stroke)
            if cuts is None and parts == 3:
                cuts = valley_cuts(comp.mask, 2, stroke)
            if cuts:
                pieces = [crop_part(p, comp.box) for p in cut_parts(comp.mask, cuts)]
                decided[(s, c)] = [p for p in pieces if p is not None]
    if wide:
        whole_crops = [tight_mask(comp.mask) for _, _, comp, _ in wide]
        whole_probs = np.asarray(score(batch_to_mnist(whole_crops)))
        whole, unread, whole_label = digit_values(whole_probs, whole_crops)
        for (_, _, comp, _), crop, probs in zip(wide, whole_crops, whole_probs):
            if crop.shape == comp.mask.shape:  # scored as it stands: kept unless it is cut
                comp.scores = probs
        # The prior weighs the width in digits of the class the whole reads as ('0' is wide).
        spans = [digits / CLASS_WIDTH[label] for (_, _, _, digits), label in zip(wide, whole_label)]
        final = [beyond_splits(value, span, digits >= THREE)
                 for (_, _, _, digits), value, span in zip(wide, whole, spans)]
        known: dict[int, PairReading] = {}  # the pair reader's readings, by id of the component
        if pairs is not None:
            # Marks read as a digit, not surely, that may be two: narrow ones (two digits written as
            # tight as one) and wide ones no cut could beat (a '1' drawn through a '0': every cut
            # leaves one of them broken, so only the pair reader can tell '10' from a '0').
            _read_pairs([comp for (s, c, comp, _), probs, no_digit, span, beyond
                         in zip(wide, whole_probs, unread, spans, final)
                         if not no_digit and probs.max() < NARROW_SURE
                         and ((s, c) in narrow or (span <= PAIR_WIDTH and beyond))], pairs, known)
        tight = {k for k, (_, two) in known.items() if two >= TIGHT_SURE}  # ids of those surely two
        jobs: list[tuple[int, int, float, int, _Job, bool, bool]] = []
        crops: list[np.ndarray] = []
        for (s, c, comp, digits), whole_value, no_digit, label, span, beyond in zip(
                wide, whole, unread, whole_label, spans, final):
            if (s, c) in narrow and not no_digit and id(comp) not in tight:
                continue
            with_three = digits >= THREE
            # A mark read whole as no digit is tried whatever its digit value ('61' overlapping
            # read '4' at 0.45, '?' at 0.5) when a pair reader can confirm the cut (PAIR_SURE).
            unproven = beyond and id(comp) not in tight
            if unproven and not (no_digit and pairs is not None):
                continue  # no split can win, nor come close
            options = segmentations(comp.mask, stroke, with_three)
            start, counts = len(crops), []
            for cuts in options:
                parts = cut_parts(comp.mask, cuts)
                crops.extend(tight_mask(p) for p in parts)
                counts.append(len(parts))
            jobs.append((s, c, float(whole_value), int(label), _Job(comp, [[]] + options, start, counts, span),
                         bool(no_digit), unproven))
        parts_probs = score_crops(score, crops)
        parts_value, _, parts_label = digit_values(parts_probs, crops) if crops \
            else (np.zeros(0), None, np.zeros(0, int))
        cut_in_two: list[tuple[Component, list[Component], np.ndarray]] = []
        unread_whole: list[tuple[int, int, _Job, int]] = []  # (string, component, job, its best 2-part option)
        doubts: list[_Doubt] = []
        unconfirmed: list[tuple[int, int, Component]] = []  # cuts the pair reader must confirm
        recuts: list[tuple[int, int, _Job, dict[tuple[int, ...], int]]] = []  # cuts in two with close rival cuts
        for s, c, whole_value, label, job, no_digit, unproven in jobs:
            comp = job.component
            values, readings = [whole_value + prior(1, job.digits)], [(label,)]
            pos = job.start
            for o, n in enumerate(job.counts, 1):
                reading = tuple(int(k) for k in parts_label[pos:pos + n])
                # A narrow mark read as no digit, cut into a '1' and another digit ('61', '13'):
                # the pair is only about one and a half digits wide.
                digits = split_width(job.digits, reading) if (s, c) in narrow else job.digits
                values.append(float(parts_value[pos:pos + n].sum()) + prior(n, digits)
                              - crossing_cost(comp.mask, job.options[o]))
                readings.append(reading)
                pos += n
            choice = int(np.argmax(values))  # ties: the first, i.e. whole
            rivals = _rivals(values, readings, choice)
            two = [o for o, n in enumerate(job.counts, 1) if n == 2]
            if choice == 0 and two and id(comp) in tight:
                # The pair reader is sure this mark, narrow as one digit, is two ('71', '11').
                choice, rivals = max(two, key=values.__getitem__), []
            if choice == 0 and no_digit and pairs is not None:
                # No cut reads better than the whole's "no digit": perhaps a pair no cut gets whole.
                if two:
                    unread_whole.append((s, c, job, max(two, key=values.__getitem__)))
            probs = None
            if job.options[choice]:
                pieces = job.pieces(choice)
                decided[(s, c)] = [p for p in pieces if p is not None]
                if unproven:
                    unconfirmed.append((s, c, comp))
                if pairs is not None and len(pieces) == 2 and None not in pieces:
                    probs = parts_probs[job.first_part(choice):][:2]
                    cut_in_two.append((comp, pieces, probs))
                    agreeing = _agreeing_cuts(values, readings, job.counts, choice)
                    if agreeing:
                        recuts.append((s, c, job, agreeing))
            marks = decided.get((s, c), [comp])
            for piece in marks:
                piece.doubtful = bool(rivals)
            if rivals and pairs is not None:
                doubts.append(_Doubt(comp, choice, rivals, marks, probs, (s, c), not no_digit))
        if cut_in_two or unread_whole or doubts or unconfirmed:
            _apply_pairs(cut_in_two, unread_whole, doubts, pairs, known, parts_probs, decided, unconfirmed, recuts)
        if pairs is not None:
            _resplit_unread(decided, score, pairs, stroke)
    out = []
    for s, string in enumerate(strings):
        row = []
        for c, comp in enumerate(string):
            row.extend(decided.get((s, c), [comp]))
        out.append(row)
    return out
