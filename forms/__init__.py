"""Form fields: templates, registration, box and comb detection, field reading, rules, cheques.

Modules, one job each:

- ``template``: the YAML template model (fields, positions, types, rules) and its loader
- ``boxes``: single frames and comb fields found in the removed-lines mask of a page
- ``register``: aligning a scanned page with a template's blank reference image (ORB + RANSAC,
  refined on the printed frames)
- ``regions``: where to read on a page (auto-detected boxes, template fields, cheque boxes) and
  the ink that belongs to each region, cut into digit marks
- ``rules``: what cannot be right (length, pattern, Luhn, impossible dates, amount layout) and
  the normalised value of a field (ISO dates, plain decimal amounts)
- ``cheque``: which of a cheque's strings is the courtesy amount and which the date
- ``assemble``: one :class:`pipeline.results.FieldResult` per template field from the strings read
- ``evaluate``: scoring fields.csv-style results against field truth
"""
