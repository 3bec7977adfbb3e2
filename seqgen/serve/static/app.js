// seqgen playground: one panel per domain, plain DOM, SVG and WebAudio (no library, no CDN).
"use strict";

const CLIENT = Math.random().toString(36).slice(2, 12);  // one generation at a time per tab
const SVGNS = "http://www.w3.org/2000/svg";
const state = { limits: {}, audio: null };
// what the page's tests read: whether a piece started playing, and the AudioContext's state
window.seqgen = { audioStarted: false, notesScheduled: 0,
  audioState: () => (state.audio ? state.audio.state : "none") };

// ---- small helpers ---------------------------------------------------------------------------
function el(tag, attrs = {}, ...kids) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVGNS, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
  }
  for (const kid of kids) if (kid) node.append(kid);
  return node;
}

function slider(label, name, min, max, step, value, fmt = (v) => v) {
  const out = el("output", { text: fmt(value) });
  const input = el("input", { type: "range", name, min, max, step, value });
  input.addEventListener("input", () => { out.textContent = fmt(input.value); });
  return el("div", {}, el("label", {}, label, out), input);
}

function field(label, input) { return el("div", {}, el("label", { text: label }), input); }

function seedField() {
  const input = el("input", { type: "number", name: "seed", min: 0, placeholder: "random" });
  const dice = el("button", { type: "button", class: "small", title: "new seed", text: "\u2684",
    onclick: () => { input.value = Math.floor(Math.random() * 100000); } });
  return el("div", {}, el("label", { text: "Seed (same seed, same sample)" }),
            el("div", { class: "row" }, input, dice));
}

function formValues(form) {
  const out = {};
  for (const input of form.querySelectorAll("[name]")) {
    if (input.value === "" || input.disabled) continue;  // a greyed-out control is not asked
    const numeric = input.type === "range" || input.type === "number"
      || (input.dataset.numbers !== undefined && /^\d+$/.test(input.value));  // a style: N or name
    out[input.name] = numeric ? Number(input.value) : input.value;
  }
  return out;
}

async function errorOf(response) {
  try { return (await response.json()).error; } catch (e) { return `HTTP ${response.status}`; }
}

async function post(url, body) {
  return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify({ ...body, client: CLIENT }) });
}

// POST, then read the NDJSON events as they arrive; returns the closing event
async function stream(url, body, onEvent) {
  const response = await post(url, body);
  if (!response.ok) throw new Error(await errorOf(response));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "", last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, cut);
      buffered = buffered.slice(cut + 1);
      if (!line.trim()) continue;
      last = JSON.parse(line);
      if (last.type === "error") throw new Error(last.error);
      onEvent(last);
    }
    if (done) break;
  }
  if (!last || last.type !== "done") throw new Error("the server closed the stream early");
  return last;
}

async function fetchFile(id, format) {
  const response = await post("/api/render", { id, format });
  if (!response.ok) throw new Error(await errorOf(response));
  return response.blob();
}

function downloads(panel, box, id) {
  box.replaceChildren(el("span", { text: "Download" }));
  for (const r of panel.renderers) {
    const b = el("button", { class: "small", type: "button", title: r.description,
      text: r.suffix.slice(1).toUpperCase() });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const blob = await fetchFile(id, r.suffix);
        const a = el("a", { href: URL.createObjectURL(blob), download: `${panel.name}-sample${r.suffix}` });
        document.body.append(a); a.click(); a.remove();
      } catch (e) { box.dataset.error = e.message; } finally { b.disabled = false; }
    });
    box.append(b);
  }
}

