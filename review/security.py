"""Access token, session, CSRF and origin checks, and security headers.

- Nothing is served without the access token: ``?token=...`` on any request authenticates it and
  starts a session (signed cookie, HttpOnly, SameSite=Strict, name unique per server).
- Unsafe methods (POST...) from a session also need the session's CSRF token in the
  ``X-CSRF-Token`` header (or a ``csrf_token`` form field), and a same-origin ``Origin`` /
  ``Sec-Fetch-Site`` when the browser sends them.
"""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, g, request, session

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "X-CSRF-Token"
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and secrets.compare_digest(a.encode(), b.encode())  # type: ignore[union-attr]


def csrf_token() -> str:
    return session.get("csrf", "")


def _check_origin() -> None:
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in {"same-origin", "none"}:
        abort(403, "Cross-site request refused.")
    origin = request.headers.get("Origin")
    if origin is None:
        return
    expected = f"{request.scheme}://{request.host}"
    parts = urlsplit(origin)
    if origin == "null" or f"{parts.scheme}://{parts.netloc}" != expected:
        abort(403, "Request from another origin refused.")


def install_security(app: Flask, token: str) -> None:
    if len(token) < 16:
        raise ValueError("access token too short")
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="digitreview_" + hashlib.sha256(token.encode()).hexdigest()[:10],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )

    @app.before_request
    def _guard() -> None:
        given = request.args.get("token")
        g.token_auth = False
        if given is not None:
            if not _same(given, token):
                abort(403, "Wrong access token.")
            g.token_auth = True
            if not session.get("auth"):
                session.clear()
                session["auth"] = True
                session["csrf"] = secrets.token_urlsafe(32)
        elif not session.get("auth"):
            abort(403, "Access token required: open the address printed by `review` "
                       "(it ends with ?token=...).")
        if request.method not in SAFE_METHODS:
            _check_origin()
            if not g.token_auth:  # cookie-authenticated: needs the CSRF token too
                sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token")
                if not _same(sent, session.get("csrf")):
                    abort(403, "Missing or wrong CSRF token.")

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response
