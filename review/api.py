"""JSON API of the review queue, decisions, page view and export, plus the results' image files."""
from __future__ import annotations

import json
import math
from urllib.parse import quote

from flask import Blueprint, abort, jsonify, request, send_file, url_for

from review.data import DigitKey, Snapshot, crop_relpath, parse_bool, parse_float, safe_file
from review.identity import Resolution, row_box, same_digit
from review.state import state
from review.store import DECISIONS, MAX_FILE_LEN, MAX_REVIEWER_LEN, Latest

bp = Blueprint("api", __name__)


def kid(key: DigitKey) -> str:
    """Opaque id of a digit for the browser."""
    return json.dumps(list(key), separators=(",", ":"), ensure_ascii=False)


def _num(value: str | None) -> float | None:
    out = parse_float(value)
    return None if math.isnan(out) else out


def _box(row: dict[str, str]) -> list[int] | None:
    try:
        return [int(float(row[c])) for c in ("x", "y", "w", "h")]
    except (KeyError, TypeError, ValueError):
        return None


def _alternatives(row: dict[str, str]) -> list[list]:
    out = []
    for label_col, conf_col in (("digit", "confidence"), ("alt1", "alt1_conf"), ("alt2", "alt2_conf")):
        label, conf = row.get(label_col, ""), _num(row.get(conf_col))
        if label and conf is not None:
            out.append([label, conf])
    return out


def crop_url(row: dict[str, str]) -> str | None:
    crop = row.get("crop", "")
    rel = crop_relpath(crop) if crop else ""
    if rel and safe_file(state().results_dir, rel, allowed=("flagged",)) is not None:
        return "/files/" + quote(rel)
    return None


def overlay_json(snap: Snapshot, file: str, page: int) -> dict:
    """The page's overlay URL and its scale (overlay pixels per page pixel; null if unknown)."""
    rel, scale = snap.overlays.get((file, page), (None, None))
    return {"overlay_url": "/files/" + quote(rel) if rel else None, "overlay_scale": scale}


def item_json(key: DigitKey, snap: Snapshot, latest: Latest | None) -> dict:
    row = snap.digits[key]
    string = snap.strings.get(key[:3], {})
    return {
        "kid": kid(key),
        "key": {"file": key[0], "page": key[1], "string_id": key[2], "index": key[3]},
        "digit": row.get("digit", ""),
        "confidence": _num(row.get("confidence")),
        "alternatives": _alternatives(row),
        "reason": row.get("flag_reason", ""),  # why it was flagged (empty in results before the column)
        "box": _box(row),
        "crop_url": crop_url(row),
        **overlay_json(snap, key[0], key[1]),
        "page_url": url_for("pages.page_view", file=key[0], page=key[1]),
        "string": {"text": string.get("text", ""), "box": _box(string) if string else None,
                   "confidence": _num(string.get("confidence"))},
        "decision": latest.as_json() if latest else None,
    }


def _progress(snap: Snapshot, resolution: Resolution, latest: dict[DigitKey, Latest]) -> dict:
    return {"total": len(snap.queue), "reviewed": sum(1 for k in snap.queue if k in latest),
            "stale": len(resolution.stale)}  # decisions whose digit a re-run no longer has


@bp.get("/api/queue")
def queue():
    st = state()
    snap, resolution = st.decisions()
    latest = resolution.applied
    items = [item_json(k, snap, latest.get(k)) for k in snap.queue]
    return jsonify(items=items, reviewer=st.reviewer, **_progress(snap, resolution, latest))


@bp.get("/api/decisions")
def decisions():
    st = state()
    snap, resolution = st.decisions()
    latest = resolution.applied
    return jsonify(decisions={kid(k): v.as_json() for k, v in latest.items()},
                   **_progress(snap, resolution, latest))


def _int(payload: dict, name: str, minimum: int) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        abort(400, f"'{name}' must be an integer >= {minimum}.")
    return value