// The common shape of a panel: a form on the left, the stage and its status on the right
function panelShell(panel, fields, buttonText, run) {
  const form = el("form", { class: "card controls" },
    el("h2", { text: panel.name }), el("p", { class: "desc", text: panel.description }),
    ...fields);
  const go = el("button", { class: "go", type: "submit", text: buttonText });
  form.append(go);
  const stage = el("div", { class: "card stage" });
  const status = el("div", { class: "status", role: "status" });
  const files = el("div", { class: "downloads" });
  const root = el("section", { class: "panel", id: `panel-${panel.name}`, "data-view": panel.view },
    form, el("div", { class: "output" }, stage, status, files));
  const ui = { panel, form, go, stage, status, files, root,
    say(text, bad = false) { status.textContent = text; status.classList.toggle("error", bad); } };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    go.disabled = true; files.replaceChildren(); ui.say("sampling\u2026");
    root.dataset.state = "running";
    try {
      const done = await run(ui, formValues(form));
      downloads(panel, files, done.id);
      root.dataset.state = "done";
    } catch (e) {
      ui.say(e.message, true); root.dataset.state = "error";
    } finally { go.disabled = false; }
  });
  return ui;
}

// ---- handwriting: points streamed, drawn as SVG paths as they arrive, a line per text line ----
// a saved style's state (the listing's style_states): the panel writes with the model primed
// with its lines, and, once fine-tuned on them in the background, with the tuned model
const STYLE_STATES = { tuned: ["tuned", "written with the model fine-tuned on your lines, primed with them"],
  tuning: ["tuning\u2026", "being fine-tuned on your lines; until then, primed with them"],
  "primed only": ["primed only", "written with the model primed with your lines"] };

function styleSelect(panel) {
  const style = el("select", { name: "style", id: "hw-style", "data-numbers": "" },
    el("option", { value: "", text: "the model's own" }));
  for (let i = 0; i < panel.styles; i++) style.append(el("option", { value: i, text: `writer ${i + 1}` }));
  const own = el("optgroup", { label: "your own hand", id: "hw-own" });
  const note = el("small", { class: "style-state", id: "hw-style-state", "aria-live": "polite" });
  let states = panel.style_states || {}, timer = null;
  const poll = () => {  // while a style is being tuned, ask again every few seconds
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        const listing = await (await fetch("/api/domains")).json();
        states = (listing.domains.find((d) => d.name === panel.name) || {}).style_states || states;
      } catch (e) { /* the next poll asks again */ }
      shown();
    }, 3000);
  };
  const shown = () => {
    const [text, title] = STYLE_STATES[states[style.value]] || ["", ""];
    note.textContent = text; note.title = title; note.dataset.state = states[style.value] || "";
    if (Object.values(states).includes("tuning")) poll();
  };
  style.addEventListener("change", shown);
  const addOwn = (names, saved = {}, chosen = null) => {
    own.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
    if (names.length && !own.parentNode) style.append(own);
    states = { ...states, ...saved };
    if (chosen !== null) style.value = chosen;
    shown();
  };
  addOwn(panel.saved_styles || []);
  const box = el("div", {}, el("label", {}, "Style", note), style);
  return { style, addOwn, box };
}

function inkLines(svg) {
  const rows = [];
  const row = (k) => {
    while (rows.length <= k) {
      const g = el("svg:g", { class: "line" });
      svg.append(g);
      rows.push({ g, x: 0, y: 0, path: null, d: "", box: [Infinity, Infinity, -Infinity, -Infinity] });
    }
    return rows[k];
  };
  const layout = () => {  // each line's box, stacked top to bottom
    const shown = rows.filter((r) => Number.isFinite(r.box[0]));
    const gap = 0.35 * Math.max(...shown.map((r) => r.box[3] - r.box[1]), 1);
    let top = 0, width = 1;
    for (const r of shown) {
      r.g.setAttribute("transform", `translate(${-r.box[0]} ${top - r.box[1]})`);
      top += r.box[3] - r.box[1] + gap; width = Math.max(width, r.box[2] - r.box[0]);
    }
    const pad = 0.06 * Math.max(width, top, 1);
    svg.setAttribute("viewBox", `${-pad} ${-pad} ${width + 2 * pad} ${Math.max(top - gap, 1) + 2 * pad}`);
    svg.classList.toggle("page", shown.length > 1);
  };
  return { rows, row, layout };
}

