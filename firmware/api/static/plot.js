"use strict";
// The plot as SVG drawn at the element's own pixel width (so text stays at its CSS size on a
// phone): current per phase over the offered limit (a stepped band) in the upper panel,
// power in kW in the lower, one time axis in local time. Phases differ by dash and width,
// not only by colour, and the latest values are named at the right edge.

// Longer than two stored minutes without a point: the box was off, so the line breaks.
const GAP_S = 150;
const PHASES = [
  { key: "l1", colour: "#1d4ed8", width: 5, dash: "" },
  { key: "l2", colour: "#15803d", width: 3, dash: "8 4" },
  { key: "l3", colour: "#b45309", width: 2, dash: "2 3" },
];
const TICK_STEPS_S = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200];
const LEFT = 44, RIGHT = 100, TOP = 10, CURRENT_H = 150, GAP_H = 30, POWER_H = 70, AXIS_H = 22;

function niceStep(span, count) {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
}

function series(points, pick, x, y, t0) {
  let d = "";
  let last = null;
  for (const p of points) {
    const v = pick(p);
    if (v === null || v === undefined || !Number.isFinite(v) || p.t < t0) { last = null; continue; }
    const jump = last === null || p.t - last > GAP_S;
    d += `${jump ? "M" : "L"}${x(p.t).toFixed(1)},${y(v).toFixed(1)}`;
    last = p.t;
  }
  return d;
}

// The offered limit as steps: it changes at an instant, it does not ramp.
function steps(points, x, y, base, t0) {
  let d = "";
  let open = null;
  const close = () => { if (open !== null) d += `V${base}Z`; open = null; };
  for (const p of points) {
    if (p.offered_a === null || p.offered_a === undefined || p.t < t0) { close(); continue; }
    if (open !== null && p.t - open > GAP_S) close();
    d += open === null ? `M${x(p.t).toFixed(1)},${base}V${y(p.offered_a).toFixed(1)}`
      : `H${x(p.t).toFixed(1)}V${y(p.offered_a).toFixed(1)}`;
    open = p.t;
  }
  close();
  return d;
}

function timeTicks(t0, windowS, width, words) {
  const step = TICK_STEPS_S.find((s) => windowS / s <= Math.max(2, width / 90)) || 43200;
  const format = new Intl.DateTimeFormat(words.lang, { hour: "2-digit", minute: "2-digit" });
  const offset = new Date(t0 * 1000).getTimezoneOffset() * 60;
  const ticks = [];
  for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t0 + windowS; t += step) {
    ticks.push([t, format.format(new Date(t * 1000))]);
  }
  return ticks;
}

function latestLabels(points, x0, y, words) {
  const last = points[points.length - 1];
  if (!last) return "";
  const groups = new Map();
  (last.current_a || []).forEach((c, i) => {
    if (c === null || c === undefined) return;
    const value = Math.round(c * 10) / 10;
    groups.set(value, [...(groups.get(value) || []), `L${i + 1}`]);
  });
  let previous = -Infinity;
  return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([value, names]) => {
    const at = Math.max(previous + 13, y(value) + 4);
    previous = at;
    return `<text x="${x0 + 4}" y="${at.toFixed(1)}" class="end">${names.length === 3 ? "L1–3" : names.join(" ")} ${words.num(value)} A</text>`;
  }).join("");
}

// Draws into `svg`; returns how many points are in the window.
function drawPlot(svg, points, windowS, now, words) {
  const width = Math.max(280, Math.round(svg.clientWidth || 600));
  const height = TOP + CURRENT_H + GAP_H + POWER_H + AXIS_H;
  const t0 = now - windowS;
  const shown = points.filter((p) => p.t >= t0);
  const maxA = Math.max(16, ...shown.map((p) => Math.max(p.offered_a || 0, ...(p.current_a || []).map((c) => c || 0))));
  const maxKw = Math.max(1, ...shown.map((p) => (p.power_w || 0) / 1000));
  const stepA = niceStep(maxA, 4), stepKw = niceStep(maxKw, 2);
  const topA = Math.ceil(maxA / stepA) * stepA, topKw = Math.ceil(maxKw / stepKw) * stepKw;
  const plotW = width - LEFT - RIGHT;
  const x = (t) => LEFT + ((t - t0) / windowS) * plotW;
  const yA = (a) => TOP + CURRENT_H - (a / topA) * CURRENT_H;
  const powerTop = TOP + CURRENT_H + GAP_H;
  const yKw = (kw) => powerTop + POWER_H - (kw / topKw) * POWER_H;
  const grid = [];
  for (let a = 0; a <= topA + 1e-9; a += stepA) {
    grid.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${yA(a)}" y2="${yA(a)}" class="grid"/>` +
      `<text x="${LEFT - 4}" y="${yA(a) + 4}" class="ya">${words.num(a, 0)}</text>`);
  }
  for (let kw = 0; kw <= topKw + 1e-9; kw += stepKw) {
    grid.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${yKw(kw)}" y2="${yKw(kw)}" class="grid"/>` +
      `<text x="${LEFT - 4}" y="${yKw(kw) + 4}" class="ya">${words.num(kw, stepKw < 1 ? 1 : 0)}</text>`);
  }
  const axisY = powerTop + POWER_H;
  const ticks = timeTicks(t0, windowS, plotW, words).map(([t, label]) =>
    `<line x1="${x(t)}" x2="${x(t)}" y1="${TOP}" y2="${axisY + 4}" class="grid"/>` +
    `<text x="${x(t)}" y="${axisY + 17}" class="xa">${label}</text>`);
  const phases = PHASES.map((p, i) =>
    `<path data-series="${p.key}" d="${series(shown, (q) => (q.current_a || [])[i], x, yA, t0)}" fill="none"` +
    ` stroke="${p.colour}" stroke-width="${p.width}" stroke-dasharray="${p.dash}" stroke-linejoin="round"/>`);
  const power = series(shown, (q) => (q.power_w === null ? null : q.power_w / 1000), x, yKw, t0);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", String(height));
  svg.innerHTML = grid.join("") + ticks.join("") +
    `<path data-series="offered" d="${steps(shown, x, yA, TOP + CURRENT_H, t0)}" class="offered"/>` +
    phases.join("") +
    `<path data-series="power" d="${power}" fill="none" stroke="#7e22ce" stroke-width="2"/>` +
    `<text x="4" y="${TOP + 12}" class="title">A</text><text x="4" y="${powerTop + 12}" class="title">kW</text>` +
    latestLabels(shown, LEFT + plotW, yA, words);
  return shown.length;
}
