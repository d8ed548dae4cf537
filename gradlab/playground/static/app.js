// gradlab playground: the page's state, its WebSocket to the server, the controls and the URL hash.
// The server (gradlab) trains; this file only sends settings and draws the frames it gets back (see draw.js).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SETTINGS = ["problem", "dataset", "classes", "noise", "train_ratio", "batch_size", "seed", "n_points",
    "features", "layers", "activation", "init", "lr", "optimizer", "regularization", "reg_rate", "dropout"];
  const NUMERIC = new Set(["classes", "noise", "train_ratio", "batch_size", "seed", "n_points", "lr", "reg_rate",
    "dropout"]);
  const SID_KEY = "gradlab-playground-session";

  let ws = null, expired = false, fatal = false;
  let hello = null, state = null, frame = null, weights = null, heat = null, thumbs = null;
  let history = [], hovered = null, neuron = null, playing = false, geometry = null, drawPending = false;
  let bannerTimer = null, bannerKind = "", lastHash = "", editing = null;
  const client = { showTest: false, discretize: false };

  // ------------------------------------------------------------------ messages
  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }
  function configure(update) { send({ type: "config", settings: update }); }

  function connect() {
    expired = false;
    const sid = sessionStorage.getItem(SID_KEY);
    const proto = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${proto}://${location.host}/ws${sid ? "?session=" + encodeURIComponent(sid) : ""}`);
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      onMessage(msg);
    };
    ws.onclose = (ev) => {
      setPlaying(false);
      if (expired || fatal || ev.code === 4000 || ev.code === 4001 || ev.code === 1013) return;
      banner("warning", "The connection to the server was lost; reconnecting\u2026");
      setTimeout(connect, 1500);
    };
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "hello": {
        hello = msg;
        sessionStorage.setItem(SID_KEY, msg.session);
        $("max-layers").textContent = msg.limits.max_layers;
        $("max-neurons").textContent = msg.limits.max_neurons;
        $("export-weights").href = `/api/sessions/${msg.session}/model.safetensors`;
        $("export-code").href = `/api/sessions/${msg.session}/model.py`;
        $("export-onnx").href = `/api/sessions/${msg.session}/model.onnx`;
        $("download-data").href = `/api/sessions/${msg.session}/data.csv`;
        if (!$("banner").classList.contains("error")) hideBanner();
        const h = readHash();
        if (!msg.resumed && Object.keys(h).length) configure(fromLink(h));
        break;
      }
      case "state":
        state = msg;
        history = msg.history.slice();
        hovered = null; neuron = null;
        if (!msg.diverged && bannerKind === "diverged") hideBanner();  // e.g. the learning rate was lowered
        closeWeightEditor();
        applyControls();
        writeHash();
        buildLayerButtons();
        scheduleDraw();
        break;
      case "frame": {
        frame = msg;
        send({ type: "ack", frame: msg.frame });
        heat = Draw.decodeBase64(msg.heatmap);
        const w = Draw.decodeBase64(msg.weights);
        weights = new Int8Array(w.buffer, w.byteOffset, w.length);
        if (msg.neuron) neuron = msg.neuron;
        thumbs = msg.thumbs ? Draw.decodeBase64(msg.thumbs) : null;
        if (!history.length || history[history.length - 1][0] !== msg.epoch) {
          history.push([msg.epoch, msg.train_loss, msg.test_loss]);
          if (history.length > 2000) history = history.filter((_, i) => i % 2 === 0);
        }
        showNumbers();
        scheduleDraw();
        break;
      }
      case "neuron": neuron = msg; scheduleDraw(); break;
      case "playing": setPlaying(msg.playing); break;
      case "paused": setPlaying(false); banner("warning", msg.reason, 15000, false, "diverged"); break;
      case "weight": showWeight(msg); break;
      case "error":
        if (msg.fatal) fatal = true;
        banner("error", msg.fatal ? `${msg.message}.` : msg.message, msg.fatal ? 0 : 8000, !!msg.fatal);
        if (state) applyControls();  // put the refused control back
        break;
      case "info": banner("info", msg.message, 6000); break;
      case "expired":
        expired = true;
        sessionStorage.removeItem(SID_KEY);
        setPlaying(false);
        banner("warning", msg.message, 0, true);
        break;
    }
  }

  // ------------------------------------------------------------------ the URL hash: the whole setup in a link
  function encodeValue(v) { return Array.isArray(v) ? v.join(",") : String(v); }
  function writeHash() {
    if (!state) return;
    const parts = SETTINGS.filter((k) => k in state.settings && !(k === "dataset" && state.settings[k] === "csv"))
      .map((k) => `${k}=${encodeURIComponent(encodeValue(state.settings[k]))}`);
    parts.push(`showTest=${client.showTest}`, `discretize=${client.discretize}`);
    lastHash = "#" + parts.join("&");
    if (location.hash !== lastHash) history_replace(lastHash);
  }
  function history_replace(hash) { window.history.replaceState(null, "", hash); }
  // a link describes the whole setup: what it leaves out takes the default, not the current value
  function fromLink(h) {
    const out = Object.assign({}, hello ? hello.defaults : {}, h);
    if (out.dataset === "csv" || (!("dataset" in h) && "problem" in h)) delete out.dataset;
    return out;
  }
  function readHash() {
    const out = {};
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      if (!part.includes("=")) continue;
      const [k, raw] = part.split("=");
      const v = decodeURIComponent(raw);
      if (k === "showTest" || k === "discretize") { client[k] = v === "true"; continue; }
      if (!SETTINGS.includes(k)) { out[k] = v; continue; }  // unknown: let the server say so
      if (k === "layers") out[k] = v === "" ? [] : v.split(",").map(Number);
      else if (k === "features") out[k] = v === "" ? [] : v.split(",");
      else if (NUMERIC.has(k)) out[k] = Number(v);
      else out[k] = v;
    }
    $("show-test").checked = client.showTest;
    $("discretize").checked = client.discretize;
    return out;
  }
  window.addEventListener("hashchange", () => {
    if (location.hash === lastHash) return;
    const h = readHash();
    if (Object.keys(h).length) configure(fromLink(h));
    scheduleDraw();
  });

  // ------------------------------------------------------------------ controls
  function applyControls() {
    const s = state.settings;
    document.querySelectorAll("[data-setting]").forEach((el) => {
      const k = el.dataset.setting, v = s[k];
      if (el.tagName === "SELECT" && el.dataset.type === "float") {
        const want = Number(v);
        let opt = Array.from(el.options).find((o) => Number(o.value) === want);
        if (!opt) { opt = new Option(String(v), String(v)); el.add(opt); }
        el.value = opt.value;
      } else el.value = String(v);
      const label = $(`${k}-value`);
      if (label) label.textContent = v;
    });
    $("classes-row").classList.toggle("hidden", !(s.dataset === "gauss" || s.dataset === "spiral"));
    buildDatasets();
    const n = s.layers.length;
    $("layers-label").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
    $("csv-note").textContent = state.csv || "";
    $("csv-link-note").classList.toggle("hidden", !state.csv);
    buildFeatureButtons();
  }

  function buildDatasets() {
    const box = $("datasets"), s = state.settings;
    const names = (s.problem === "regression" ? ["plane", "reg-gauss"] : ["circle", "xor", "gauss", "spiral"]);
    if (state.csv) names.push("csv");
    const key = names.join(",");
    if (box.dataset.key !== key) {
      box.innerHTML = "";
      for (const name of names) {
        const b = document.createElement("button"), c = document.createElement("canvas");
        b.type = "button"; b.id = `dataset-${name}`; b.dataset.name = name; b.title = name;
        b.setAttribute("role", "radio");
        b.setAttribute("aria-label", name === "csv" ? "Data set: your CSV file" : `Data set: ${name}`);
        c.width = 64; c.height = 64; c.setAttribute("aria-hidden", "true");
        Draw.thumb(c, name);
        b.appendChild(c);
        b.addEventListener("click", () => configure({ dataset: name }));
        box.appendChild(b);
      }
      box.dataset.key = key;
    }
    box.querySelectorAll("button").forEach((b) => {
      const on = b.dataset.name === s.dataset;
      b.classList.toggle("selected", on);
      b.setAttribute("aria-checked", String(on));
    });
  }

  function toggleFeature(name) {
    const cur = state.settings.features;
    configure({ features: cur.includes(name) ? cur.filter((f) => f !== name) : cur.concat([name]) });
  }
  function buildFeatureButtons() {
    const box = $("feature-buttons");
    if (!hello) return;
    if (!box.childElementCount) {
      for (const [name, label] of Object.entries(hello.features)) {
        const b = document.createElement("button");
        b.type = "button"; b.id = `feature-${name}`; b.dataset.name = name;
        b.setAttribute("aria-label", `Input feature ${label}`);
        b.addEventListener("click", () => toggleFeature(name));
        box.appendChild(b);
      }
    }
    box.querySelectorAll("button").forEach((b) => {
      const on = state.settings.features.includes(b.dataset.name);
      b.setAttribute("aria-pressed", String(on));
      b.title = `${hello.features[b.dataset.name]}: ${on ? "on (press to switch off)" : "off (press to switch on)"}`;
    });
  }
  function placeFeatureButtons() {
    if (!geometry) return;
    const k = canvasScale();
    $("feature-buttons").querySelectorAll("button").forEach((b, i) => {
      const slot = geometry.slots[i];
      if (!slot) return;
      const size = Math.max(slot.s, 14) / k;
      Object.assign(b.style, { left: `${slot.x / k - size / 2}px`, top: `${slot.y / k - size / 2}px`,
        width: `${size}px`, height: `${size}px` });
    });
  }
  function canvasScale() { const c = $("net"); return c.clientWidth ? c.width / c.clientWidth : 1; }

  function readControl(el) {
    const t = el.dataset.type, v = el.value;
    return t === "int" ? parseInt(v, 10) : t === "float" ? parseFloat(v) : v;
  }
  document.querySelectorAll("[data-setting]").forEach((el) => {
    el.addEventListener("change", () => configure({ [el.dataset.setting]: readControl(el) }));
    el.addEventListener("input", () => {
      const label = $(`${el.dataset.setting}-value`);
      if (label) label.textContent = el.value;
    });
  });

  function setLayers(layers) { configure({ layers }); }
  $("add-layer").onclick = () => {
    const l = state.settings.layers;
    setLayers(l.concat([l.length ? l[l.length - 1] : 4]));
  };
  $("remove-layer").onclick = () => setLayers(state.settings.layers.slice(0, -1));

  function buildLayerButtons() {
    const box = $("layer-buttons");
    box.innerHTML = "";
    state.settings.layers.forEach((n, i) => {
      const d = document.createElement("div");
      d.className = "lb"; d.dataset.layer = i + 1;
      const plus = document.createElement("button"), minus = document.createElement("button");
      plus.textContent = "+"; minus.textContent = "\u2212";
      plus.title = "Add a neuron"; minus.title = "Remove a neuron";
      plus.setAttribute("aria-label", `Add a neuron to hidden layer ${i + 1}`);
      minus.setAttribute("aria-label", `Remove a neuron from hidden layer ${i + 1}`);
      const change = (delta) => setLayers(state.settings.layers.map((m, j) => (j === i ? m + delta : m)));
      plus.onclick = () => change(1);
      minus.onclick = () => change(-1);
      const label = document.createElement("div");
      label.textContent = state.settings.layers.length > 4 ? String(n) : `${n} neuron${n === 1 ? "" : "s"}`;
      label.title = `${n} neuron${n === 1 ? "" : "s"}`;
      d.append(plus, minus, label);
      box.appendChild(d);
    });
  }
  function placeLayerButtons() {
    if (!geometry) return;
    const k = canvasScale();
    $("layer-buttons").querySelectorAll(".lb").forEach((d) => { d.style.left = `${geometry.xs[+d.dataset.layer] / k}px`; });
  }

  $("play").onclick = () => send({ type: playing ? "pause" : "play" });
  $("step").onclick = () => { send({ type: "pause" }); send({ type: "step" }); };
  $("reset").onclick = () => send({ type: "reset" });
  $("regenerate").onclick = () => send({ type: "regenerate" });
  $("banner-close").onclick = hideBanner;
  $("reconnect").onclick = () => {
    hideBanner(); fatal = false;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close();
    connect();
  };
  $("show-test").onchange = (e) => { client.showTest = e.target.checked; writeHash(); scheduleDraw(); };
  $("discretize").onchange = (e) => { client.discretize = e.target.checked; writeHash(); scheduleDraw(); };
  $("csv-file").onchange = (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const limit = hello ? hello.limits.max_csv_bytes : 1e6;
    if (file.size > limit) { banner("error", `The CSV file is too large (${file.size} bytes; the limit is ${limit}).`); return; }
    const reader = new FileReader();
    reader.onload = () => send({ type: "upload", csv: reader.result, problem: state ? state.settings.problem : "classification",
      scaling: $("csv-scaling").value });
    reader.readAsText(file);
    e.target.value = "";
  };

  function setPlaying(p) {
    playing = p;
    $("play").classList.toggle("playing", p);
    $("play").setAttribute("aria-pressed", String(p));
    $("play").setAttribute("aria-label", p ? "Pause" : "Play");
    $("play").innerHTML = p ? '<svg viewBox="0 0 24 24" width="26" height="26"><path d="M6 4h4v16H6z M14 4h4v16h-4z" ' +
      'fill="currentColor"/></svg>' : '<svg viewBox="0 0 24 24" width="26" height="26"><path d="M7 4l13 8-13 8z" ' +
      'fill="currentColor"/></svg>';
  }

  // a message over the page (it never pushes the page down); it goes away after `timeout` ms (0: stays)
  function banner(kind, text, timeout, reconnect, tag) {
    const b = $("banner");
    b.className = `banner ${kind}`;
    bannerKind = tag || kind;
    $("banner-text").textContent = text;
    $("reconnect").classList.toggle("hidden", !reconnect);
    clearTimeout(bannerTimer);
    if (timeout) bannerTimer = setTimeout(hideBanner, timeout);
  }
  function hideBanner() { $("banner").className = "banner hidden"; bannerKind = ""; clearTimeout(bannerTimer); }

  // ------------------------------------------------------------------ hover: one neuron's heatmap
  const net = $("net");
  const at = (e) => { const k = canvasScale(); return [e.offsetX * k, e.offsetY * k]; };
  net.addEventListener("mousemove", (e) => {
    if (!geometry) return;
    let hit = null;
    const [x, y] = at(e);
    geometry.boxes.forEach((col, l) => col.forEach((b, i) => {
      if (Math.abs(x - b.x) <= Math.max(b.s / 2, 4) && Math.abs(y - b.y) <= Math.max(b.s / 2, 3)) hit = [l, i];
    }));
    net.style.cursor = !hit && Draw.linkAt(geometry, x, y, 4) ? "pointer" : "default";
    if (JSON.stringify(hit) === JSON.stringify(hovered)) return;
    hovered = hit; neuron = null;
    send(hit ? { type: "neuron", layer: hit[0], index: hit[1] } : { type: "neuron", layer: null });
    scheduleDraw();
  });
  net.addEventListener("mouseleave", () => {
    if (hovered) { hovered = null; neuron = null; send({ type: "neuron", layer: null }); scheduleDraw(); }
  });
  // click a link: read its weight, edit it
  net.addEventListener("click", (e) => {
    if (!geometry || !hello) return;
    const [x, y] = at(e), link = Draw.linkAt(geometry, x, y, 5);
    if (!link) { closeWeightEditor(); return; }
    editing = link;
    send({ type: "weight", layer: link.layer, src: link.src, dst: link.dst });
    const form = $("weight-edit");
    form.style.left = `${Math.max(0, Math.min(e.offsetX + 8, net.clientWidth - 200))}px`;
    form.style.top = `${Math.max(e.offsetY - 40, 0)}px`;
  });
  function linkName(l) {
    const from = l.layer === 1 ? hello.features[state.settings.features[l.src]] : `neuron ${l.src + 1} of layer ${l.layer - 1}`;
    const to = l.layer === state.layer_sizes.length - 1 ? `output ${l.dst + 1}` : `neuron ${l.dst + 1} of layer ${l.layer}`;
    return `Weight from ${from} to ${to}`;
  }
  function showWeight(msg) {
    if (!editing || msg.layer !== editing.layer || msg.src !== editing.src || msg.dst !== editing.dst) return;
    $("weight-label").textContent = linkName(msg);
    $("weight-edit").classList.remove("hidden");
    const input = $("weight-value");
    if (document.activeElement !== input) { input.value = String(+msg.value.toPrecision(6)); input.focus(); input.select(); }
  }
  function closeWeightEditor() { editing = null; $("weight-edit").classList.add("hidden"); }
  $("weight-edit").addEventListener("submit", (e) => {
    e.preventDefault();
    if (!editing) return;
    send({ type: "weight", layer: editing.layer, src: editing.src, dst: editing.dst, value: Number($("weight-value").value) });
    $("weight-value").blur();
  });
  $("weight-close").onclick = closeWeightEditor;
  $("weight-edit").addEventListener("keydown", (e) => { if (e.key === "Escape") closeWeightEditor(); });
  window.addEventListener("resize", scheduleDraw);

  // ------------------------------------------------------------------ drawing
  function fmt(v) { return v === undefined || v === null ? "\u2013" : v.toFixed(3); }
  function showNumbers() {
    $("epoch").textContent = String(frame.epoch).padStart(6, "0").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    $("test-loss").textContent = fmt(frame.test_loss);
    $("train-loss").textContent = fmt(frame.train_loss);
    $("test-acc").textContent = frame.test_acc !== undefined ? `(accuracy ${(100 * frame.test_acc).toFixed(1)}%)` : "";
    $("train-acc").textContent = frame.train_acc !== undefined ? `(accuracy ${(100 * frame.train_acc).toFixed(1)}%)` : "";
  }
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; draw(); });
  }
  function mode() { return state.problem === "regression" ? "regression" : state.n_classes > 2 ? "multi" : "binary"; }

  function draw() {
    if (!state || !hello) return;
    const grid = hello.limits.grid, canvas = $("heatmap");
    const label = $("heat-label");
    if (hovered && neuron && neuron.layer === hovered[0] && neuron.index === hovered[1]) {
      Draw.heatmap(canvas, Draw.decodeBase64(neuron.heatmap), "neuron", grid, false);
      const where = hovered[0] === 0 ? `input ${state.settings.features[hovered[1]]}`
        : hovered[0] === state.layer_sizes.length - 1 ? `output ${hovered[1]}` : `layer ${hovered[0]}, neuron ${hovered[1] + 1}`;
      label.textContent = `${where}: colour scale \u00b1${neuron.scale.toPrecision(3)}`;
    } else {
      if (heat) Draw.heatmap(canvas, heat, mode(), grid, client.discretize); else Draw.blank(canvas);
      label.textContent = "";
    }
    Draw.points(canvas, state.train, state.problem, false);
    if (client.showTest) Draw.points(canvas, state.test, state.problem, true);
    const feats = Object.entries(hello.features).map(([k, lbl]) => [k, lbl, state.settings.features.includes(k)]);
    const sameShape = weights && frame && weights.length === expectedWeights();
    geometry = Draw.network(net, {
      features: feats, sizes: state.layer_sizes, weights: sameShape ? weights : null, hovered,
      thumbs: sameShape ? thumbs : null, thumbSize: frame ? frame.thumb_size : 0,
      outLabel: state.n_classes > 2 ? `${state.n_classes} classes (softmax)` : "output",
    });
    placeLayerButtons();
    placeFeatureButtons();
    Chart.loss($("curve"), history);
    Draw.grads($("grads"), frame ? frame.grad_norms : state.grad_norms);
    Draw.legend($("legend"), hovered ? "neuron" : mode(), state.n_classes);
    $("legend-text").textContent = mode() === "regression" || hovered ? "\u22121 \u2026 +1" : mode() === "binary" ? "class 0 \u2026 class 1" : "";
  }
  function expectedWeights() {
    let n = 0;
    for (let l = 1; l < state.layer_sizes.length; l++) n += state.layer_sizes[l] * state.layer_sizes[l - 1];
    return n;
  }

  readHash();
  connect();
})();
