"""Templates: the sample templates load; bad ones fail with a message naming the problem."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from forms.template import Template, TemplateError, load_template, parse_template
from pipeline.results import FieldResult, PageResult

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "forms"
FIELD = {"name": "account", "type": "digits", "box": [0.3, 0.2, 0.4, 0.04], "cells": 10, "length": 10,
         "check": "luhn"}


@pytest.mark.parametrize("name", ["payment_slip", "meter_card"])
def test_sample_templates_load(name):
    template = load_template(SAMPLES / f"{name}.yaml")
    assert template.name == name and len(template.fields) == 5
    assert template.references[0].is_file()
    assert {f.type for f in template.fields} == {"digits", "amount", "date"}


def test_parse_field_values():
    t = parse_template({"name": "x", "fields": [FIELD, {"name": "when", "type": "date", "box": [0, 0, 0.5, 0.1],
                                                       "years": [2000, 2030], "required": False}]})
    account, when = t.fields
    assert account.length == (10, 10) and account.check == "luhn" and account.kind == "comb"
    assert when.years == (2000, 2030) and not when.required and when.kind == "box"
    assert t.columns[:3] == ["account", "account_confidence", "account_flagged"]


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown keys"),
    ({"type": "money"}, "type must be"),
    ({"box": [0.8, 0.2, 0.4, 0.04]}, "not inside the page"),
    ({"box": [0.1, 0.2]}, "box must be"),
    ({"check": "mod97"}, "check must be"),
    ({"pattern": "[0-9"}, "not a valid regex"),
    ({"length": [5, 3]}, "min <= max"),
    ({"name": "2nd"}, "identifier"),
    ({"decimal": ";"}, "decimal must be"),
])
def test_bad_fields_are_named(change, message):
    with pytest.raises(TemplateError, match=message):
        parse_template({"fields": [{**FIELD, **change}]})


def test_bad_templates(tmp_path):
    with pytest.raises(TemplateError, match="unique"):
        parse_template({"fields": [FIELD, FIELD]})
    with pytest.raises(TemplateError, match="reserved"):
        parse_template({"fields": [{**FIELD, "name": "page"}]})
    with pytest.raises(TemplateError, match="not found"):
        parse_template({"reference": "missing.png", "fields": [FIELD]}, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields: [unclosed")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template(bad)
    with pytest.raises(TemplateError, match="cannot read"):
        load_template(tmp_path / "none.yaml")


def test_multi_page_template(tmp_path):
    t = parse_template({"fields": [FIELD, {**FIELD, "name": "other", "page": 2}]})
    assert t.pages == 2 and [t.page_of(p) for p in (1, 2, 3, 4)] == [1, 2, 1, 2]
    assert [f.name for f in t.fields_on(2)] == ["other"]
    yaml_file = tmp_path / "t.yaml"
    yaml_file.write_text(yaml.safe_dump({"fields": [FIELD]}))
    assert isinstance(load_template(yaml_file), Template)


def test_field_rows():
    page = PageResult("a.png", 2, field_names=["account", "amount"],
                      fields=[FieldResult("account", "123", "123", 0.91234, True, ("3 digits, expected 10",), 1)])
    assert page.field_columns() == ["file", "page", "account", "account_confidence", "account_flagged",
                                    "amount", "amount_confidence", "amount_flagged", "problems"]
    (row,) = page.field_rows()
    assert row == {"file": "a.png", "page": 2, "account": "123", "account_confidence": 0.9123,
                   "account_flagged": True, "amount": "", "amount_confidence": "", "amount_flagged": "",
                   "problems": "account: 3 digits, expected 10"}
    assert PageResult("a.png", 1).field_rows() == []  # no template: no fields.csv rows
    assert PageResult("a.png", 1, error="bad", field_names=["x"]).field_rows() == []
