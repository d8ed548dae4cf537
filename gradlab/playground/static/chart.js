// gradlab playground: the loss chart (test and training loss by epoch, with axes and a legend). No state here.
"use strict";

const Chart = (() => {
  const TEST = "#222", TRAIN = "#9a9a9a";

  function niceStep(range, ticks) {
    const raw = range / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  }
  function label(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    return a >= 1000 ? v.toExponential(0) : a >= 1 ? String(+v.toFixed(1)) : String(+v.toPrecision(2));
  }

  // history: [[epoch, train_loss, test_loss], ...]
  function loss(canvas, history) {
    const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
    const left = 40, right = 8, top = 20, bottom = 22, pw = W - left - right, ph = H - top - bottom;
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    // legend, above the plot
    ctx.textBaseline = "middle"; ctx.textAlign = "left";
    [[TEST, "test loss", 0], [TRAIN, "training loss", 90]].forEach(([c, t, x]) => {
      ctx.strokeStyle = c; ctx.lineWidth = 2; ctx.beginPath(); ctx.moveTo(left + x, 8); ctx.lineTo(left + x + 16, 8);
      ctx.stroke(); ctx.fillStyle = "#555"; ctx.fillText(t, left + x + 20, 8);
    });
    const pts = history.filter((h) => isFinite(h[1]) && isFinite(h[2]) && h[1] !== null && h[2] !== null);
    let ymax = 0;
    for (const h of pts) ymax = Math.max(ymax, h[1], h[2]);
    if (!(ymax > 0)) ymax = 1;
    const ystep = niceStep(ymax, 3);
    ymax = Math.ceil(ymax / ystep) * ystep;
    const e0 = pts.length ? pts[0][0] : 0, e1 = pts.length ? Math.max(pts[pts.length - 1][0], e0 + 1) : 1;
    const X = (e) => left + (e - e0) / (e1 - e0) * pw, Y = (v) => top + ph - Math.min(v / ymax, 1) * ph;
    // axes, grid and tick labels
    ctx.strokeStyle = "#e4e4e4"; ctx.lineWidth = 1; ctx.fillStyle = "#666"; ctx.textAlign = "right";
    for (let v = 0; v <= ymax + 1e-12; v += ystep) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(W - right, y); ctx.stroke();
      ctx.fillText(label(v), left - 4, y);
    }
    const xstep = Math.max(1, niceStep(e1 - e0, 4));
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (let e = Math.ceil(e0 / xstep) * xstep; e <= e1; e += xstep) ctx.fillText(label(e), X(e), top + ph + 4);
    ctx.strokeStyle = "#999";
    ctx.beginPath(); ctx.moveTo(left + 0.5, top); ctx.lineTo(left + 0.5, top + ph + 0.5); ctx.lineTo(W - right, top + ph + 0.5);
    ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.fillStyle = "#888";
    ctx.fillText("epoch", W - right, 8);
    if (pts.length < 2) return;
    const line = (k, color) => {
      ctx.strokeStyle = color; ctx.lineWidth = 1.75; ctx.beginPath();
      pts.forEach((h, i) => { if (i === 0) ctx.moveTo(X(h[0]), Y(h[k])); else ctx.lineTo(X(h[0]), Y(h[k])); });
      ctx.stroke();
    };
    line(1, TRAIN);
    line(2, TEST);
  }

  return { loss };
})();
