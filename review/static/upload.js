// Upload page: read a dropped page with the pipeline; classify a digit drawn with the mouse.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  async function postFile(path, field, blob, name) {
    const form = new FormData();
    form.append(field, blob, name);
    return Review.api(path, { method: "POST", body: form });
  }

  function showPages(data) {
    $("read-results").replaceChildren(...data.pages.map((p) => Review.el("figure", { class: "read-page" },
      Review.el("img", { src: p.overlay, alt: `overlay of page ${p.page}`, class: "read-overlay" }),
      Review.el("figcaption", { text: `Page ${p.page}` + (p.error ? ` — ${p.error}` : "") }),
      Review.el("table", { class: "strings" },
        Review.el("thead", {}, Review.el("tr", {}, ...["#", "Text", "Confidence", "Flagged"].map((h) => Review.el("th", { text: h })))),
        Review.el("tbody", {}, ...p.strings.map((s) => Review.el("tr", { class: s.flagged ? "flagged" : "" },
          Review.el("td", { text: String(s.string_id) }), Review.el("td", { class: "mono", text: s.text }),
          Review.el("td", { text: Review.pct(s.confidence) }), Review.el("td", { text: s.flagged ? "yes" : "" }))))))));
  }

  async function readFile(file) {
    if (!file) return;
    $("read-status").textContent = `Reading ${file.name}…`;
    $("read-status").className = "status";
    try {
      const data = await postFile("/api/read", "file", file, file.name);
      $("read-status").textContent = `${file.name}: ${data.pages.length} page(s)`;
      showPages(data);
    } catch (err) {
      $("read-status").textContent = err.message;
      $("read-status").className = "status error";
    }
  }

  function setupDrop() {
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); readFile(e.dataTransfer.files[0]); });
    $("file-input").addEventListener("change", (e) => readFile(e.target.files[0]));
  }

  function setupPad() {
    const pad = $("pad"), ctx = pad.getContext("2d");
    let drawing = false, last = null, timer = null;
    const clear = () => { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height); $("bars").replaceChildren(); $("mnist").hidden = $("mnist-label").hidden = true; $("classify-status").textContent = ""; };
    const at = (e) => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; };
    clear();
    ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.lineWidth = 18; ctx.strokeStyle = "#000";
    pad.addEventListener("pointerdown", (e) => { drawing = true; last = at(e); pad.setPointerCapture(e.pointerId); clearTimeout(timer); });
    pad.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      const p = at(e);
      ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
      last = p;
    });
    const end = () => { if (!drawing) return; drawing = false; clearTimeout(timer); timer = setTimeout(classify, 250); };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
    $("clear-btn").addEventListener("click", clear);

    async function classify() {
      const blob = await new Promise((ok) => pad.toBlob(ok, "image/png"));
      try {
        const res = await postFile("/api/classify", "image", blob, "digit.png");
        $("classify-status").textContent = `Best: ${res.best === "?" ? "not a digit" : res.best}`;
        $("classify-status").className = "status ok";
        $("mnist").src = res.input; $("mnist").hidden = $("mnist-label").hidden = false;
        const top = Math.max(...res.probabilities);
        $("bars").replaceChildren(...res.labels.map((l, i) => Review.el("div", { class: `bar-row ${res.probabilities[i] === top ? "best" : ""}` },
          Review.el("span", { class: "bar-label", text: l }),
          Review.el("span", { class: "bar-track" }, Review.el("span", { class: "bar-fill", style: `width:${(100 * res.probabilities[i]).toFixed(1)}%` })),
          Review.el("span", { class: "bar-p", text: Review.pct(res.probabilities[i]) }))));
      } catch (err) {
        $("classify-status").textContent = err.message;
        $("classify-status").className = "status error";
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => { setupDrop(); setupPad(); });
})();
