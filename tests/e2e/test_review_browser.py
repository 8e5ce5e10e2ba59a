"""End to end: the real review server (in a thread, 127.0.0.1, free port) driven by Debian's
headless Chromium through Playwright. Never downloads a browser: set CHROMIUM to another binary."""
from __future__ import annotations

import csv
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="review needs SQLAlchemy (pip install SQLAlchemy)")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright missing: pip install playwright (no `playwright install`)")

from review.sample import make_sample_results  # noqa: E402
from review.server import serve_in_thread  # noqa: E402
from review.store import DecisionStore, dataset_id, default_db_url  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000

if not Path(CHROMIUM).is_file():
    pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, timeout=30_000)
        except Exception as err:  # an unusable binary is an environment problem, not a failure
            pytest.skip(f"Chromium at {CHROMIUM} did not start: {err}")
        yield b
        b.close()


@pytest.fixture()
def served(tmp_path):
    results = make_sample_results(tmp_path / "results")
    server, thread, url = serve_in_thread(results, reviewer="e2e")
    yield results, url
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    yield p
    context.close()


def open_queue(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']")


def progress(page, text: str) -> None:
    sync_api.expect(page.get_by_test_id("progress")).to_have_text(text)


def read_csv(path: Path) -> dict[tuple, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {(r["file"], r["page"], r["string_id"], r.get("index")): r for r in csv.DictReader(handle)}


def test_review_with_keyboard_then_export(page, served):
    results, url = served
    open_queue(page, url)
    assert "token=" not in page.url  # the token leaves the address bar
    progress(page, "0 / 4 reviewed")
    # worst first: '?' in 3?8 (0.30), '2' in 12/05 (0.41), '5' in 12/05 (0.55), '7' in 907 (0.62)
    sync_api.expect(page.locator("#string-text")).to_have_text("3?8")
    page.keyboard.press("4")
    sync_api.expect(page.get_by_test_id("pending")).to_have_text("4")
    page.keyboard.press("Enter")
    progress(page, "1 / 4 reviewed")
    sync_api.expect(page.locator("#string-text")).to_have_text("12/05")
    page.keyboard.press("x")  # not a digit
    page.keyboard.press("Enter")
    progress(page, "2 / 4 reviewed")
    page.keyboard.press("a")  # accept the model's '5'
    progress(page, "3 / 4 reviewed")
    sync_api.expect(page.locator("#string-text")).to_have_text("907")
    page.keyboard.press("ArrowLeft")
    sync_api.expect(page.locator("#string-text")).to_have_text("12/05")
    sync_api.expect(page.get_by_test_id("status")).to_contain_text("Reviewed: 5 by e2e")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("1")
    page.keyboard.press("Escape")  # changed my mind
    sync_api.expect(page.get_by_test_id("pending")).to_have_text("·")
    page.keyboard.press("9")
    page.keyboard.press("Enter")
    progress(page, "4 / 4 reviewed")
    page.get_by_role("button", name="Export CSVs").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Exported: 4 decisions applied")

    store = DecisionStore(default_db_url(results))
    latest = store.latest_for(dataset_id(results))
    assert {k: v.decision for k, v in latest.items()} == {
        ("scans/a.png", 1, 1, 1): "4", ("scans/a.png", 1, 0, 1): "?",
        ("scans/a.png", 1, 0, 4): "5", ("b.pdf", 2, 0, 2): "9"}
    assert {v.reviewer for v in latest.values()} == {"e2e"}
    store.close()
    strings = read_csv(results / "strings.csv")
    assert [strings[k]["text"] for k in sorted(strings)] == ["909", "1/05", "348"]
    assert {s["flagged"] for s in strings.values()} == {"False"}
    digits = read_csv(results / "digits.csv")
    assert digits[("b.pdf", "2", "0", "2")]["corrected_from"] == "7"
    assert (results / "digits.orig.csv").is_file()


def test_crop_and_string_excerpt_are_shown(page, served):
    _, url = served
    open_queue(page, url)
    # Poll from Python: wait_for_function evaluates a string, which the app's CSP (no eval) forbids.
    deadline = time.monotonic() + 10
    while page.evaluate("() => document.getElementById('crop').naturalWidth") == 0:
        assert time.monotonic() < deadline, "the crop image never loaded"
        page.wait_for_timeout(100)
    sync_api.expect(page.locator("#string-canvas")).to_be_visible()
    sync_api.expect(page.locator("#alts button")).to_have_count(3)
    page.locator("#page-link").click()
    page.wait_for_selector("#boxes rect")
    assert page.locator("#boxes rect").count() == 3  # the page's flagged digits


def test_two_browsers_do_not_lose_decisions(browser, served):
    results, url = served
    pages = []
    for name in ("alice", "bob"):
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        p = context.new_page()
        open_queue(p, url)
        p.fill("#reviewer", name)
        p.locator("#reviewer").blur()
        pages.append(p)
    alice, bob = pages
    alice.keyboard.press("4")
    alice.keyboard.press("Enter")
    progress(alice, "1 / 4 reviewed")
    bob.keyboard.press("9")  # bob still shows the digit as not reviewed
    bob.keyboard.press("Enter")
    sync_api.expect(bob.locator("#toast")).to_contain_text("Replaced alice's reading")
    store = DecisionStore(default_db_url(results))
    history = store.history(dataset_id(results), ("scans/a.png", 1, 1, 1))
    assert [(h.decision, h.reviewer) for h in history] == [("4", "alice"), ("9", "bob")]
    store.close()
    for p in pages:
        p.context.close()


def test_request_without_token_is_refused(page, served):
    _, url = served
    base = url.split("?")[0]
    response = page.goto(base)
    assert response.status == 403
    assert "Access token required" in page.content()
    assert page.goto(base + "?token=wrong").status == 403
    assert page.goto(base + "api/queue").status == 403
    with pytest.raises(urllib.error.HTTPError) as err:  # outside the browser too
        urllib.request.urlopen(base + "static/review.css", timeout=5)
    assert err.value.code == 403


def test_decision_from_a_page_loaded_before_a_rerun_is_refused(page, served):
    """The pipeline re-ran under an open page and gave the shown digit's key to another digit."""
    results, url = served
    open_queue(page, url)
    sync_api.expect(page.locator("#string-text")).to_have_text("3?8")  # string 1 of scans/a.png
    digits = results / "digits.csv"
    swap = {"scans/a.png,1,0,": "scans/a.png,1,1,", "scans/a.png,1,1,": "scans/a.png,1,0,"}
    lines = digits.read_text().splitlines(keepends=True)  # string ids 0 and 1 exchanged
    digits.write_text("".join(swap.get(line[:16], line[:16]) + line[16:] for line in lines))
    os.utime(digits, ns=(os.stat(digits).st_mtime_ns + 10**9,) * 2)
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#toast")).to_contain_text("Not saved: The results changed")
    progress(page, "0 / 4 reviewed")
    store = DecisionStore(default_db_url(results))
    assert store.count() == 0
    store.close()