def parse_key(payload: dict) -> DigitKey:
    file = payload.get("file")
    if not isinstance(file, str) or not 0 < len(file) <= MAX_FILE_LEN:
        abort(400, f"'file' must be a non-empty string of at most {MAX_FILE_LEN} characters.")
    return (file, _int(payload, "page", 1), _int(payload, "string_id", 0), _int(payload, "index", 0))


def parse_box(value: object) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 4 or \
            any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        abort(400, "'box' must be the digit's [x, y, w, h] as shown, or null.")
    return tuple(value)  # type: ignore[return-value]


def parse_reviewer(value: object, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        abort(400, "'reviewer' must be a string.")
    name = value.strip()
    if not 0 < len(name) <= MAX_REVIEWER_LEN or not name.isprintable():
        abort(400, f"'reviewer' must be 1-{MAX_REVIEWER_LEN} printable characters.")
    return name


@bp.post("/api/decisions")
def add_decision():
    st = state()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400, "Send a JSON object: {file, page, string_id, index, decision}.")
    key = parse_key(payload)
    decision = payload.get("decision")
    if decision not in DECISIONS:
        abort(400, "'decision' must be one digit 0-9, or '?' for not a digit.")
    seen = payload.get("seen")
    if seen is not None and (isinstance(seen, bool) or not isinstance(seen, int)):
        abort(400, "'seen' must be the id of the decision last seen, or null.")
    reviewer = parse_reviewer(payload.get("reviewer"), st.reviewer)
    shown = parse_box(payload.get("box"))
    snap = st.results.get()
    row = snap.digits.get(key)
    if row is None:
        abort(404, "No such digit in digits.csv.")
    box = row_box(row)
    if shown is not None and not same_digit(shown, box):  # the pipeline re-ran under the page
        abort(409, "The results changed since this page was loaded (the pipeline ran again): "
                   "reload the page and review the digit again.")
    saved, _ = st.store.add(
        st.dataset, key, decision, reviewer, model_digit=row.get("digit", "")[:1],
        crop=row.get("crop", ""), source=str(st.results_dir.resolve()), box=box, seen=seen)
    # The decision replaced is the one in force for this digit just before it, whichever key
    # it was recorded under (the store's answer only knows the key).
    _, resolution = st.decisions(snap)
    before = [d for d in resolution.history.get(key, []) if d.id < saved.id]
    superseded = before[-1] if before and before[-1].id != seen else None
    return jsonify(kid=kid(key), decision=saved.as_json(),
                   superseded=superseded.as_json() if superseded else None), 201


@bp.get("/api/page")
def page_data():
    st = state()
    file = request.args.get("file", "")
    try:
        page = int(request.args.get("page", ""))
    except ValueError:
        abort(400, "'page' must be an integer.")
    snap, resolution = st.decisions()
    latest = resolution.applied
    strings = [(k, r) for k, r in snap.strings.items() if k[:2] == (file, page)]
    digits = [(k, r) for k, r in snap.digits.items() if k[:2] == (file, page)]
    if not strings and not digits:
        abort(404, "No such file and page in the results.")
    return jsonify(
        file=file, page=page, **overlay_json(snap, file, page),
        strings=[{"string_id": k[2], "text": r.get("text", ""), "box": _box(r),
                  "confidence": _num(r.get("confidence")), "flagged": parse_bool(r.get("flagged"))}
                 for k, r in sorted(strings)],
        digits=[{"kid": kid(k), "string_id": k[2], "index": k[3], "digit": r.get("digit", ""),
                 "box": _box(r), "confidence": _num(r.get("confidence")),
                 "flagged": parse_bool(r.get("flagged")),
                 "decision": latest[k].as_json() if k in latest else None}
                for k, r in sorted(digits)])


@bp.post("/api/export")
def export():
    from review.export import ExportError, export_results

    st = state()
    try:
        summary = export_results(st.results_dir, st.db_url, store=st.store)
    except ExportError as err:
        abort(409, str(err))
    return jsonify(summary.as_json())


@bp.get("/files/<path:relpath>")
def files(relpath: str):
    path = safe_file(state().results_dir, relpath)
    if path is None:
        abort(404, "No such image in the results folder.")
    return send_file(path, max_age=0)
