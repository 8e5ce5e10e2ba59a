// Review queue: keyboard-first decisions on flagged digits, worst first.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const NOT_A_DIGIT = "?";
  let items = [], pos = 0, pending = "", busy = false;
  const images = new Map();  // overlay url -> HTMLImageElement

  const label = (d) => (d === NOT_A_DIGIT ? "not a digit" : d);
  const current = () => items[pos];
  const reviewedCount = () => items.filter((it) => it.decision).length;

  function overlayImage(url, onload) {
    let img = images.get(url);
    if (!img) { img = new Image(); img.src = url; images.set(url, img); }
    if (img.complete && img.naturalWidth) onload(img); else img.addEventListener("load", () => onload(img), { once: true });
  }

  function drawString(item) {
    const canvas = $("string-canvas");
    const k = item.overlay_scale;  // overlay pixels per page pixel (overlays may be scaled down)
    if (!item.overlay_url || !item.string.box || k == null) { canvas.hidden = true; return; }
    const sb = item.string.box.map((v) => v * k), db = item.box && item.box.map((v) => v * k);
    overlayImage(item.overlay_url, (img) => {
      if (current() !== item) return;
      const mx = Math.max(4, Math.round(sb[3] * 0.5)), my = Math.max(3, Math.round(sb[3] * 0.12));
      const sx = Math.max(0, sb[0] - mx), sy = Math.max(0, sb[1] - my);
      const sw = Math.min(img.naturalWidth - sx, sb[2] + 2 * mx), sh = Math.min(img.naturalHeight - sy, sb[3] + 2 * my);
      if (sw <= 0 || sh <= 0) { canvas.hidden = true; return; }
      const scale = Math.min(560 / sw, 96 / sh, 4);
      canvas.width = Math.round(sw * scale); canvas.height = Math.round(sh * scale);
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = scale < 1;
      ctx.drawImage(img, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
      if (db) {
        ctx.strokeStyle = "#e8590c"; ctx.lineWidth = 3;
        ctx.strokeRect((db[0] - sx) * scale - 2, (db[1] - sy) * scale - 2, db[2] * scale + 4, db[3] * scale + 4);
      }
      canvas.hidden = false;
    });
  }

  function stringSpans(text, index, replacement) {
    const frag = document.createDocumentFragment();
    [...text].forEach((ch, i) => {
      if (i === index && replacement === NOT_A_DIGIT) return;
      const span = Review.el("span", { text: i === index && replacement != null ? replacement : ch });
      if (i === index) span.className = "mark";
      frag.append(span);
    });
    return frag;
  }

  function renderProgress() {
    const done = reviewedCount(), total = items.length;
    $("progress-text").textContent = `${done} / ${total} reviewed`;
    $("progress-bar").style.width = total ? `${(100 * done) / total}%` : "0";
  }

  function listItem(it, i) {
    return Review.el("li", { title: `${it.key.file} p.${it.key.page}`, onclick: () => go(i) },
      Review.el("span", { class: "q-digit" }), Review.el("span", { class: "q-conf", text: Review.pct(it.confidence) }));
  }

  function updateListItem(i) {  // one chip: cheap even with thousands queued
    const li = $("queue-list").children[i], it = items[i];
    if (!li) return;
    li.className = `${it.decision ? "done" : ""} ${i === pos ? "current" : ""}`;
    li.firstChild.textContent = it.decision ? label(it.decision.decision) : it.digit;
  }

  let shown = -1;  // the chip marked current
  function renderList() {
    const list = $("queue-list");
    if (list.children.length !== items.length) list.replaceChildren(...items.map(listItem));
    if (shown >= 0 && shown !== pos) updateListItem(shown);
    updateListItem(pos);
    shown = pos;
    list.children[pos]?.scrollIntoView({ block: "nearest" });
  }

  function renderAllChips() { items.forEach((_, i) => updateListItem(i)); }

  function renderPending() {
    $("pending").textContent = pending ? label(pending) : "·";
    $("pending").classList.toggle("set", !!pending);
    $("confirm-btn").disabled = !pending || busy;
  }

  function renderStatus(item) {
    const d = item.decision;
    $("status").textContent = d ? `Reviewed: ${label(d.decision)} by ${d.reviewer} at ${d.time.replace("T", " ")}` : "Not reviewed yet";
    $("status").className = `status ${d ? "ok" : ""}`;
  }

  function render() {
    renderProgress();
    $("empty").hidden = items.length > 0;
    $("card").hidden = items.length === 0;
    if (!items.length) { $("queue-list").replaceChildren(); return; }
    const item = current();
    const crop = $("crop");
    crop.hidden = !item.crop_url; $("no-crop").hidden = !!item.crop_url;
    if (item.crop_url) crop.src = item.crop_url; else crop.removeAttribute("src");
    $("position").textContent = `${pos + 1} of ${items.length}`;
    drawString(item);
    $("string-text").replaceChildren(stringSpans(item.string.text, item.key.index));
    $("string-after").replaceChildren();
    if (item.decision && item.decision.decision !== item.digit) {
      $("string-after").append("→ ", stringSpans(item.string.text, item.key.index, item.decision.decision));
    }
    const link = $("page-link");
    link.href = item.page_url; link.textContent = `${item.key.file} · page ${item.key.page} · string ${item.key.string_id}`;
    $("reason").textContent = item.reason ? `flagged: ${item.reason}` : "";
    $("alts").replaceChildren(...item.alternatives.map(([l, p], i) => Review.el("button", {
      type: "button", class: `alt ${i === 0 ? "model" : ""}`, title: i === 0 ? "the model's reading (a / Space)" : "choose",
      onclick: () => submit(l) }, Review.el("span", { class: "alt-label", text: label(l) }),
      Review.el("span", { class: "alt-p", text: Review.pct(p) }))));
    renderPending();
    renderStatus(item);
    renderList();
  }

  function go(i) {
    if (!items.length) return;
    pos = Math.max(0, Math.min(items.length - 1, i));
    pending = "";
    render();
  }

  function nextUndecided(from) {
    for (let k = 1; k <= items.length; k++) {
      const i = (from + k) % items.length;
      if (!items[i].decision) return i;
    }
    return -1;
  }

  async function submit(decision) {
    const item = current();
    if (!item || busy) return;
    busy = true; renderPending();
    try {
      const res = await Review.api("/api/decisions", { method: "POST", json: {
        ...item.key, box: item.box, decision, reviewer: Review.reviewer(),
        seen: item.decision ? item.decision.id : null } });
      item.decision = res.decision;
      updateListItem(items.indexOf(item));
      if (res.superseded && res.superseded.reviewer !== res.decision.reviewer) {
        Review.toast(`Replaced ${res.superseded.reviewer}'s reading "${label(res.superseded.decision)}" (both are kept; the latest counts).`, "warn");
      }
      pending = "";
      const nxt = nextUndecided(pos);
      pos = nxt >= 0 ? nxt : Math.min(pos + 1, items.length - 1);
      render();
      if (nxt < 0) Review.toast("Every flagged digit has been reviewed. Export when ready.", "ok");
    } catch (err) {
      Review.toast(`Not saved: ${err.message}`, "error");
    } finally {
      busy = false; renderPending();
    }
  }

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    const item = current();
    if (!item) return;
    const k = e.key;
    let handled = true;
    if (/^[0-9]$/.test(k)) pending = k;
    else if (k === "x" || k === "X" || k === "?") pending = NOT_A_DIGIT;
    else if (k === "Enter") { if (pending) submit(pending); else Review.toast("Type a digit (or x) first, or press a to accept.", "info"); }
    else if (k === "a" || k === " ") submit(item.digit);
    else if (k === "ArrowRight" || k === "ArrowDown" || k === "j") go(pos + 1);
    else if (k === "ArrowLeft" || k === "ArrowUp" || k === "k") go(pos - 1);
    else if (k === "n") { const i = nextUndecided(pos); if (i >= 0) go(i); }
    else if (k === "Escape" || k === "Backspace") pending = "";
    else handled = false;
    if (handled) { e.preventDefault(); renderPending(); }
  }

  async function refreshDecisions() {
    if (busy || document.hidden) return;
    try {
      const res = await Review.api("/api/decisions");
      let changed = false;
      for (const it of items) {
        const d = res.decisions[it.kid] || null;
        if ((d && d.id) !== (it.decision && it.decision.id)) { it.decision = d; changed = true; }
      }
      if (changed) { renderProgress(); renderStatus(current()); renderAllChips(); }
    } catch (_) { /* transient; next poll */ }
  }

  async function exportCsv() {
    const btn = $("export-btn");
    btn.disabled = true;
    try {
      const s = await Review.api("/api/export", { method: "POST", json: {} });
      const stale = s.stale ? ` ${s.stale} stale (their digit is gone since the pipeline ran again): not applied.` : "";
      Review.toast(`Exported: ${s.decisions} decisions applied, ${s.corrected} corrected, ${s.removed} not a digit.${stale}`,
        s.stale ? "warn" : "ok");
    } catch (err) {
      Review.toast(`Export failed: ${err.message}`, "error");
    } finally { btn.disabled = false; }
  }

  async function load() {
    try {
      const res = await Review.api("/api/queue");
      items = res.items;
      const wanted = decodeURIComponent(location.hash.slice(1));
      const focus = items.findIndex((it) => it.kid === wanted);
      pos = focus >= 0 ? focus : Math.max(0, items.findIndex((it) => !it.decision));
      render();
      renderAllChips();
      document.body.dataset.ready = "1";
    } catch (err) {
      $("progress-text").textContent = `Could not load the queue: ${err.message}`;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.addEventListener("keydown", onKey);
    // a clicked button keeps focus and would also answer Enter/Space: give the keys back to the queue
    document.addEventListener("click", (e) => e.target.closest && e.target.closest("button")?.blur());
    $("confirm-btn").addEventListener("click", () => pending && submit(pending));
    $("notdigit-btn").addEventListener("click", () => submit(NOT_A_DIGIT));
    $("export-btn").addEventListener("click", exportCsv);
    setInterval(refreshDecisions, 10000);
    load();
  });
})();