function handwriting(panel) {
  const example = (panel.examples || [])[0] || "hello world";
  const { addOwn, box } = styleSelect(panel);
  const fields = [
    field("Text (lines of any length: a page)", el("textarea", { name: "text", text: example,
      maxlength: state.limits.page_chars, rows: 3 })),
    slider("Bias (neater)", "bias", 0, 4, 0.1, panel.bias ?? 1),
    box, seedField()];
  let ui = null;
  if (panel.keeps_styles) {
    fields.splice(3, 0, el("button", { type: "button", class: "small pad-open", id: "pad-open",
      text: "\u270E Write in your own hand\u2026", onclick: () => openPad(panel, ui, (answer) => {
        addOwn(answer.styles, { [answer.saved]: answer.state }, answer.saved);
      }) }));
  }
  ui = panelShell(panel, fields, "Write", async (ui, values) => {
    const svg = el("svg:svg", { class: "ink", id: "hw-svg", preserveAspectRatio: "xMidYMid meet" });
    ui.stage.replaceChildren(svg);
    const ink = inkLines(svg);
    let n = 0;
    const done = await stream(`/api/generate/${panel.name}`, values, (ev) => {
      if (ev.type !== "points") return;
      const r = ink.row(ev.row || 0);
      for (const [dx, dy, end] of ev.points) {
        r.x += dx; r.y -= dy;  // the ink's y points up; the screen's down
        if (!r.path) { r.path = el("svg:path"); r.g.append(r.path); r.d = `M${r.x.toFixed(1)} ${r.y.toFixed(1)}`; }
        else r.d += `L${r.x.toFixed(1)} ${r.y.toFixed(1)}`;
        r.path.setAttribute("d", r.d);
        r.box[0] = Math.min(r.box[0], r.x); r.box[1] = Math.min(r.box[1], r.y);
        r.box[2] = Math.max(r.box[2], r.x); r.box[3] = Math.max(r.box[3], r.y);
        if (end > 0.5) r.path = null;
        n++;
      }
      ink.layout();
      ui.say(`writing\u2026 ${n} points`);
    });
    const lines = ink.rows.length > 1 ? `, ${ink.rows.length} lines` : "";
    const tuned = done.tuned ? " (the model tuned on your lines)" : "";
    ui.say(`${n} points, ${svg.querySelectorAll("path").length} strokes${lines} in ${done.seconds} s${tuned}`);
    return done;
  });
  return ui;
}

// ---- music: a piano roll and a small WebAudio synthesiser ----------------------------------
function audioContext() {
  if (!state.audio) state.audio = new (window.AudioContext || window.webkitAudioContext)();
  return state.audio;
}

function play(notes, drums, onEnd) {
  const ctx = audioContext();
  ctx.resume();
  const master = ctx.createGain();
  master.gain.value = 0.25;
  const filter = ctx.createBiquadFilter();
  filter.type = "lowpass"; filter.frequency.value = 3200;
  filter.connect(master); master.connect(ctx.destination);
  const t0 = ctx.currentTime + 0.08;
  let end = 0;
  for (const [start, stop, pitch, velocity] of notes) {
    const at = t0 + start, len = Math.max(0.05, stop - start), amp = 0.15 + 0.85 * velocity / 127;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(0.3 * amp, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.12 * amp, at + Math.min(0.3, len));
    gain.gain.setTargetAtTime(0, at + len, 0.06);
    gain.connect(filter);
    const osc = ctx.createOscillator();
    osc.type = drums ? "square" : "triangle";
    osc.frequency.value = 440 * Math.pow(2, (pitch - 69) / 12);
    osc.connect(gain); osc.start(at); osc.stop(at + len + 0.4);
    end = Math.max(end, start + len);
  }
  window.seqgen.audioStarted = true;
  window.seqgen.notesScheduled = notes.length;
  const timer = setTimeout(() => { master.disconnect(); onEnd(); }, (end + 0.6) * 1000);
  return { t0, end, stop() { clearTimeout(timer); master.disconnect(); onEnd(); } };
}

// soprano, alto, tenor, bass: four hues far apart, so that the voices read apart when they cross
const VOICE_COLOURS = ["#e8590c", "#2f9e44", "#1c7ed6", "#9c36b5"];

function voiceLegend() {
  const box = el("span", { class: "legend voices" });
  ["S", "A", "T", "B"].forEach((name, v) => {
    const swatch = el("svg:svg", { class: "swatch", viewBox: "0 0 1 1" },
      el("svg:rect", { x: 0, y: 0, width: 1, height: 1, rx: 0.2, fill: VOICE_COLOURS[v] }));
    box.append(el("span", { class: "voice", title: ["soprano", "alto", "tenor", "bass"][v] }, swatch, name));
  });
  return box;
}

