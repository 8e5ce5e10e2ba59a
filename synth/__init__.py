"""Synthetic scans with ground truth, handwritten with MNIST *test* digits only.

Entry point: :func:`synth.generate.generate_set`. Modules, one job each:

- ``source``: the pool of MNIST test digits (legibility filter, records what was drawn)
- ``texts``: the strings people write (numbers, dates, amounts, phone numbers, sort codes)
- ``handwriting``: MNIST digits as pen strokes, hand-drawn separators, composed strings
- ``scribble``: cursive non-digit handwriting (signatures, payee names), never in the truth
- ``ink`` / ``printed`` / ``background``: paper and pens, printed text and frames, cheque guilloche
- ``layout``: page sizes, the page record and the writer that fits strings into fields
- ``form`` / ``cheque`` / ``ledger`` / ``crop``: the four page kinds
- ``scanner``: skew, light, blur, noise, specks, JPEG
- ``truth`` / ``output`` / ``attribution``: truth rows, image and PDF files, ATTRIBUTION.md
"""
