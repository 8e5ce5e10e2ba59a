"""Fields read under their rules: the likeliest reading the rules allow is proposed, flagged."""
from __future__ import annotations

from forms.decode import best_valid, readings, slashed, unseparated
from forms.reader import Plan, assemble
from forms.regions import Region
from forms.rules import luhn_digit
from forms.template import FieldSpec
from pipeline.results import Box, DigitString, Glyph

DATE = FieldSpec("date", "date", (0.1, 0.1, 0.3, 0.05), cells=8)
ACCOUNT = FieldSpec("account", "digits", (0.1, 0.2, 0.4, 0.05), cells=8, length=(8, 8), check="luhn")


def string(text: str, doubts: dict[int, tuple[tuple[str, float], ...]] | None = None) -> DigitString:
    """Glyphs of ``text``, sure (0.9999) except at the positions given with their top three."""
    glyphs = []
    for i, ch in enumerate(text):
        alternatives = (doubts or {}).get(i, ((ch, 0.9999),))
        glyphs.append(Glyph(Box(30 * i, 0, 25, 40), alternatives[0][0], alternatives[0][1], alternatives,
                            flagged=alternatives[0][1] < 0.9, is_separator=not (ch.isdigit() or ch == "?")))
    return DigitString(glyphs, kind="comb")


def test_impossible_month_takes_the_runner_up():
    read = string("15132017", {2: (("1", 0.55), ("0", 0.40), ("7", 0.05)), 3: (("3", 0.6), ("8", 0.3), ("5", 0.1))})
    text, checked, lowest = best_valid(read, DATE)
    assert text == "15032017" and checked.value == "2017-03-15" and lowest == 0.40


def test_failed_check_digit_and_an_unreadable_mark():
    payload = "1234567"
    good = payload + luhn_digit(payload)
    wrong = str((int(good[3]) + 1) % 10)
    read = string(good[:3] + wrong + good[4:], {3: ((wrong, 0.7), (good[3], 0.25), ("9", 0.05))})
    assert best_valid(read, ACCOUNT)[0] == good
    unread = string(good[:5] + "?" + good[6:], {5: (("?", 0.8), (good[5], 0.15), ("1", 0.05))})
    assert best_valid(unread, ACCOUNT)[0] == good
    # As the pipeline now writes such a mark: its best digit, '?' as first alternative, flagged
    # "not a digit"; varied first even where a surer-looking digit is wrong.
    other = str((int(good[5]) + 1) % 10)
    shown = string(good[:5] + other + good[6:], {5: ((other, 0.15), ("?", 0.8), (good[5], 0.05))})
    shown.glyphs[5].reason = "not a digit"
    assert best_valid(shown, ACCOUNT)[0] == good


def test_sure_digits_are_not_changed():
    # Month 13 with every digit sure: nothing is proposed.
    assert best_valid(string("15132017"), DATE) is None
    assert [r[0] for r in readings(string("1513"))] == ["1513"]


def test_readings_most_probable_first():
    read = string("12", {0: (("1", 0.6), ("7", 0.3), ("4", 0.1)), 1: (("2", 0.9), ("3", 0.1), ("8", 0.0))})
    texts = [r[0] for r in readings(read)]
    assert texts[:3] == ["12", "72", "42"] and "18" not in texts  # 0.0 is below the floor


def test_field_keeps_the_reading_and_stays_flagged():
    read = string("15132017", {3: (("3", 0.6), ("0", 0.3), ("8", 0.1))})
    # Any template will do: a template's fields come from its regions.
    plan = Plan(regions=[Region(Box(0, 0, 240, 40), "comb", field=DATE)], template=object())
    (field,) = assemble(plan, [read], [read], 1000, 1000, threshold=0.9)
    assert field.value == "2017-10-15" and field.text == "15132017" and field.flagged
    assert "the rules allow 15102017" in field.problems[0] and "impossible date" in field.problems[0]


def test_slashes_read_as_ones_in_a_date_box():
    boxed = FieldSpec("date", "date", (0.5, 0.0, 0.5, 0.35), years=(1950, 2049))
    # '25/11/53' with both slashes read as '1': year 1153 as written; '25/11/53' as meant.
    text, checked, _ = best_valid(string("25111153"), boxed)
    assert text == "25/11/53" and checked.value == "1953-11-25"
    assert best_valid(string("0410912010"), boxed)[1].value == "2010-09-04"
    # In a comb every cell holds a digit: its '1's are never slashes.
    assert best_valid(string("25111153"), DATE) is None
    assert list(slashed("2811")) == [] and list(slashed("1212")) == []  # no date's groups


def test_a_separator_the_rules_refuse_is_dropped_after_every_reading_that_keeps_it():
    amount = FieldSpec("amount", "amount", (0.1, 0.3, 0.3, 0.05), decimals=2)
    text, checked, _ = best_valid(string("7338.3.86"), amount)  # a speck beside the '3' read '.'
    assert text == "73383.86" and checked.value == "73383.86"
    assert list(unseparated("1.2,3")) == ["12,3", "1.23"]
    assert list(unseparated("55,4107.37")) == []  # a digit too many ('6' cut '10'), not a comma: kept
    # A digit alternative that keeps the separators wins over dropping one: month 13 -> 03.
    read = string("15.13.2017", {3: (("1", 0.6), ("0", 0.3), ("7", 0.1))})
    assert best_valid(read, DATE)[0] == "15.03.2017"


def test_a_misread_digit_is_put_right_wherever_it_lies_and_whatever_its_rank():
    good = "9056631" + luhn_digit("9056631")
    # Its '6' read '8', the right digit only its fourth choice; its '3' read as no digit, every
    # digit under 1% (the '3' still the best of them).
    read = string(good[:3] + "8" + good[4:], {3: (("8", 0.6), ("0", 0.2), ("5", 0.15), ("6", 0.05))})
    unsure = (("3", 0.009), ("?", 0.99)) + tuple((d, 0.0001) for d in "012456789")
    read.glyphs[5] = Glyph(read.glyphs[5].box, "3", 0.009, unsure, flagged=True, reason="not a digit")
    text, checked, lowest = best_valid(read, ACCOUNT)
    assert text == good and not checked.problems and lowest == 0.009


def test_a_run_of_digits_with_no_pattern_loses_every_separator_read_in_it():
    reference = FieldSpec("reference", "digits", (0.1, 0.4, 0.3, 0.05), length=(6, 8))
    text, checked, _ = best_valid(string("52.545156"), reference)  # a speck after two digits
    assert text == "52545156" and not checked.problems
    phone = FieldSpec("phone", "digits", (0.1, 0.5, 0.3, 0.05), pattern=r"\d{3}-\d{4}")
    assert best_valid(string("123.4567"), phone) is None  # a pattern says where separators go


def test_a_piece_cut_off_a_digit_is_dropped_where_the_pattern_wants_one_digit_fewer():
    phone = FieldSpec("phone", "digits", (0.1, 0.5, 0.3, 0.05), pattern=r"\d{3}-\d{3}-\d{4}")
    read = string("131-1941-2841")
    for g in read.glyphs:  # every mark 30 px apart, 25 wide: 5 px gaps
        g.box = Box(g.box.x, 0, 25, 40)
    read.glyphs[7].box = Box(read.glyphs[6].box.right, 0, 10, 40)  # the '1' touching the '4'
    text, checked, _ = best_valid(read, phone)
    assert text == "131-194-2841" and not checked.problems
    apart = string("131-1941-2841")  # no mark touches another: nothing to drop
    assert best_valid(apart, phone) is None
