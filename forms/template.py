"""Form templates: the fields of a form, where they are, what they hold, and the rules they obey.

A template is a YAML file (documented with examples in ``samples/forms/README.md``)::

    name: payment_slip
    reference: payment_slip.png        # blank form, next to this file (one per page: a list)
    fields:
      - name: account
        type: digits                   # digits | amount | date
        box: [0.31, 0.21, 0.50, 0.034] # x, y, w, h as fractions of the page's width and height
        cells: 10                      # a comb: one digit per cell
        length: 10                     # or [min, max] digits
        check: luhn
      - name: amount
        type: amount
        box: [0.31, 0.30, 0.35, 0.04]
        decimal: "."                   # "." (1,234.56) or "," (1.234,56); omit: either
        decimals: 2                    # digits required after the decimal separator

Positions are relative to the page, so one template fits scans at any resolution; the scan is
registered to the reference image first, so shifted, scaled or rotated scans still hit their fields.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

TYPES = ("digits", "amount", "date")
FRAMES = ("auto", "box", "comb", "none")
CHECKS = ("luhn",)
ORDERS = ("DMY", "MDY", "YMD")


class TemplateError(ValueError):
    """A template file that cannot be used; ``str(err)`` says what is wrong and where."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a form. ``box`` is (x, y, w, h) as fractions of the page size; ``page`` the
    template page it is on (from 1); ``cells`` > 0 for a comb (one digit per cell)."""

    name: str
    type: str
    box: tuple[float, float, float, float]
    page: int = 1
    frame: str = "auto"  # auto: comb when cells is set, else a printed box when one is found
    cells: int = 0
    length: tuple[int, int] | None = None  # (min, max) digits
    pattern: str | None = None  # regex the whole text must match (digits and separators)
    check: str | None = None  # check digit scheme: luhn
    decimal: str | None = None  # amount: "." or ","; None accepts either
    decimals: int | None = None  # amount: digits required after the decimal separator
    order: str = "DMY"  # date: order of day, month, year
    years: tuple[int, int] = (1900, 2099)  # date: plausible years
    required: bool = True  # an empty field is flagged

    @property
    def kind(self) -> str:
        """strings.csv kind of the string read here: comb, box or line."""
        if self.cells:
            return "comb"
        return "line" if self.frame == "none" else "box"


@dataclass(frozen=True)
class Template:
    """A form: its name, the reference image of each blank page, and its fields."""

    name: str
    fields: tuple[FieldSpec, ...]
    references: tuple[Path, ...] = ()  # blank page images, one per template page
    path: Path | None = None

    @property
    def pages(self) -> int:
        return max([len(self.references)] + [f.page for f in self.fields])

    def page_of(self, page: int) -> int:
        """The template page a document page is: a one-page template fits every page of a
        stack, a two-page template alternates."""
        return (page - 1) % self.pages + 1

    def fields_on(self, template_page: int) -> list[FieldSpec]:
        return [f for f in self.fields if f.page == template_page]

    @property
    def columns(self) -> list[str]:
        """fields.csv columns after file and page."""
        return [c for f in self.fields for c in (f.name, f"{f.name}_confidence", f"{f.name}_flagged")]


def _fail(where: str, message: str) -> TemplateError:
    return TemplateError(f"{where}: {message}")


def _range(value, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        low = high = value
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        low, high = value
    else:
        raise _fail(where, f"expected a number or [min, max], got {value!r}")
    if not 0 <= low <= high:
        raise _fail(where, f"expected 0 <= min <= max, got {value!r}")
    return int(low), int(high)


def parse_field(raw: dict, where: str) -> FieldSpec:
    """A field from its YAML mapping; raises :class:`TemplateError` naming the bad key."""
    if not isinstance(raw, dict):
        raise _fail(where, "each field must be a mapping")
    known = set(FieldSpec.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)} (known: {sorted(known)})")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise _fail(where, f"name must be an identifier (letters, digits, _), got {name!r}")
    where = f"{where} ({name})"
    kind = raw.get("type")
    if kind not in TYPES:
        raise _fail(where, f"type must be one of {TYPES}, got {kind!r}")
    box = raw.get("box")
    if not (isinstance(box, (list, tuple)) and len(box) == 4
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
        raise _fail(where, f"box must be [x, y, w, h] fractions of the page, got {box!r}")
    x, y, w, h = (float(v) for v in box)
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
        raise _fail(where, f"box {box!r} is not inside the page (fractions 0..1)")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as err:
            raise _fail(where, f"pattern {pattern!r} is not a valid regex ({err})") from err
    check = raw.get("check")
    if check is not None and check not in CHECKS:
        raise _fail(where, f"check must be one of {CHECKS}, got {check!r}")
    frame = raw.get("frame", "auto")
    if frame not in FRAMES:
        raise _fail(where, f"frame must be one of {FRAMES}, got {frame!r}")
    cells = raw.get("cells", 0) or 0
    if not isinstance(cells, int) or cells < 0:
        raise _fail(where, f"cells must be a whole number, got {cells!r}")
    decimal = raw.get("decimal")
    if decimal not in (None, ".", ","):
        raise _fail(where, f'decimal must be "." or ",", got {decimal!r}')
    order = raw.get("order", "DMY")
    if order not in ORDERS:
        raise _fail(where, f"order must be one of {ORDERS}, got {order!r}")
    page = raw.get("page", 1)
    if not isinstance(page, int) or page < 1:
        raise _fail(where, f"page must be 1 or more, got {page!r}")
    decimals = raw.get("decimals")
    if decimals is not None and (not isinstance(decimals, int) or decimals < 0):
        raise _fail(where, f"decimals must be a whole number, got {decimals!r}")
    years = _range(raw.get("years", [1900, 2099]), f"{where} years")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise _fail(where, f"required must be true or false, got {required!r}")
    return FieldSpec(name=name, type=kind, box=(x, y, w, h), page=page, frame=frame, cells=cells,
                     length=_range(raw.get("length"), f"{where} length"),
                     pattern=None if pattern is None else str(pattern), check=check, decimal=decimal,
                     decimals=decimals, order=order, years=years, required=required)


def parse_template(raw: dict, base: Path | None = None, where: str = "template") -> Template:
    """A template from its parsed YAML; reference paths are relative to ``base``."""
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping with name, reference and fields")
    unknown = set(raw) - {"name", "reference", "fields", "description"}
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    fields = raw.get("fields")
    if not isinstance(fields, list) or not fields:
        raise _fail(where, "fields: expected a list of at least one field")
    specs = tuple(parse_field(f, f"{where} field {i + 1}") for i, f in enumerate(fields))
    names = [f.name for f in specs]
    if len(set(names)) != len(names):
        raise _fail(where, f"field names must be unique, got {names}")
    reserved = {"file", "page", "problems"}
    if reserved & set(names):
        raise _fail(where, f"field names {sorted(reserved & set(names))} are reserved")
    refs = raw.get("reference") or []
    refs = [refs] if isinstance(refs, str) else refs
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise _fail(where, "reference: expected a file name or a list of them")
    paths = tuple((base / r) if base is not None else Path(r) for r in refs)
    for path in paths:
        if not path.is_file():
            raise _fail(where, f"reference image {path} not found")
    if paths and max(f.page for f in specs) > len(paths):
        raise _fail(where, f"a field is on page {max(f.page for f in specs)} but only "
                           f"{len(paths)} reference images are given")
    return Template(name=str(raw.get("name") or "form"), fields=specs, references=paths)


@lru_cache(maxsize=8)
def load_template(path: Path) -> Template:
    """Read and check a template file (cached: every page of a batch uses the same one)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise TemplateError(f"{path}: cannot read ({err})") from err
    except yaml.YAMLError as err:
        raise TemplateError(f"{path}: not valid YAML ({err})") from err
    template = parse_template(raw, path.parent, str(path))
    return Template(template.name, template.fields, template.references, path)


# A cheque as a template: where its two fields are is found on each cheque (forms.cheque), so the
# boxes here are only priors; amounts need their cents (a lost decimal point is a 100x error).
CHEQUE = Template(name="cheque", fields=(
    FieldSpec(name="amount", type="amount", box=(0.55, 0.4, 0.45, 0.4), decimals=2),
    FieldSpec(name="date", type="date", box=(0.5, 0.0, 0.5, 0.35), years=(1950, 2049)),
))
