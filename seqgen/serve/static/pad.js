// The writing pad: a few lines to write by hand (mouse, pen or finger, through Pointer Events),
// sent to the server and saved as a style by name; the panel then writes any text in that hand.
// Loaded before app.js, whose helpers (el, post, errorOf, state) it uses when it is opened.
"use strict";

const STYLE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

// One line of the pad: its text (editable) over a canvas that records strokes of [x, y, t]
function padLine(prompt, limits) {
  const text = el("input", { type: "text", class: "pad-text", value: prompt,
    maxlength: limits.text_chars, "aria-label": "the text of this line" });
  const canvas = el("canvas", { class: "pad-canvas", "aria-label": `write: ${prompt}` });
  const line = { text, canvas, strokes: [], t0: null, points: 0 };
  const clear = el("button", { type: "button", class: "small", text: "Clear",
    onclick: () => { line.strokes = []; line.t0 = null; line.points = 0; redraw(line); } });
  line.node = el("div", { class: "pad-line" }, el("div", { class: "row" }, text, clear), canvas);
  let current = null;
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [Math.round((e.clientX - r.left) * 10) / 10, Math.round((e.clientY - r.top) * 10) / 10,
      Math.round(e.timeStamp - line.t0)];
  };
  const add = (e) => {
    const p = point(e), last = current[current.length - 1];
    if (last && last[0] === p[0] && last[1] === p[1]) return;
    if (line.points >= limits.style_points) return;  // the server's cap: more is not kept
    current.push(p); line.points++;
  };
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    if (line.t0 === null) line.t0 = e.timeStamp;
    current = [];
    line.strokes.push(current);
    add(e); redraw(line);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!current) return;
    const all = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const c of (all.length ? all : [e])) add(c);
    redraw(line);
  });
  const end = () => {
    if (current && !current.length) line.strokes.pop();
    current = null;
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  return line;
}

function redraw(line) {
  const c = line.canvas, dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
  }
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#d9d5cc"; ctx.lineWidth = 1; ctx.setLineDash([4, 4]);
  ctx.beginPath(); ctx.moveTo(8, h * 0.72); ctx.lineTo(w - 8, h * 0.72); ctx.stroke();
  ctx.setLineDash([]); ctx.strokeStyle = "#1d2430"; ctx.lineWidth = 2.2;
  ctx.lineCap = "round"; ctx.lineJoin = "round";
  for (const s of line.strokes) {
    if (!s.length) continue;
    ctx.beginPath(); ctx.moveTo(s[0][0], s[0][1]);
    for (const [x, y] of s.length > 1 ? s.slice(1) : [[s[0][0] + 0.1, s[0][1]]]) ctx.lineTo(x, y);
    ctx.stroke();
  }
}

// Open the pad in the panel's stage; onSaved(answer) when the server has saved the style
function openPad(panel, ui, onSaved) {
  const limits = state.limits;
  const lines = (panel.prompts || []).map((p) => padLine(p, limits));
  const name = el("input", { type: "text", id: "pad-name", maxlength: 40,
    placeholder: "a name for your hand", "aria-label": "style name" });
  const say = el("div", { class: "status", id: "pad-status", role: "status" });
  const save = el("button", { type: "button", class: "small primary", id: "pad-save", text: "Save style" });
  const box = el("div", { class: "pad fill", id: "hw-pad" },
    el("p", { class: "hint", text: "Write each line in the box under it, with a mouse, a pen or a finger. Save them under a name: the panel then writes any text in your hand." }),
    ...lines.map((l) => l.node), el("div", { class: "row" }, name, save), say);
  ui.stage.replaceChildren(box);
  ui.say(""); ui.files.replaceChildren();  // the last sample's figures and downloads
  for (const l of lines) redraw(l);
  save.addEventListener("click", async () => {
    const written = lines.filter((l) => l.strokes.length && l.text.value.trim())
      .map((l) => ({ text: l.text.value.trim(), strokes: l.strokes }));
    const bad = (text) => { say.textContent = text; say.classList.add("error"); };
    if (!written.length) return bad("write at least one line first");
    if (!STYLE_NAME.test(name.value) || /^\d+$/.test(name.value)) {
      return bad("a name of letters, digits, - and _ (up to 40), not a number alone");
    }
    save.disabled = true; say.classList.remove("error"); say.textContent = "saving\u2026";
    try {
      const response = await post(`/api/styles/${panel.name}`, { name: name.value, lines: written });
      if (!response.ok) throw new Error(await errorOf(response));
      const answer = await response.json();
      onSaved(answer);
      say.textContent = `saved \u201c${answer.saved}\u201d (${answer.lines} lines): chosen in Style; type a text and press Write`;
      box.dataset.saved = answer.saved;
    } catch (e) { bad(e.message); } finally { save.disabled = false; }
  });
  return box;
}
