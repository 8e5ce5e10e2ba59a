"""Full stops written against a digit: a '.' touching the foot of the digit before or after it.

Pen dots land close to the digits they separate and, once scanned and binarised, often touch
one ('7.' in '27.31', '.1' in '18.11.2001'): the two are one component, so the '.' is lost
('2731', '1811.2001') and the digit is read from a crop with a blob in its corner. A dot is
looked for at the lower left and lower right of each digit-sized mark: a round blob in the bottom
part of the line, joined to the digit by a contact narrower than itself, reaching no higher than
that part (a stroke going on upwards is the digit's own), and set against a stem ('7.', '.1') or
touching at a point (a contact under half a pen's width: the end of a '5's tail). The curled,
blunt end of a '3' or '5' fails these. It is cut off only where it is read as '.' and the string
keeps a shape people write (:mod:`.patterns`), so a stroke's end is never turned into a
separator of a string that has none of its kind; where the string had a shape without it too,
the digit is marked for review.
"""
from __future__ import annotations

import cv2
import numpy as np

from .components import label_components
from .marks import Component
from .patterns import plausible
from .separators import DOT_SIZE, classify, shape
from .touching import crop_part

BAND = 0.45   # lower share of the line (its top to its baseline, and below) searched for a dot
NECK = 0.6    # ink across the contact / the dot's height at most: a dot bulges beyond its contact
FILL = 0.55   # share of the dot's box that is ink at least: a round blob, not a thin stroke end
MIN_DOT = 0.7  # x pen width: the dot's shorter side at least (smaller is a speck)
ROUND = 0.7   # widest inscribed disc / the dot's longer side at least
STEM = 1.5    # dot heights above the dot the stroke it touches rises at least
POINT = 0.5   # x pen width: a contact at a point, at most
BLOB = 1.2    # x pen width: a dot touching at a point, across at least
KEEP = 0.7    # share of the mark's ink the digit keeps at least


def _on_a_stem(rest: np.ndarray, neck: int, dot_top: int, dot_bottom: int, dot_h: int,
               stroke: float) -> bool:
    """Whether the ink of ``rest`` touching the dot (at column ``neck``, rows ``dot_top`` to
    ``dot_bottom``) belongs to a stroke rising at least ``STEM`` dot heights above the dot within
    two pen widths of the contact: the stem of a '1', '4', '7' or '9' the dot was set against.
    The curled tail of a '3' or '5' has only the digit's bottom curve beside it there."""
    contact = np.flatnonzero(rest[dot_top: dot_bottom + 1, neck]) + dot_top
    if len(contact) == 0:
        return False
    first = max(0, neck - int(np.ceil(2 * stroke)))
    lab = label_components(rest[: dot_bottom + 1, first: neck + 1])
    tops = lab.boxes[lab.labels[contact, neck - first] - 1, 1]
    return int(tops.min()) <= dot_top - STEM * dot_h


def _dot_at(comp: Component, right: bool, height: float, top: float, base: float,
            stroke: float) -> tuple[Component, Component] | None:
    """(digit, dot) when a dot touches ``comp`` at its lower right (``right``) or lower left."""
    mask = comp.mask if right else comp.mask[:, ::-1]
    first = max(0, int(round(top + (1.0 - BAND) * (base - top))) - comp.box.y)
    band = mask[first:]
    if band.shape[0] < 2:
        return None
    profile = band.sum(axis=0)
    inked = np.flatnonzero(profile)
    if len(inked) == 0:
        return None
    end = int(inked[-1])  # the band's outermost ink (a '7's bar may reach further out above it)
    # The contact: the thinnest column of the band within a dot's width of that edge, leaving
    # at least a pen's width of digit (a '1' is hardly wider than the dot beside it).
    start = max(int(np.ceil(stroke)), end - int(DOT_SIZE * height))
    if start >= end:
        return None
    neck = start + int(np.argmin(profile[start: end]))
    piece = np.zeros_like(mask)
    piece[first:, neck + 1:] = band[:, neck + 1:]
    rows, cols = np.flatnonzero(piece.any(axis=1)), np.flatnonzero(piece.any(axis=0))
    if len(rows) == 0 or rows[0] <= first:
        return None  # empty, or going on above the band: part of the digit's own stroke
    dot_h, dot_w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    area = int(piece.sum())
    if not (min(dot_h, dot_w) >= MIN_DOT * stroke and max(dot_h, dot_w) <= DOT_SIZE * height
            and 0.5 <= dot_w / dot_h <= 2.0 and area >= FILL * dot_h * dot_w
            and profile[neck] <= NECK * dot_h and mask.sum() - area >= KEEP * mask.sum()):
        return None
    # Thick all over: the widest disc inside a dot spans most of it, inside a stroke's end
    # (however curled) only the pen's width.
    inside = cv2.distanceTransform(np.pad(piece[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1], 1).view(np.uint8),
                                   cv2.DIST_L2, 3)
    if 2.0 * float(inside.max()) < ROUND * max(dot_h, dot_w):
        return None
    rest = mask & ~piece
    # Set against a stem, or touching at a point: a contact under half the pen's width between
    # the digit and a blob wider than the pen (a stroke's own end is as thick as the pen).
    at_a_point = profile[neck] <= POINT * stroke and min(dot_h, dot_w) >= BLOB * stroke
    if not (at_a_point or _on_a_stem(rest, neck, rows[0], rows[-1], dot_h, stroke)):
        return None
    if not right:
        rest, piece = rest[:, ::-1], piece[:, ::-1]
    return crop_part(rest, comp.box), crop_part(piece, comp.box)  # neither is empty (KEEP, area)


def detach_dots(string: list[Component], height: float, top: float, base: float,
                stroke: float) -> list[Component]:
    """``string`` (labelled by :func:`.separators.label_separators`, reading order) with every
    '.' found touching one of its digits cut off into a mark of its own (see the module's
    docstring). ``height``, ``top``, ``base``: the line's digit height and median top and
    bottom edges; ``stroke``: the pen width (all px)."""
    out = list(string)
    k = 0
    while k < len(out):
        comp = out[k]
        if comp.separator is not None:
            k += 1
            continue
        for right in (True, False):
            beside = k + 1 if right else k - 1
            if not 0 <= beside < len(out) or out[beside].separator is not None:
                continue  # a dot ends no string, and never stands next to another separator
            cut = _dot_at(comp, right, height, top, base, stroke)
            if cut is None:
                continue
            digit, dot = cut
            dot.separator = classify(dot, height, top, base)
            trial = out[:k] + ([digit, dot] if right else [dot, digit]) + out[k + 1:]
            if dot.separator == "." and plausible(shape(trial)):
                # Where the string already had a shape without the dot ('2731' or '27.31'), the
                # blob may still be the digit's own (ink pooled where two digits touched): the
                # digit goes to review. Where only the dot gives it one, the shape vouches for it.
                digit.doubtful = comp.doubtful or plausible(shape(out))
                out = trial
                comp = digit
                if not right:
                    k += 1  # the digit moved one place right, behind its dot
        k += 1
    return out
