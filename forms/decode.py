"""Reading a field under its rules: when the classifier's best reading breaks a rule (an
impossible date, a failed check digit), the most probable reading that obeys every rule is
proposed instead.

Readings are tried in order of probability (the product of their digits' probabilities, over
every digit each glyph may be, '?' aside) until one passes, so a single misread digit is put right
wherever it lies: a failed Luhn check has one fix per position, and the likeliest of them is the
one whose digit the classifier found least sure. A mark the classifier finds more likely no digit
(shown as its best digit, flagged "not a digit") may be any digit.
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from itertools import combinations, islice

from forms.rules import UNREADABLE, Checked, check_field
from forms.template import FieldSpec
from pipeline.results import DigitString, Glyph
from segmentation.geometry import gap
from segmentation.separators import date_like

MAX_READINGS = 5000  # readings tried, most probable first, before giving up
FLOOR = 1e-6  # a digit less probable than this is never tried in a glyph's place
TOUCH = 1  # px between two digits' boxes at most for one to be a piece cut off the other


def _options(glyph: Glyph) -> list[tuple[str, float]]:
    """The labels a glyph may stand for, with their probabilities, most probable first: a
    separator stands for itself; a digit for every digit at least FLOOR probable (its reading
    always among them)."""
    if glyph.is_separator:
        return [(glyph.label, 1.0)]
    alternatives = glyph.alternatives or ((glyph.label, glyph.confidence),)
    options = [(label, p) for label, p in alternatives
               if label != UNREADABLE and (p >= FLOOR or label == glyph.label)]
    return sorted(options or [(glyph.label, glyph.confidence)], key=lambda o: -o[1])


def readings(string: DigitString) -> Iterator[tuple[str, float, float]]:
    """Every reading of ``string`` over its glyphs' options, as ``(text, log probability,
    lowest probability of a digit as read)``, most probable first (a best-first walk over the
    options' ranks: each step moves one glyph to its next option)."""
    glyphs = string.glyphs
    options = [_options(g) for g in glyphs]
    logs = [[math.log(max(p, 1e-12)) for _, p in o] for o in options]
    start = (0,) * len(options)
    heap, seen = [(-sum(l[0] for l in logs), start)], {start}
    while heap:
        cost, ranks = heapq.heappop(heap)
        combo = [o[r] for o, r in zip(options, ranks)]
        lowest = min((p for (_, p), g in zip(combo, glyphs) if not g.is_separator), default=1.0)
        yield "".join(label for label, _ in combo), -cost, lowest
        for i, r in enumerate(ranks):
            if r + 1 < len(options[i]):
                step = ranks[:i] + (r + 1,) + ranks[i + 1:]
                if step not in seen:
                    seen.add(step)
                    heapq.heappush(heap, (cost + logs[i][r] - logs[i][r + 1], step))


def slashed(text: str) -> Iterator[str]:
    """``text`` (digits only) with two of its '1's read as '/' wherever that leaves a date's
    groups (d/m/yy to dd/mm/yyyy, yyyy/m/d): a '/' leaning no more than a '1' reads as one."""
    ones = [i for i, ch in enumerate(text) if ch == "1"]
    for a, b in combinations(ones, 2):
        if date_like([a, b - a - 1, len(text) - b - 1]):
            yield f"{text[:a]}/{text[a + 1:b]}/{text[b + 1:]}"


def unseparated(text: str) -> Iterator[str]:
    """``text`` without one of the separators that fence in a single digit, in turn: no date,
    amount or grouped number puts one digit between two separators mid-string, but a speck or a
    detached piece of a digit read as '.' does ('73383.86' read '7338.3.86'). A separator
    between longer groups ('55,4107.37': a digit too many, not a comma too many) stays."""
    def fenced(j: int) -> bool:  # a digit with a separator on either side
        return 0 < j < len(text) - 1 and text[j].isdigit() and not text[j - 1].isdigit() \
            and not text[j + 1].isdigit()

    for i, ch in enumerate(text):
        if not ch.isdigit() and (fenced(i - 1) or fenced(i + 1)):
            yield text[:i] + text[i + 1:]


def _without_separators(text: str, spec: FieldSpec) -> list[str]:
    """``text`` with no separator at all, for a run of digits with no pattern (an account
    number, a reference), where none is written: each one read is a speck ('52.545156')."""
    digits = "".join(ch for ch in text if ch.isdigit())
    return [digits] if spec.type == "digits" and spec.pattern is None and digits != text else []


def _cut_off(string: DigitString) -> list[int]:
    """Digits of ``string`` whose box touches or overlaps a neighbouring digit's (gap of at most
    TOUCH px): pieces the segmentation may have cut off a digit ('4' with a long bar read '41').
    '1's first (what a cut-off stroke reads as), then the least sure first."""
    glyphs = string.glyphs
    touching = [i for i, g in enumerate(glyphs) if not g.is_separator and any(
        0 <= j < len(glyphs) and not glyphs[j].is_separator
        and gap(g.box.x, g.box.right, glyphs[j].box.x, glyphs[j].box.right) <= TOUCH for j in (i - 1, i + 1))]
    return sorted(touching, key=lambda i: (glyphs[i].label != "1", glyphs[i].confidence))


def best_valid(string: DigitString, spec: FieldSpec) -> tuple[str, Checked, float] | None:
    """The most probable reading of ``string`` that breaks none of ``spec``'s rules, with its
    check and the lowest probability among its digits; None when no reading tried does.
    A date written in a box or on a line (not a comb) read as digits alone is also tried with
    '1's as its slashes ('25111153': '25/11/53'); any reading is also tried without each one of
    its separators (:func:`unseparated`), and a run of digits without all of them, after every
    reading that keeps them all; last, the likeliest reading without one digit cut off its
    neighbour (:func:`_cut_off`), for a field that then has the length or pattern it wants."""
    found = list(islice(readings(string), MAX_READINGS))
    for text, _, lowest in found:
        variants = slashed(text) if spec.type == "date" and not spec.cells and text.isdigit() else ()
        for candidate in (text, *variants):
            checked = check_field(candidate, spec)
            if not checked.problems:
                return candidate, checked, lowest
    for text, _, lowest in found:
        for candidate in (*unseparated(text), *_without_separators(text, spec)):
            checked = check_field(candidate, spec)
            if not checked.problems:
                return candidate, checked, lowest
    if found:  # one digit too many: a piece cut off a digit, dropped from the likeliest reading
        text, _, lowest = found[0]
        for i in _cut_off(string):
            candidate = text[:i] + text[i + 1:]
            checked = check_field(candidate, spec)
            if not checked.problems:
                return candidate, checked, lowest
    return None
