"""The review web app: Flask factory, HTML pages and error answers."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from review import api, upload
from review.data import Results
from review.security import csrf_token, install_security
from review.state import ReviewState
from review.store import DecisionStore, dataset_id, default_db_url

MAX_UPLOAD_BYTES = 25 * 1024 * 1024

pages = Blueprint("pages", __name__)


@pages.get("/")
def queue_view():
    return render_template("queue.html")


@pages.get("/page")
def page_view():
    return render_template("page.html")


def _wants_json() -> bool:
    return (request.path.startswith("/api/") or request.is_json
            or request.accept_mimetypes.best == "application/json")


def _error(err: HTTPException):
    if _wants_json():
        return jsonify(error=err.name, message=err.description, status=err.code), err.code
    return render_template("error.html", error=err), err.code


def create_app(results_dir: Path, token: str, db_url: str | None = None,
               reviewer: str | None = None) -> Flask:
    """The review app for ``results_dir``; every request needs ``token`` (see review.security)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder not found: {results_dir}")
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    install_security(app, token)
    db_url = db_url or default_db_url(results_dir)
    app.extensions["review"] = ReviewState(
        results_dir=results_dir, results=Results(results_dir), store=DecisionStore(db_url),
        dataset=dataset_id(results_dir), reviewer=reviewer or "anonymous", db_url=db_url)
    app.register_blueprint(pages)
    app.register_blueprint(api.bp)
    app.register_blueprint(upload.bp)
    app.register_error_handler(HTTPException, _error)

    @app.context_processor
    def _globals() -> dict:
        st: ReviewState = app.extensions["review"]
        return {"csrf_token": csrf_token(), "default_reviewer": st.reviewer,
                "results_name": st.results_dir.resolve().name}

    return app
