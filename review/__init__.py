"""Human review of flagged digits: a small local web app, the export of decisions back into the
CSVs, and the corrections fed back to training. See review/README.md."""
from __future__ import annotations

from review.server import (add_export_arguments, add_review_arguments, export_main, review_main,
                           serve)


def create_app(*args, **kwargs):
    """Lazy alias of :func:`review.app.create_app` (keeps ``import review`` light)."""
    from review.app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app", "serve", "add_review_arguments", "review_main",
           "add_export_arguments", "export_main"]
