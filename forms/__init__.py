"""Form fields: templates, registration, box and comb detection, field reading, rules, cheques.

Modules, one job each:

- ``template``: the YAML template model (fields, positions, types, rules) and its loader
- ``boxes``: single frames and comb fields found in the removed-lines mask of a page
- ``register``: aligning a scanned page with a template's blank reference image (ORB + RANSAC,
  refined on the printed frames)
- ``frame_lines``: a printed frame line's own pixels, told from pen strokes touching or lying on it
- ``regions``: where to read on a page (auto-detected boxes, template fields, cheque boxes) and
  the ink that belongs to each region, cut into digit marks
- ``rules``: what cannot be right (length, pattern, Luhn, impossible dates, amount layout) and
  the normalised value of a field (ISO dates, plain decimal amounts)
- ``cheque``: which of a cheque's strings is the courtesy amount and which the date
- ``reader``: the page reader's entry points: ``plan_page`` (regions to read, before
  segmentation) and ``assemble`` (one :class:`pipeline.results.FieldResult` per field, after)
- ``evaluate``: scoring fields.csv rows against field truth (benchmarks/fields.py)

Templates and fields.csv are documented with examples in ``samples/forms/README.md``.
"""
