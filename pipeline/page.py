"""Reading one page: a pure function from a grey page image to its :class:`PageResult`.

It holds no state and writes nothing, so it runs the same in this process, a worker process or a
cluster actor; the caller writes the outputs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from forms.reader import assemble, plan_page
from forms.regions import segment, take_ink
from pipeline.geometry import invert, map_box, pad_box
from pipeline.options import ReadOptions
from pipeline.overlay import draw_overlay, encode_overlay
from pipeline.preprocess import preprocess
from pipeline.results import (AMBIGUOUS_GROUPING, IMPOSSIBLE_DATE, LOW_CONFIDENCE, NOT_A_DIGIT, NOT_A_DIGIT_REASON, SEGMENTATION_DOUBT,
                              SEPARATOR_LAYOUT, SHORT_ZERO, DigitString, Glyph, PageResult, crop_name, overlay_name)
from pipeline.scale import enlarge, working_scale
from segmentation.normalize import batch_to_mnist
from segmentation.patterns import ambiguous_grouping, impossible_date_groups, plausible, possible_date, written_date
from segmentation.segment import Component

EVEN_ODDS = 0.5  # a mark read at least this surely counts as a digit when telling digit strings from print
LONG_RUN = 5  # marks: in a run at least this long ...
SURE_SHARE = 0.4  # ... at least this share must be read at the flag threshold for a digit string
SHORT_HEIGHT = 0.75  # a '0' under this share of its string's median digit height, low on the line, is flagged ...
SHORT_WIDTH = 0.8    # ... unless at least this share wide (a wide '0' is a flat one)
MIN_FOR_SHORT = 3    # digits a string needs for its median height to judge one by

if TYPE_CHECKING:
    from classifier.runtime import PairReader


class Classifier(Protocol):
    labels: tuple[str, ...]
    threshold: float
    pairs: PairReader | None  # reads touching pairs whole (optional; see segmentation.touching)

    def predict(self, images: np.ndarray) -> np.ndarray: ...


def read_page(image: np.ndarray, classifier: Classifier, options: ReadOptions = ReadOptions(),
              file: str = "", page: int = 1) -> PageResult:
    """Read every digit string on one 2-D uint8 grey page (paper bright, ink dark)."""
    height, width = image.shape[:2]
    # Template forms are read at their own size: enlarged, the templated fields of seven seeds read
    # 1,370 of 1,400 right against 1,372 (all wrong ones flagged either way; README, session 30).
    scale = working_scale(image.shape) if options.template is None else 1.0
    prep = preprocess(enlarge(image, scale), binarization=options.binarization, deskew=options.deskew,
                      remove_lines=options.remove_lines)
    threshold = classifier.threshold if options.threshold is None else options.threshold
    # Boxed fields and template fields are read region by region; the rest of the page as before.
    plan = plan_page(prep.gray, prep.lines, page, options.template, options.cheque, options.boxes, prep.ink)
    rest, inks = take_ink(prep.ink, prep.lines, plan.regions, prep.gray)
    pairs = getattr(classifier, "pairs", None)
    candidates, in_regions = segment(rest, plan.regions, inks, classifier.predict,
                                     pairs.predict if pairs is not None else None)
    back = invert(prep.matrix) / scale  # deskewed working pixels -> the page's own pixels

    # Marks read as '/' are classified too: a '/' is kept only where the date it makes is a
    # possible one; elsewhere it was a leaning '1' (see _check_slashes).
    digits = [c for string in candidates + in_regions for c in string if c.separator in (None, "/")]
    probabilities = _probabilities(classifier, digits) if digits else None
    if digits:
        _check_slashes(candidates + in_regions, digits, probabilities, classifier.labels)
        keep = [k for k, c in enumerate(digits) if c.separator is None]
        digits, probabilities = [digits[k] for k in keep], probabilities[keep]
    glyph_of = {id(c): _glyph(c, probabilities[i], classifier.labels, threshold, back, width, height)
                for i, c in enumerate(digits)}
    if options.keep_inputs and digits:  # what the classifier saw, for harvesting training crops
        for c, pixels in zip(digits, batch_to_mnist([c.mask for c in digits])):
            glyph_of[id(c)].pixels = pixels

    def string_of(marks: list[Component], kind: str) -> DigitString:
        string = DigitString(glyphs=[glyph_of[id(c)] if c.separator is None else _separator(c, back, width, height)
                                     for c in marks], kind=kind)
        _weigh_by_calendar(string, [c.doubtful for c in marks], threshold)
        return string

    strings = [s for s in (string_of(c, "line") for c in candidates) if _looks_like_digits(s)]
    region_strings: list[DigitString | None] = []
    for region, marks in zip(plan.regions, in_regions):
        string = string_of(marks, region.kind) if marks else None
        # A template field keeps whatever was read there; a found box only digit-like content.
        if string is not None and (region.field is not None or _looks_like_digits(string, framed=True)):
            strings = _insert(strings, string)
            region_strings.append(string)
        else:
            region_strings.append(None)
    for number, string in enumerate(strings, 1):
        string.string_id = number
        _flag_shapeless(string)
        _flag_impossible_date(string)
        _flag_short_zeros(string)

    result = PageResult(file=file, page=page, width=width, height=height, angle=prep.angle,
                        strings=strings, field_names=plan.field_names)
    result.fields = assemble(plan, region_strings, strings, width, height, threshold)
    if options.flagged_crops:
        _add_crops(result, image)
    if options.overlays:
        result.artifacts[overlay_name(file, page)] = encode_overlay(draw_overlay(image, strings, threshold))
    return result


def _probabilities(classifier: Classifier, marks: list[Component]) -> np.ndarray:
    """The classifier's probabilities for each mark, asking only for those segmentation did
    not already score as they stand (see ``Component.scores``)."""
    out = np.empty((len(marks), len(classifier.labels)), np.float32)
    todo = []
    for k, c in enumerate(marks):
        if c.scores is None:
            todo.append(k)
        else:
            out[k] = c.scores
    if todo:
        out[todo] = classifier.predict(batch_to_mnist([marks[k].mask for k in todo]))
    return out


def _check_slashes(strings: list[list[Component]], marks: list[Component], probabilities: np.ndarray,
                   labels: tuple[str, ...]) -> None:
    """Turn the '/' of each string whose reading is no possible date back into digits. A lone '/'
    between three digits in all ('2/02', '06/4': a day and month, neither written in full) is a
    leaning '1' too ('2102', '0614'), marked doubtful: such dates are rarer than four-digit numbers.
    A lone '/' of a longer possible date ('3/2024', '12/05') is kept but its neighbours are marked
    doubtful: a leaning '1' ('312024') reads the same."""
    label = {id(c): labels[int(np.argmax(p))] for c, p in zip(marks, probabilities)}
    for string in strings:
        slashes = [c for c in string if c.separator == "/"]
        if not slashes:
            continue
        text = "".join("/" if c.separator == "/" else c.separator or label[id(c)] for c in string)
        if not possible_date(text):
            for c in slashes:
                c.separator = None
        elif len(slashes) == 1 and len(text) == 4:  # three digits around it
            slashes[0].separator, slashes[0].doubtful = None, True
        elif len(slashes) == 1:
            at = next(k for k, c in enumerate(string) if c.separator == "/")
            for c in string[max(0, at - 1): at] + string[at + 1: at + 2]:
                c.doubtful = True


def _insert(strings: list[DigitString], string: DigitString) -> list[DigitString]:
    """``strings`` (in reading order) with ``string`` placed before the first string that
    starts below its middle."""
    middle = string.box.y + string.box.h / 2
    at = next((i for i, s in enumerate(strings) if s.box.y > middle), len(strings))
    return strings[:at] + [string] + strings[at:]


def _glyph(component: Component, probs: np.ndarray, labels: tuple[str, ...], threshold: float,
           back: np.ndarray, width: int, height: int) -> Glyph:
    ranked = [(labels[k], float(probs[k])) for k in np.argsort(probs)[::-1]]
    rejected = ranked[0][0] == NOT_A_DIGIT
    if rejected:
        # A mark of a digit string that looks more like no digit at all is still most likely the
        # digit it resembles best: that digit is its reading, flagged, with '?' as first alternative.
        ranked = [ranked[1], ranked[0]] + ranked[2:]
    alternatives = tuple(ranked)
    label, confidence = alternatives[0]
    # A close call between one digit and two touching ones is a doubt the classifier cannot see.
    reason = (NOT_A_DIGIT_REASON if rejected else LOW_CONFIDENCE if confidence < threshold
              else SEGMENTATION_DOUBT if component.doubtful else "")
    return Glyph(box=map_box(component.box, back, width, height), label=label,
                 confidence=confidence, alternatives=alternatives, flagged=bool(reason), reason=reason)


def _separator(component: Component, back: np.ndarray, width: int, height: int) -> Glyph:
    return Glyph(box=map_box(component.box, back, width, height), label=component.separator or "",
                 confidence=1.0, is_separator=True)


def _weigh_by_calendar(string: DigitString, doubtful: list[bool], threshold: float) -> None:
    """In a string read as a possible date, each digit flagged for a low confidence is weighed
    again over what the calendar allows in its place: its probability divided by that of the
    labels that would still leave a possible date there (itself and '?' included; any mass its
    alternatives do not list counted as allowed). '12.01.2022' with its third '2' at 0.82 and a '7'
    as runner-up ('7022' is no year) is sure of the '2'. A digit that then reaches ``threshold``
    is no longer flagged for its confidence (``doubtful``, per glyph: a segmentation close call
    still flags it)."""
    text = string.text
    if not written_date(text):
        return
    for i, glyph in enumerate(string.glyphs):
        if glyph.reason != LOW_CONFIDENCE:
            continue
        allowed = 1.0 - sum(p for _, p in glyph.alternatives)  # mass of labels not listed
        for label, p in glyph.alternatives:
            if label == glyph.label or not label.isdigit() or written_date(text[:i] + label + text[i + 1:]):
                allowed += p
        confidence = glyph.confidence / max(allowed, glyph.confidence)
        if confidence >= threshold:
            glyph.confidence = confidence
            glyph.reason = SEGMENTATION_DOUBT if doubtful[i] else ""
            glyph.flagged = bool(glyph.reason)


def _flag_shapeless(string: DigitString) -> None:
    """A string whose separators make no shape people write (``segmentation.patterns``: a date,
    an amount, a grouped number) has a mark misread beside one of them ('18.11.2001' read
    '1811.2001', a speck read '.' in '8515580'): the digits beside its separators are flagged,
    so the string goes to review instead of out as a confident wrong value. So does a number
    with one separator and three digits after it ('71.575': 71575 or 71.575, or a speck read '.')."""
    shaped = plausible(string.text)
    if shaped and not ambiguous_grouping(string.text):
        return
    reason = AMBIGUOUS_GROUPING if shaped else SEPARATOR_LAYOUT
    glyphs = string.glyphs
    for i, glyph in enumerate(glyphs):
        if glyph.is_separator:
            for near in glyphs[max(0, i - 1): i] + glyphs[i + 1: i + 2]:
                if not near.is_separator:
                    near.flag(reason)


def _flag_impossible_date(string: DigitString) -> None:
    """A string shaped like a date written with '.' or '/' that names no possible one
    ('09.40.2018': a '1' read '4' at 0.99) has a misread digit in the group at fault: its digits
    are flagged. No written date is impossible, so this only ever flags wrong readings."""
    glyphs = string.glyphs
    for span in impossible_date_groups(string.text):
        for glyph in glyphs[span]:
            glyph.flag(IMPOSSIBLE_DATE)


def _flag_short_zeros(string: DigitString) -> None:
    """A '0' under SHORT_HEIGHT of its string's median digit height, and narrower than SHORT_WIDTH
    of it, whose top lies well below its neighbours' (a small loop on the baseline; not a wide,
    flat '0', nor a cent raised to the top of the line) is the bowl of a '6' whose thin, faint
    stem binarisation lost far more often than a small zero: on seventeen generated sets all 13
    such zeros were misread digits, mostly '6's, some read at 0.99. Flagged. Any other digit that
    short is mostly a '1' (written short, or its serif), so only '0' is judged."""
    digits = string.digits
    if len(digits) < MIN_FOR_SHORT:
        return
    height = float(np.median([g.box.h for g in digits]))
    for i, glyph in enumerate(digits):
        box = glyph.box
        if glyph.label != "0" or box.h >= SHORT_HEIGHT * height or box.w >= SHORT_WIDTH * height:
            continue
        # Neighbours' tops, not the string's: a string on a skewed scan drifts up or down.
        near = [g.box.y for g in digits[max(0, i - 2): i] + digits[i + 1: i + 3]]
        if box.y - float(np.median(near)) > (1 - SHORT_HEIGHT) / 2 * height:
            glyph.flag(SHORT_ZERO)


def _looks_like_digits(string: DigitString, framed: bool = False) -> bool:
    """Printed words and stray marks come out mostly as "not a digit", or as digits read at worse
    than even odds (a printed 'a' as '0' at 0.2): a run of marks no more than half of which are
    read as digits, or fewer than half at even odds or better (EVEN_ODDS), is no digit string.
    Outside a frame (``framed`` False) neither is a run of LONG_RUN marks or more under
    SURE_SHARE of which are read at the flag threshold: a printed heading whose 'l's and 'o's
    read as '1' and '0' passes the first tests; in a found box or comb a field is expected, and
    badly written digits there are flagged, not dropped."""
    digits = string.digits
    readable = sum(g.reason != NOT_A_DIGIT_REASON for g in digits)
    likely = sum(g.reason != NOT_A_DIGIT_REASON and g.confidence >= EVEN_ODDS for g in digits)
    sure = sum(g.reason not in (NOT_A_DIGIT_REASON, LOW_CONFIDENCE) for g in digits)
    return (readable > 0 and readable * 2 > len(digits) and likely * 2 >= len(digits)
            and (framed or len(digits) < LONG_RUN or sure >= SURE_SHARE * len(digits)))


def _add_crops(result: PageResult, image: np.ndarray) -> None:
    """PNG crops of the original pixels, with context, for every flagged digit."""
    for string in result.strings:
        for index, glyph in enumerate(string.glyphs):
            if not glyph.flagged:
                continue
            margin = max(4, glyph.box.h // 4)
            b = pad_box(glyph.box, margin, result.width, result.height)
            glyph.crop = crop_name(result.file, result.page, string.string_id, index)
            ok, png = cv2.imencode(".png", image[b.y:b.bottom, b.x:b.right])
            result.artifacts[glyph.crop] = png.tobytes()
