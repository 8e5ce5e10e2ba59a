"""Review web app: access token, path safety, CSRF, input validation, decision storage."""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy (pip install SQLAlchemy)")

from review.app import create_app  # noqa: E402
from review.data import safe_file  # noqa: E402
from review.sample import make_sample_results  # noqa: E402
from review.server import add_review_arguments, review_main, start_server  # noqa: E402
from review.store import DecisionStore, dataset_id, default_db_url  # noqa: E402

TOKEN = "test-token-0123456789abcdef"
FIRST = {"file": "scans/a.png", "page": 1, "string_id": 1, "index": 1}  # worst digit ('?', 0.30)


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    return make_sample_results(tmp_path / "results")


@pytest.fixture()
def app(results: Path):
    return create_app(results, TOKEN)


def login(client) -> str:
    """Authenticate with the token; return the page's CSRF token."""
    html = client.get(f"/?token={TOKEN}").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture()
def client(app):
    c = app.test_client()
    c.csrf = login(c)
    return c


def post(client, path: str, json: dict, **headers):
    return client.post(path, json=json, headers={"X-CSRF-Token": client.csrf, **headers})


# --- access token ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/api/queue", "/static/review.css", "/upload",
                                  "/files/overlays/b.pdf__p2.jpg", "/nowhere"])