function pianoRoll(notes, voices) {
  const svg = el("svg:svg", { class: "roll", id: "roll", preserveAspectRatio: "none" });
  if (!notes.length) return svg;
  const lo = Math.min(...notes.map((n) => n[2])) - 2, hi = Math.max(...notes.map((n) => n[2])) + 2;
  const end = Math.max(...notes.map((n) => n[1]), 1);
  svg.setAttribute("viewBox", `0 0 ${end} ${hi - lo + 1}`);
  for (let p = lo; p <= hi; p++) {
    if ([1, 3, 6, 8, 10].includes(p % 12)) {
      svg.append(el("svg:rect", { class: "black", x: 0, y: hi - p, width: end, height: 1 }));
    }
  }
  // by voice: the bass drawn first, the soprano last (on top, where two voices share a note)
  const order = notes.map((n, i) => i);
  if (voices) order.sort((a, b) => voices[b] - voices[a] || a - b);
  for (const i of order) {
    const [start, stop, pitch, velocity] = notes[i];
    const fill = voices ? VOICE_COLOURS[voices[i] % 4]
      : `hsl(${215 + (pitch % 12) * 6} 62% ${70 - 35 * velocity / 127}%)`;
    svg.append(el("svg:rect", { class: voices ? `note v${voices[i]}` : "note", x: start,
      y: hi - pitch + 0.1, width: Math.max(stop - start, 0.03), height: 0.8, fill }));
  }
  const head = el("svg:line", { class: "head", x1: 0, x2: 0, y1: 0, y2: hi - lo + 1,
    "vector-effect": "non-scaling-stroke", visibility: "hidden" });
  svg.append(head);
  return svg;
}

// "Harmonize a tune": a shipped tune or an uploaded file, for a model that takes one (four voices)
function tuneFields(panel) {
  if (!(panel.melodies || []).length) return null;
  const select = el("select", { name: "melody", id: "melody" },
    el("option", { value: "", text: "\u2014 compose freely \u2014" }));
  for (const name of panel.melodies) select.append(el("option", { value: name, text: name }));
  const file = el("input", { type: "file", id: "melody-file", accept: panel.melody_formats.join(",") });
  return { select, file, fields: [field("Harmonize a tune", select),
    el("div", { class: "upload" }, el("label", { for: "melody-file", text: "or upload MusicXML, MIDI or ABC" }), file)] };
}

