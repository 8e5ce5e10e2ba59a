// Shared helpers: token removal from the address bar, CSRF-protected JSON calls, reviewer name, toasts.
"use strict";
(() => {
  const url = new URL(window.location.href);
  if (url.searchParams.has("token")) {  // the session cookie carries on; keep the token out of history
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
})();

const Review = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";
  const csrf = meta("csrf-token");
  const KEY = "digitreview.reviewer";

  async function api(path, { method = "GET", json, body } = {}) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    const res = await fetch(path, { method, headers, body, credentials: "same-origin" });
    let data = null;
    try { data = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((data && data.message) || `${res.status} ${res.statusText}`);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function reviewer() {
    const input = document.getElementById("reviewer");
    return (input && input.value.trim()) || meta("default-reviewer") || "anonymous";
  }

  let toastTimer = null;
  function toast(message, kind = "info") {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = `toast ${kind}`;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
  }

  function pct(p) { return p == null ? "–" : `${(100 * p).toFixed(1)}%`; }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") node.style.cssText = v;  // CSSOM: allowed by the CSP, unlike the attribute
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = document.getElementById("reviewer");
    if (!input) return;
    input.value = localStorage.getItem(KEY) || meta("default-reviewer");
    input.addEventListener("change", () => localStorage.setItem(KEY, input.value.trim()));
    input.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === "Escape") input.blur(); });
  });

  return { api, reviewer, toast, pct, el };
})();