def test_nothing_served_without_token(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 403


def test_wrong_token_refused_even_with_session(client):
    assert client.get("/?token=wrong").status_code == 403
    assert client.get("/api/queue?token=" + TOKEN[:-1]).status_code == 403


def test_token_starts_a_session(app):
    c = app.test_client()
    assert c.get(f"/?token={TOKEN}").status_code == 200
    response = c.get("/api/queue")
    assert response.status_code == 200
    cookie = [h for h in response.headers.getlist("Set-Cookie")] or []
    assert all("SameSite=Strict" in h for h in cookie)


def test_session_of_another_server_is_refused(results):
    other = create_app(results, "another-token-9876543210")
    c = other.test_client()
    c.get("/?token=another-token-9876543210")
    cookie = c.get_cookie(other.config["SESSION_COOKIE_NAME"])
    mine = create_app(results, TOKEN).test_client()
    mine.set_cookie(other.config["SESSION_COOKIE_NAME"], cookie.value)
    assert mine.get("/api/queue").status_code == 403


def test_api_errors_are_json_and_pages_html(app):
    c = app.test_client()
    api = c.get("/api/queue")
    assert api.is_json and "token" in api.json["message"].lower()
    page = c.get("/", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and b"403" in page.data


def test_security_headers(client):
    response = client.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- files: no traversal --------------------------------------------------------------------

def test_serves_crops_and_overlays(client):
    item = client.get("/api/queue").json["items"][0]
    assert client.get(item["crop_url"]).status_code == 200
    assert client.get(item["overlay_url"]).mimetype == "image/jpeg"


@pytest.mark.parametrize("path", [
    "/files/flagged/../strings.csv", "/files/%2e%2e/strings.csv", "/files/flagged/..%2f..%2fetc%2fpasswd",
    "/files//etc/passwd", "/files/strings.csv", "/files/results.db", "/files/flagged/missing.png",
    "/files/flagged/%00.png", "/files/flagged\\..\\strings.csv", "/files/overlays/"])
def test_traversal_refused(client, path):
    response = client.get(path, follow_redirects=True)  # '//' is merged by a redirect first
    assert response.status_code in (403, 404), path
    assert b"file,page" not in response.data


def test_symlink_out_of_results_refused(client, results, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    (results / "flagged" / "link.png").symlink_to(secret)
    assert client.get("/files/flagged/link.png").status_code == 404
    assert safe_file(results, "flagged/link.png") is None


def test_malicious_crop_name_in_csv_is_not_served(results):
    digits = results / "digits.csv"
    digits.write_text(digits.read_text().replace("b.pdf__p2_s0_i2.png", "../../etc/passwd"))
    c = create_app(results, TOKEN).test_client()
    login(c)
    items = {i["digit"]: i for i in c.get("/api/queue").json["items"]}
    assert items["7"]["crop_url"] is None


# --- CSRF and origin ------------------------------------------------------------------------

def test_post_without_csrf_token_refused(client):
    response = client.post("/api/decisions", json={**FIRST, "decision": "4"})
    assert response.status_code == 403 and "CSRF" in response.json["message"]
    assert client.post("/api/export", json={}).status_code == 403


def test_post_with_wrong_csrf_token_refused(client):
    response = client.post("/api/decisions", json={**FIRST, "decision": "4"},
                           headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}])
def test_cross_origin_post_refused(client, headers):
    assert post(client, "/api/decisions", {**FIRST, "decision": "4"}, **headers).status_code == 403


def test_same_origin_post_accepted(client):
    response = post(client, "/api/decisions", {**FIRST, "decision": "4"},
                    Origin="http://localhost", **{"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 201


def test_token_in_query_authorises_scripted_post(app):
    c = app.test_client()  # no session: the secret token itself proves the caller
    response = c.post(f"/api/decisions?token={TOKEN}", json={**FIRST, "decision": "4"})
    assert response.status_code == 201


# --- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("payload, status", [
    ({**FIRST, "decision": "12"}, 400), ({**FIRST, "decision": "a"}, 400), ({**FIRST}, 400),
    ({**FIRST, "page": "1", "decision": "4"}, 400), ({**FIRST, "page": 0, "decision": "4"}, 400),
    ({**FIRST, "index": True, "decision": "4"}, 400), ({**FIRST, "file": "", "decision": "4"}, 400),
    ({**FIRST, "file": "x" * 600, "decision": "4"}, 400),
    ({**FIRST, "decision": "4", "reviewer": "x" * 65}, 400),
    ({**FIRST, "decision": "4", "reviewer": "bad\nname"}, 400),
    ({**FIRST, "decision": "4", "seen": "1"}, 400),
    ({**FIRST, "index": 9, "decision": "4"}, 404), ({**FIRST, "file": "other.png", "decision": "4"}, 404),
])
def test_bad_decisions_get_clear_4xx(client, payload, status):
    response = post(client, "/api/decisions", payload)
    assert response.status_code == status
    assert response.json["message"]


def test_non_json_body_refused(client):
    response = client.post("/api/decisions", data="decision=4",
                           headers={"X-CSRF-Token": client.csrf,
                                    "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


def test_page_api_validates(client):
    assert client.get("/api/page?file=b.pdf&page=x").status_code == 400
    assert client.get("/api/page?file=b.pdf&page=9").status_code == 404
    data = client.get("/api/page?file=b.pdf&page=2").json
    assert data["overlay_url"] and [s["text"] for s in data["strings"]] == ["907"]


def test_method_not_allowed(client):
    assert client.delete("/api/decisions", headers={"X-CSRF-Token": client.csrf}).status_code == 405


# --- queue and decisions --------------------------------------------------------------------

def test_queue_is_worst_first_with_context(client):
    data = client.get("/api/queue").json
    assert data["total"] == 4 and data["reviewed"] == 0
    items = data["items"]
    assert [i["confidence"] for i in items] == sorted(i["confidence"] for i in items)
    first = items[0]
    assert first["key"] == FIRST and first["digit"] == "?"
    assert first["string"]["text"] == "3?8"
    assert first["alternatives"] == [["?", 0.3], ["4", 0.25], ["9", 0.2]]
    assert first["reason"] == "not a digit" and items[1]["reason"] == "low confidence"
    assert first["page_url"].startswith("/page?")


def test_decision_is_stored(client, results):
    response = post(client, "/api/decisions", {**FIRST, "decision": "4", "reviewer": "alice"})
    assert response.status_code == 201
    assert response.json["decision"]["decision"] == "4" and response.json["superseded"] is None
    store = DecisionStore(default_db_url(results))
    latest = store.latest_for(dataset_id(results))
    key = ("scans/a.png", 1, 1, 1)
    assert latest[key].decision == "4" and latest[key].reviewer == "alice"
    assert client.get("/api/queue").json["reviewed"] == 1
    assert client.get("/api/decisions").json["decisions"]['["scans/a.png",1,1,1]']["decision"] == "4"


def test_default_reviewer_from_server(results):
    c = create_app(results, TOKEN, reviewer="carol").test_client()
    csrf = login(c)
    response = c.post("/api/decisions", json={**FIRST, "decision": "4"}, headers={"X-CSRF-Token": csrf})
    assert response.json["decision"]["reviewer"] == "carol"


def test_two_reviewers_same_digit_keep_both_latest_wins(app, results):
    a, b = app.test_client(), app.test_client()
    a.csrf, b.csrf = login(a), login(b)
    first = post(a, "/api/decisions", {**FIRST, "decision": "4", "reviewer": "alice"}).json
    # bob had loaded the queue before alice decided: he saw no decision
    second = post(b, "/api/decisions", {**FIRST, "decision": "9", "reviewer": "bob", "seen": None}).json
    assert second["superseded"]["id"] == first["decision"]["id"]
    assert second["superseded"]["reviewer"] == "alice"
    # alice decides again having seen bob's: no conflict reported
    third = post(a, "/api/decisions", {**FIRST, "decision": "9", "reviewer": "alice",
                                       "seen": second["decision"]["id"]}).json
    assert third["superseded"] is None
    store = app.extensions["review"].store
    history = store.history(app.extensions["review"].dataset, ("scans/a.png", 1, 1, 1))
    assert [(h.decision, h.reviewer) for h in history] == [("4", "alice"), ("9", "bob"), ("9", "alice")]


def test_concurrent_decisions_from_two_servers_are_all_kept(results):
    """Two review servers (two engines) on one SQLite file, two threads each posting at once."""
    apps = [create_app(results, TOKEN), create_app(results, TOKEN)]
    clients = []
    for app in apps:
        c = app.test_client()
        c.csrf = login(c)
        clients.append(c)
    keys = [i["key"] for i in clients[0].get("/api/queue").json["items"]]
    barrier = threading.Barrier(2)

    def work(n: int) -> list[int]:
        barrier.wait()
        statuses = []
        for i in range(20):
            payload = {**keys[i % len(keys)], "decision": str((n + i) % 10), "reviewer": f"r{n}"}
            statuses.append(post(clients[n], "/api/decisions", payload).status_code)
        return statuses

    with ThreadPoolExecutor(2) as pool:
        statuses = sum(pool.map(work, range(2)), [])
    assert statuses == [201] * 40
    store = apps[0].extensions["review"].store
    assert store.count() == 40
    latest = store.latest_for(apps[0].extensions["review"].dataset)
    for key in keys:
        history = store.history(apps[0].extensions["review"].dataset, tuple(key.values()))
        assert latest[tuple(key.values())].id == max(h.id for h in history)
    assert clients[1].get("/api/queue").json["reviewed"] == 4


def test_server_database_url(results, tmp_path):
    url = f"sqlite:///{tmp_path / 'server.db'}"
    c = create_app(results, TOKEN, db_url=url).test_client()
    c.csrf = login(c)
    assert post(c, "/api/decisions", {**FIRST, "decision": "4"}).status_code == 201
    assert DecisionStore(url).count() == 1
    assert not (results / "results.db").exists()


def test_queue_reloads_changed_csvs(client, results):
    assert client.get("/api/queue").json["total"] == 4
    digits = results / "digits.csv"
    text = digits.read_text().replace(",True,flagged/b.pdf__p2_s0_i2.png", ",False,")
    digits.write_text(text)
    os.utime(digits, ns=(1, 1))  # a different stamp even within the same clock tick
    assert client.get("/api/queue").json["total"] == 3


def test_upload_size_limit(app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    c = app.test_client()
    csrf = login(c)
    response = c.post("/api/classify", data=b"\0" * 4096,
                      headers={"X-CSRF-Token": csrf, "Content-Type": "image/png"})
    assert response.status_code == 413 and response.is_json


# --- command line ---------------------------------------------------------------------------

def test_start_server_prints_tokenised_address(results):
    server, url = start_server(results)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{20,}", url)
        assert server.server_port != 0
    finally:
        server.server_close()


def test_review_main_refuses_missing_results(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    add_review_arguments(parser)
    assert review_main(parser.parse_args([str(tmp_path / "none")])) == 2
    assert "no such results folder" in capsys.readouterr().err


def test_overlay_scale():
    from review.data import OVERLAY_MAX_SIDE, overlay_scale

    assert overlay_scale((300, 180), None) == 1.0  # smaller than the cap: not scaled
    assert overlay_scale((OVERLAY_MAX_SIDE, 1414), None) is None  # scaled by an unknown factor
    assert overlay_scale((OVERLAY_MAX_SIDE, 1414), (4000, 2828)) == 0.5  # pages.csv gives it
    assert overlay_scale(None, (10, 10)) is None


def test_page_sizes_from_manifest(client, results):
    (results / "pages.csv").write_text("file,page,width,height\nb.pdf,2,600,240\n")
    data = client.get("/api/page?file=b.pdf&page=2").json
    assert data["overlay_scale"] == 0.5