async function melodyFile(file) {
  const limit = state.limits.upload_bytes;
  if (file.size > limit) throw new Error(`${file.name} is ${file.size} bytes: at most ${limit}`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { name: file.name, data: btoa(text) };
}

function music(panel) {
  const primer = el("select", { name: "primer" }, el("option", { value: "", text: "nothing (from silence)" }));
  for (const p of panel.primers) primer.append(el("option", { value: p, text: p }));
  const length = slider("Length (seconds)", "seconds", 5, state.limits.music_seconds, 1, 15);
  const tune = tuneFields(panel);
  const heat = slider("Temperature", "temperature", 0.1, 1.5, 0.05, panel.temperature ?? 1.0);
  const fields = [...(tune ? tune.fields : []), field("Start from", primer), length, heat,
    seedField()];
  let player = null;
  const ui = panelShell(panel, fields, "Compose", async (ui, values) => {
    if (player) player.stop();
    const upload = tune && tune.file.files.length ? tune.file.files[0] : null;
    if (upload) values.melody_file = await melodyFile(upload);
    const asked = values.melody || (upload && upload.name);
    const done = await stream(`/api/generate/${panel.name}`, values, (ev) => {
      if (ev.type === "progress") ui.say(`${asked ? "harmonizing" : "composing"}\u2026 ${ev.steps} steps`);
    });
    const notes = done.notes || [];
    const roll = pianoRoll(notes, done.voices);
    const button = el("button", { class: "small", type: "button", id: "play", text: "\u25B6 Play" });
    const legend = done.voices ? voiceLegend() : el("span", { class: "legend",
      text: "time \u2192, pitch \u2191; darker notes are louder" });
    ui.stage.replaceChildren(el("div", { class: "fill" }, roll,
      el("div", { class: "row under" }, button, legend)));
    const head = roll.querySelector(".head");
    button.addEventListener("click", () => {
      if (player) { player.stop(); return; }
      button.textContent = "\u25A0 Stop";
      player = play(notes, done.drums, () => {
        player = null; button.textContent = "\u25B6 Play"; head.setAttribute("visibility", "hidden");
      });
      const p = player;
      const tick = () => {
        if (player !== p) return;
        const t = audioContext().currentTime - p.t0;
        head.setAttribute("x1", t); head.setAttribute("x2", t); head.setAttribute("visibility", "visible");
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const what = done.melody ? `${asked} harmonized` : "composed";
    ui.say(`${notes.length} notes, ${notes.length ? Math.max(...notes.map((n) => n[1])).toFixed(1) : 0} s, ${what} in ${done.seconds} s`);
    if (notes.length) button.click();
    return done;
  });
  if (tune) {
    // a tune is the whole piece: its own start and length, so those controls rest meanwhile
    // the model's own temperature for each (harmonizing samples cooler), until the user moves it
    const knob = heat.querySelector("input");
    let moved = false;
    knob.addEventListener("input", () => { moved = true; });
    const update = () => {
      const given = tune.select.value !== "" || tune.file.files.length > 0;
      primer.disabled = given;
      length.querySelector("input").disabled = given;
      ui.go.textContent = given ? "Harmonize" : "Compose";
      if (!moved) {
        knob.value = given ? (panel.melody_temperature ?? panel.temperature) : panel.temperature;
        heat.querySelector("output").textContent = knob.value;
      }
    };
    ui.hint = "Press Compose, or choose a tune and press Harmonize: the alto, tenor and bass are written under it; the piece appears as a piano roll and plays here.";
    tune.select.addEventListener("change", () => { if (tune.select.value) tune.file.value = ""; update(); });
    tune.file.addEventListener("change", () => { if (tune.file.files.length) tune.select.value = ""; update(); });
  }
  return ui;
}

// ---- speech: the WAV in an audio element, the spectrogram PNG below -------------------------
function speech(panel) {
  const example = (panel.examples || [])[0] || "hello there.";
  const fields = [field("Sentence", el("input", { type: "text", name: "text", value: example,
      maxlength: state.limits.text_chars })), seedField()];
  return panelShell(panel, fields, "Speak", async (ui, values) => {
    const done = await stream(`/api/generate/${panel.name}`, values, (ev) => {
      if (ev.type === "progress") ui.say(`speaking\u2026 ${ev.steps} steps`);
    });
    ui.say("rendering the audio\u2026");
    const wav = await fetchFile(done.id, ".wav");
    const audio = el("audio", { controls: true, id: "speech-audio", src: URL.createObjectURL(wav) });
    const box = el("div", { class: "speech fill" }, audio);
    ui.stage.replaceChildren(box);
    audio.play().catch(() => {});
    const png = await fetchFile(done.id, ".png");
    box.append(el("img", { alt: "log-mel spectrogram", src: URL.createObjectURL(png) }));
    ui.say(`${done.frames || "?"} frames for \u201c${done.said || values.text || ""}\u201d, in ${done.seconds} s`);
    return done;
  });
}

// ---- text: a prime in, characters streaming out --------------------------------------------
function text(panel) {
  const fields = [field("Prime", el("textarea", { name: "prime", maxlength: state.limits.text_chars,
      placeholder: "start the text with\u2026" })),
    slider("Length (steps)", "length", 20, Math.min(state.limits.steps, 2000), 10, 300),
    slider("Temperature", "temperature", 0.05, 2, 0.05, 0.8),
    slider("Top-p", "top_p", 0.05, 1, 0.05, 0.95), seedField()];
  return panelShell(panel, fields, "Generate", async (ui, values) => {
    const pre = el("pre", { class: "text live", id: "text-out" });
    ui.stage.replaceChildren(pre);
    let n = 0;
    try {
      const done = await stream(`/api/generate/${panel.name}`, values, (ev) => {
        if (ev.type !== "text") return;
        if (n === 0 && values.prime && ev.text.startsWith(values.prime)) {
          pre.append(el("span", { class: "prime", text: values.prime }),
                     document.createTextNode(ev.text.slice(values.prime.length)));
        } else pre.append(document.createTextNode(ev.text));
        n += ev.text.length;
      });
      ui.say(`${done.steps} steps in ${done.seconds} s`);
      return done;
    } finally { pre.classList.remove("live"); }
  });
}

// ---- any other domain: its prime or text in, its renderers' files out -----------------------
function generic(panel) {
  const fields = [panel.conditioned
    ? field("Text", el("textarea", { name: "text", maxlength: state.limits.text_chars }))
    : field("Prime (optional)", el("input", { type: "text", name: "prime", maxlength: state.limits.text_chars })),
    slider("Length (steps)", "length", 10, state.limits.steps, 10, 200),
    slider("Temperature", "temperature", 0.05, 2, 0.05, 1.0), seedField()];
  return panelShell(panel, fields, "Sample", async (ui, values) => {
    const done = await stream(`/api/generate/${panel.name}`, values, (ev) => {
      if (ev.type === "progress") ui.say(`sampling\u2026 ${ev.steps} steps`);
    });
    const shown = done.text !== undefined
      ? el("pre", { class: "text", text: done.text })
      : el("p", { class: "hint", text: `Sampled ${done.steps} steps: download it as ${panel.default_render} (or another format) below.` });
    ui.stage.replaceChildren(shown);
    ui.say(`${done.steps} steps in ${done.seconds} s`);
    return done;
  });
}

const VIEWS = { handwriting, music, speech, text, generic };
const HINTS = { handwriting: "Type a text and press Write: the pen follows the model as it samples, a line per line of the text.",
  music: "Press Compose: a piece appears as a piano roll and plays here.",
  speech: "Type a sentence and press Speak.", text: "Give a prime (or none) and press Generate." };

function missing(panel) {
  return el("section", { class: "panel", id: `panel-${panel.name}`, "data-view": panel.view },
    el("div", { class: "card missing" }, el("h2", { text: panel.name }),
      el("p", { text: panel.problem || "no model" }),
      el("p", {}, "Train one, then restart the server: ", el("code", { text: `seqgen train --domain ${panel.name}` }))));
}

function show(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", b.dataset.name === name);
  for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === `panel-${name}`);
  history.replaceState(null, "", `#${name}`);
}

async function start() {
  const listing = await (await fetch("/api/domains")).json();
  state.limits = listing.limits;
  const main = document.getElementById("panels"), tabs = document.getElementById("tabs");
  main.replaceChildren();
  const order = ["handwriting", "music", "speech", "text"];
  const domains = listing.domains.sort((a, b) => ((order.indexOf(a.name) + 1) || 9) - ((order.indexOf(b.name) + 1) || 9));
  for (const panel of domains) {
    let node;
    if (panel.ready) {
      const ui = VIEWS[panel.view](panel);
      ui.stage.append(el("p", { class: "hint", text: ui.hint || HINTS[panel.view] || "Press Sample." }));
      node = ui.root;
    } else node = missing(panel);
    main.append(node);
    tabs.append(el("button", { role: "tab", "data-name": panel.name, onclick: () => show(panel.name) },
      el("span", { class: panel.ready ? "dot" : "dot off" }), panel.name));
  }
  const wanted = location.hash.slice(1);
  show(domains.some((d) => d.name === wanted) ? wanted : (domains.find((d) => d.ready) || domains[0]).name);
  const l = state.limits;
  document.getElementById("footer").textContent = `Everything runs on this machine. Limits: ${l.text_chars} characters, ${l.steps} steps, ${l.music_seconds} s of music, ${Math.round(l.upload_bytes / 1024)} KiB a tune, ${l.seconds} s a generation, ${l.workers} at once.`;
}

start().catch((e) => {
  document.getElementById("panels").replaceChildren(el("p", { class: "status error", text: `cannot load the page: ${e.message}` }));
});
