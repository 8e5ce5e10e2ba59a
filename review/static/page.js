// Page view: the page's overlay with the flagged digits marked, and its strings.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  function drawBoxes(img, digits, k) {
    const svg = $("boxes");
    svg.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    const stroke = Math.max(2, img.naturalWidth / 400);
    svg.replaceChildren(...digits.filter((d) => (d.flagged || d.decision) && d.box).map((d) => {
      const a = document.createElementNS(SVG, "a");
      a.setAttribute("href", "/#" + encodeURIComponent(d.kid));
      const r = document.createElementNS(SVG, "rect");
      const [x, y, w, h] = d.box.map((v) => v * k);
      Object.entries({ x: x - stroke, y: y - stroke, width: w + 2 * stroke, height: h + 2 * stroke,
        "stroke-width": stroke, class: d.decision ? "done" : "todo" }).forEach(([k, v]) => r.setAttribute(k, v));
      const t = document.createElementNS(SVG, "title");
      t.textContent = d.decision ? `reviewed: ${d.decision.decision}` : `model: ${d.digit} (${Review.pct(d.confidence)})`;
      r.append(t); a.append(r);
      return a;
    }));
  }

  async function load() {
    const q = new URLSearchParams(location.search);
    const file = q.get("file") || "", page = q.get("page") || "";
    $("page-title").textContent = `${file} · page ${page}`;
    let data;
    try {
      data = await Review.api(`/api/page?file=${encodeURIComponent(file)}&page=${encodeURIComponent(page)}`);
    } catch (err) { $("page-title").textContent = err.message; return; }
    const img = $("overlay");
    if (data.overlay_url) {
      if (data.overlay_scale != null) img.addEventListener("load", () => drawBoxes(img, data.digits, data.overlay_scale), { once: true });
      else $("no-overlay").textContent = "Page size unknown (no pages.csv): the flagged digits are the red boxes.";
      $("no-overlay").hidden = data.overlay_scale != null;
      img.src = data.overlay_url;
    } else { img.hidden = true; $("no-overlay").hidden = false; }
    $("strings-body").replaceChildren(...data.strings.map((s) => Review.el("tr", { class: s.flagged ? "flagged" : "" },
      Review.el("td", { text: String(s.string_id) }), Review.el("td", { class: "mono", text: s.text }),
      Review.el("td", { text: Review.pct(s.confidence) }), Review.el("td", { text: s.flagged ? "yes" : "" }))));
  }
  document.addEventListener("DOMContentLoaded", load);
})();
