// gradlab playground: drawing on canvases (heatmaps, points, network, curves, gradient flow). No state here:
// app.js calls these with what the server sent. Plain JavaScript, no build step.
"use strict";

const Draw = (() => {
  const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
  const PALETTE = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189], [214, 39, 40], [140, 86, 75]];
  const DOMAIN = 6;

  function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }
  // t in [-1, 1]: orange .. light grey .. blue
  function scale(t) { t = Math.max(-1, Math.min(1, t)); return t < 0 ? mix(MID, NEG, -t) : mix(MID, POS, t); }
  function css(c, a) { return `rgba(${c[0] | 0},${c[1] | 0},${c[2] | 0},${a === undefined ? 1 : a})`; }
  function classColor(k) { return PALETTE[k % PALETTE.length]; }

  function decodeBase64(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  const off = document.createElement("canvas"), tile = document.createElement("canvas");

  // bytes: Uint8Array of grid*grid values; mode: "binary" | "regression" | "multi" | "neuron"
  function heatmap(canvas, bytes, mode, grid, discretize) {
    off.width = grid; off.height = grid;
    const octx = off.getContext("2d"), img = octx.createImageData(grid, grid), d = img.data;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      let c;
      if (mode === "multi") {
        const conf = discretize ? 1 : (b & 31) / 31;
        c = mix(MID, classColor(b >> 5), 0.2 + 0.8 * conf);
      } else {
        let t = b / 127.5 - 1;  // binary: 2 P(class 1) - 1; regression and neurons: the value in [-1, 1]
        if (discretize && mode !== "neuron") t = t >= 0 ? 1 : -1;
        c = scale(t);
      }
      d[4 * i] = c[0]; d[4 * i + 1] = c[1]; d[4 * i + 2] = c[2]; d[4 * i + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  }

  function blank(canvas) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = css(MID);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }

  // pts: {x: [x1, x2, x1, x2, ...], y: [...]}
  function points(canvas, pts, problem, isTest) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.lineWidth = 1;
    ctx.strokeStyle = isTest ? "#000" : "#fff";
    for (let i = 0; i < pts.y.length; i++) {
      const px = (pts.x[2 * i] + DOMAIN) / (2 * DOMAIN) * W, py = (DOMAIN - pts.x[2 * i + 1]) / (2 * DOMAIN) * H;
      ctx.fillStyle = css(problem === "regression" ? scale(pts.y[i]) : classColor(pts.y[i]));
      ctx.beginPath();
      ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
  }

  // net: {features: [[name, label, active]], sizes: [n_in, ...hidden, n_out], weights: Int8Array|null,
  //       hovered: [layer, index]|null, nOutLabel}. Returns the neuron boxes for hit-testing and column centres.
  function network(canvas, net) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const nCols = net.sizes.length, left = 70, right = 50, top = 8, usable = H - 2 * top;
    const xs = [];
    for (let c = 0; c < nCols; c++) xs.push(left + (W - left - right) * (nCols === 1 ? 0.5 : c / (nCols - 1)));
    const boxes = [];  // boxes[layer][index] = {x, y, s}
    const layout = (n, x) => {
      const pitch = Math.min(usable / n, 46), s = Math.max(3, Math.min(30, pitch * 0.72));
      const y0 = top + (usable - pitch * n) / 2 + pitch / 2;
      return Array.from({ length: n }, (_, i) => ({ x, y: y0 + i * pitch, s }));
    };
    // inputs: all feature slots are shown; layer 0 of the network is the active ones, in order
    const slots = layout(net.features.length, xs[0]);
    boxes.push(slots.filter((_, i) => net.features[i][2]));
    for (let l = 1; l < nCols; l++) boxes.push(layout(net.sizes[l], xs[l]));
    // links
    if (net.weights) {
      let nLinks = 0;
      for (let l = 1; l < nCols; l++) nLinks += net.sizes[l] * net.sizes[l - 1];
      const maxW = nLinks > 2000 ? 1.5 : nLinks > 300 ? 3 : 6, skip = nLinks > 5000 ? 6 : 0;
      let base = 0;
      for (let l = 1; l < nCols; l++) {
        const nIn = net.sizes[l - 1], nOut = net.sizes[l];
        for (let o = 0; o < nOut; o++) {
          for (let i = 0; i < nIn; i++) {
            const q = net.weights[base + o * nIn + i];
            if (Math.abs(q) <= skip) continue;
            const a = boxes[l - 1][i], b = boxes[l][o];
            ctx.strokeStyle = css(q >= 0 ? POS : NEG, 0.75);
            ctx.lineWidth = 0.2 + Math.abs(q) / 127 * maxW;
            ctx.beginPath();
            const x0 = a.x + a.s / 2, x1 = b.x - b.s / 2, xm = (x0 + x1) / 2;
            ctx.moveTo(x0, a.y);
            ctx.bezierCurveTo(xm, a.y, xm, b.y, x1, b.y);
            ctx.stroke();
          }
        }
        base += nIn * nOut;
      }
    }
    // neurons
    const hov = net.hovered;
    // each neuron's picture (thumbnails: layer by layer, T*T bytes per neuron), when the boxes are big enough
    const T = net.thumbSize, th = net.thumbs;
    let k = 0;
    const picture = (b) => {
      if (!th || b.s < 8) { k++; return false; }
      tile.width = T; tile.height = T;
      const tctx = tile.getContext("2d"), img = tctx.createImageData(T, T), d = img.data;
      for (let p = 0; p < T * T; p++) {
        const c = scale(th[k * T * T + p] / 127.5 - 1);
        d[4 * p] = c[0]; d[4 * p + 1] = c[1]; d[4 * p + 2] = c[2]; d[4 * p + 3] = 255;
      }
      tctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(tile, b.x - b.s / 2, b.y - b.s / 2, b.s, b.s);
      k++;
      return true;
    };

    ctx.font = "11px sans-serif";
    ctx.textBaseline = "middle";
    slots.forEach((b, i) => {
      const [, label, active] = net.features[i];
      if (!active || !th) {
        ctx.fillStyle = active ? "#fff" : "#f2f2f2";
        ctx.fillRect(b.x - b.s / 2, b.y - b.s / 2, b.s, b.s);
      }
      ctx.setLineDash(active ? [] : [3, 2]);
      ctx.strokeStyle = active ? "#555" : "#bbb";
      ctx.lineWidth = 1;
      ctx.strokeRect(b.x - b.s / 2, b.y - b.s / 2, b.s, b.s);
      ctx.setLineDash([]);
      ctx.fillStyle = active ? "#333" : "#aaa";
      ctx.textAlign = "right";
      ctx.fillText(label, b.x - b.s / 2 - 3, b.y);
    });
    boxes[0].forEach(picture);
    for (let l = 1; l < nCols; l++) {
      boxes[l].forEach((b) => {
        if (!picture(b)) {
          ctx.fillStyle = "#fff";
          ctx.fillRect(b.x - b.s / 2, b.y - b.s / 2, b.s, b.s);
        }
        ctx.strokeStyle = l === nCols - 1 ? "#183d4e" : "#666";
        ctx.lineWidth = 1;
        ctx.strokeRect(b.x - b.s / 2, b.y - b.s / 2, b.s, b.s);
      });
    }
    if (hov && boxes[hov[0]] && boxes[hov[0]][hov[1]]) {
      const b = boxes[hov[0]][hov[1]];
      ctx.strokeStyle = "#000"; ctx.lineWidth = 3;
      ctx.strokeRect(b.x - b.s / 2 - 2, b.y - b.s / 2 - 2, b.s + 4, b.s + 4);
    }
    ctx.textAlign = "center"; ctx.fillStyle = "#555";
    const last = boxes[nCols - 1];
    if (last.length) ctx.fillText(net.outLabel || "output", xs[nCols - 1], Math.min(H - 6, last[last.length - 1].y + last[0].s / 2 + 10));
    return { boxes, slots, xs, sizes: net.sizes };
  }

  // the link (weight) nearest to (x, y) within `tol` canvas pixels: {layer, src, dst} or null
  function linkAt(geometry, x, y, tol) {
    let best = null, bestD = tol * tol;
    const bez = (p0, p1, p2, p3, t) => {
      const u = 1 - t;
      return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
    };
    for (let l = 1; l < geometry.boxes.length; l++) {
      const ins = geometry.boxes[l - 1], outs = geometry.boxes[l];
      for (let o = 0; o < outs.length; o++) {
        for (let i = 0; i < ins.length; i++) {
          const a = ins[i], b = outs[o], x0 = a.x + a.s / 2, x1 = b.x - b.s / 2, xm = (x0 + x1) / 2;
          if (x < x0 - tol || x > x1 + tol) continue;
          for (let k = 0; k <= 16; k++) {
            const t = k / 16, px = bez(x0, xm, xm, x1, t), py = bez(a.y, a.y, b.y, b.y, t);
            const d = (px - x) * (px - x) + (py - y) * (py - y);
            if (d < bestD) { bestD = d; best = { layer: l, src: i, dst: o }; }
          }
        }
      }
    }
    return best;
  }

  // norms: one value per weight matrix; log scale from 1e-8 to 1e2
  function grads(canvas, norms) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    if (!norms || !norms.length) return;
    const lo = -8, hi = 2, base = H - 18, topY = 14, n = norms.length;
    const bw = Math.min(50, (W - 40) / n * 0.6);
    ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1; ctx.fillStyle = "#999"; ctx.font = "9px sans-serif";
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (let e = lo; e <= hi; e += 2) {
      const y = base - (e - lo) / (hi - lo) * (base - topY);
      ctx.beginPath(); ctx.moveTo(30, y); ctx.lineTo(W, y); ctx.stroke();
      ctx.fillText(`1e${e}`, 0, y);
    }
    norms.forEach((v, i) => {
      const x = 40 + (W - 40) * (i + 0.5) / n;
      const e = typeof v === "number" && v > 0 && isFinite(v) ? Math.log10(v) : lo;
      const h = Math.max(1, (Math.min(Math.max(e, lo), hi) - lo) / (hi - lo) * (base - topY));
      ctx.fillStyle = e < -4 ? "#c0392b" : "#183d4e";
      ctx.fillRect(x - bw / 2, base - h, bw, h);
      ctx.fillStyle = "#333"; ctx.textAlign = "center"; ctx.font = "10px sans-serif";
      ctx.fillText(typeof v === "number" ? v.toExponential(1) : "\u2013", x, base - h - 7);
      ctx.fillStyle = "#777";
      ctx.fillText(i === n - 1 ? "W out" : `W${i + 1}`, x, H - 7);
    });
  }

  function legend(canvas, mode, nClasses) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    if (mode === "multi") {
      const w = W / nClasses;
      for (let k = 0; k < nClasses; k++) {
        ctx.fillStyle = css(classColor(k)); ctx.fillRect(k * w + 1, 0, w - 2, H);
        ctx.fillStyle = "#fff"; ctx.font = "10px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
        ctx.fillText(`class ${k}`, k * w + w / 2, H / 2);
      }
      return;
    }
    for (let x = 0; x < W; x++) { ctx.fillStyle = css(scale(x / (W - 1) * 2 - 1)); ctx.fillRect(x, 0, 1, H); }
  }

  // a small picture of each data set for the chooser (drawn here, no server round trip)
  function thumb(canvas, name) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    ctx.fillStyle = css(MID); ctx.fillRect(0, 0, W, H);
    let seed = 7;
    const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
    const pt = (x, y, c) => {
      ctx.fillStyle = css(c);
      ctx.fillRect((x + 6) / 12 * W - 1.5, (6 - y) / 12 * H - 1.5, 3, 3);
    };
    for (let i = 0; i < 160; i++) {
      const a = rnd() * 12 - 6, b = rnd() * 12 - 6, r = Math.hypot(a, b);
      if (name === "circle") pt(a, b, r < 2.5 ? POS : r > 3.5 ? NEG : MID);
      else if (name === "xor") pt(a, b, a * b >= 0 ? POS : NEG);
      else if (name === "gauss") { const s = i % 2 ? 1 : -1; pt(2 * s + (rnd() - 0.5) * 2.5, 2 * s + (rnd() - 0.5) * 2.5, s > 0 ? POS : NEG); }
      else if (name === "spiral") {
        const t = (i % 80) / 80, arm = i < 80 ? 0 : Math.PI, ang = 1.75 * t * 2 * Math.PI + arm;
        pt(5 * t * Math.sin(ang), 5 * t * Math.cos(ang), arm ? NEG : POS);
      } else if (name === "plane") pt(a, b, scale((a + b) / 10));
      else if (name === "reg-gauss") pt(a, b, scale(Math.sign(Math.sin(a * 0.8) * b) * Math.max(0, 1 - Math.abs(Math.abs(b) - 2.5) / 2)));
    }
    if (name === "csv") {
      ctx.fillStyle = "#183d4e"; ctx.font = "bold 16px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText("CSV", W / 2, H / 2);
    }
  }

  return { heatmap, blank, points, network, linkAt, grads, legend, thumb, decodeBase64, scale, classColor };
})();
