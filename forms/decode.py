"""Reading a field under its rules: when the classifier's best reading breaks a rule (an
impossible date, a failed check digit), the most probable reading among the digits'
alternatives that obeys every rule is proposed instead.

Only the least sure digits are varied (a confident digit is taken as read), over the top-3
alternatives each glyph keeps, so the search is at most 3 ** MAX_VARIED readings. A mark the
classifier finds more likely no digit (shown as its best digit, flagged "not a digit") is always
varied first.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from forms.rules import UNREADABLE, Checked, check_field
from forms.template import FieldSpec
from pipeline.results import NOT_A_DIGIT_REASON, DigitString, Glyph
from segmentation.separators import date_like

MAX_VARIED = 5   # least sure digits whose alternatives are tried
SURE = 0.999     # a digit at least this sure is never varied
FLOOR = 0.01     # alternatives less probable than this are not tried


def _options(glyph: Glyph) -> list[tuple[str, float]]:
    """The digit labels a glyph may stand for, with their probabilities, best first."""
    alternatives = glyph.alternatives or ((glyph.label, glyph.confidence),)
    return [(label, p) for label, p in alternatives if label != UNREADABLE and p >= FLOOR]


def readings(string: DigitString) -> Iterator[tuple[str, float, float]]:
    """Every reading of ``string`` over the alternatives of its least sure digits, as
    ``(text, log probability, lowest probability of a digit as read)``, most probable first."""
    glyphs = string.glyphs
    digits = [i for i, g in enumerate(glyphs) if not g.is_separator]
    rejected = {i for i in digits if glyphs[i].label == UNREADABLE or glyphs[i].reason == NOT_A_DIGIT_REASON}
    unsure = sorted((i for i in digits if i in rejected or glyphs[i].confidence < SURE),
                    key=lambda i: (i not in rejected, glyphs[i].confidence))[:MAX_VARIED]

    def choice(i: int, glyph: Glyph) -> list[tuple[str, float]]:
        if glyph.is_separator:
            return [(glyph.label, 1.0)]
        return _options(glyph) if i in unsure else [(glyph.label, glyph.confidence)]

    choices = [choice(i, g) for i, g in enumerate(glyphs)]
    if any(not c for c in choices):
        return
    found = []
    for combo in itertools.product(*choices):
        log_p = sum(math.log(max(p, 1e-12)) for _, p in combo)
        lowest = min((p for (_, p), g in zip(combo, glyphs) if not g.is_separator), default=1.0)
        found.append(("".join(label for label, _ in combo), log_p, lowest))
    found.sort(key=lambda r: -r[1])
    yield from found


def slashed(text: str) -> Iterator[str]:
    """``text`` (digits only) with two of its '1's read as '/' wherever that leaves a date's
    groups (d/m/yy to dd/mm/yyyy, yyyy/m/d): a '/' leaning no more than a '1' reads as one."""
    ones = [i for i, ch in enumerate(text) if ch == "1"]
    for a, b in itertools.combinations(ones, 2):
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


def best_valid(string: DigitString, spec: FieldSpec) -> tuple[str, Checked, float] | None:
    """The most probable reading of ``string`` that breaks none of ``spec``'s rules, with its
    check and the lowest probability among its digits; None when no reading tried does.
    A date written in a box or on a line (not a comb) read as digits alone is also tried with
    '1's as its slashes ('25111153': '25/11/53'); any reading is also tried without each one of
    its separators (:func:`unseparated`), after every reading that keeps them all."""
    found = list(readings(string))
    for text, _, lowest in found:
        variants = slashed(text) if spec.type == "date" and not spec.cells and text.isdigit() else ()
        for candidate in (text, *variants):
            checked = check_field(candidate, spec)
            if not checked.problems:
                return candidate, checked, lowest
    for text, _, lowest in found:
        for candidate in unseparated(text):
            checked = check_field(candidate, spec)
            if not checked.problems:
                return candidate, checked, lowest
    return None
