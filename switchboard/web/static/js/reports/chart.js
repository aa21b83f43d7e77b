// Hand-written SVG charts of the reports: columns over time (offered and
// answered per interval or day, with the service level as a line on its own
// scale) and horizontal bars per queue or agent. The table beside each chart
// holds the same numbers for screen readers and keyboard users.

import { el, svg } from "../ui.js";

const W = 960;

/** The smallest of 1, 2, 5 x 10^n at least `x`. */
function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** A scale for values up to `max`: {top, ticks} with about 4 steps, whole steps for counts. */
export function scale(max, whole = true) {
  if (!(max > 0)) return { top: 1, ticks: [0, 1] };
  const step = Math.max(whole ? 1 : 0, niceStep(max / 4));
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return { top, ticks };
}

function title(text) {
  return svg("title", {}, text);
}

/**
 * Columns over time. series: [{key, label, cls, values}] drawn side by side;
 * line: {label, cls, values (0..1 or null)} on the right-hand 0-100% scale.
 * labels: the x labels; format(value) for the left axis; percent(value) for the right.
 */
export function columnChart({ labels, series, line, format, percent, titleText }) {
  const H = 300, left = 56, right = line ? 56 : 16, top = 16, bottom = 30;
  const plotW = W - left - right, plotH = H - top - bottom;
  const { top: max, ticks: marks } = scale(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0))));
  const y = (v) => top + plotH - (v / max) * plotH;
  const n = Math.max(1, labels.length);
  const slot = plotW / n;
  const barW = Math.max(1, Math.min(28, (slot * 0.8) / series.length));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img",
    "aria-label": titleText, preserveAspectRatio: "xMidYMid meet" });
  root.append(title(titleText));
  const grid = svg("g", { class: "grid" });
  for (const v of marks) {
    grid.append(svg("line", { x1: left, x2: left + plotW, y1: y(v), y2: y(v) }),
      svg("text", { x: left - 6, y: y(v) + 4, class: "axis-label", "text-anchor": "end" }, format(v)));
  }
  if (line) {
    for (const f of [0, 0.5, 1]) {
      grid.append(svg("text", { x: left + plotW + 6, y: top + plotH - f * plotH + 4, class: "axis-label" }, percent(f)));
    }
  }
  root.append(grid);
  const every = Math.ceil(n / 16); // at most 16 x labels
  labels.forEach((label, i) => {
    const x0 = left + i * slot + (slot - barW * series.length) / 2;
    series.forEach((s, j) => {
      const v = s.values[i] || 0;
      const rect = svg("rect", { x: x0 + j * barW, y: y(v), width: Math.max(1, barW - 1), height: Math.max(0, top + plotH - y(v)),
        class: `bar ${s.cls}` });
      rect.append(title(`${label}: ${s.label} ${format(v)}`));
      root.append(rect);
    });
    if (i % every === 0) {
      root.append(svg("text", { x: left + i * slot + slot / 2, y: top + plotH + 18, class: "axis-label", "text-anchor": "middle" }, label));
    }
  });
  if (line) {
    const pts = line.values.map((v, i) => (v === null || v === undefined ? null
      : [left + i * slot + slot / 2, top + plotH - v * plotH]));
    let d = "";
    let pen = false;
    for (const p of pts) {
      if (!p) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)} `;
      pen = true;
    }
    root.append(svg("path", { d: d.trim(), class: `line ${line.cls}`, fill: "none" }));
    pts.forEach((p, i) => {
      if (!p) return;
      const dot = svg("circle", { cx: p[0], cy: p[1], r: 3, class: `dot ${line.cls}` });
      dot.append(title(`${labels[i]}: ${line.label} ${percent(line.values[i])}`));
      root.append(dot);
    });
  }
  return root;
}

/** Horizontal bars per key: rows [{label, values: [v per series]}], series [{label, cls}]. */
export function barChart({ rows, series, format, titleText }) {
  const left = 200, right = 60, top = 8, rowH = 14 * series.length + 10;
  const H = top + rows.length * rowH + 8;
  const plotW = W - left - right;
  const { top: max } = scale(Math.max(0, ...rows.flatMap((r) => r.values.map((v) => v || 0))));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img", "aria-label": titleText });
  root.append(title(titleText));
  rows.forEach((r, i) => {
    const y0 = top + i * rowH;
    const name = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label;
    root.append(svg("text", { x: left - 8, y: y0 + rowH / 2 + 2, class: "axis-label", "text-anchor": "end" }, name));
    series.forEach((s, j) => {
      const v = r.values[j] || 0;
      const w = (v / max) * plotW;
      const rect = svg("rect", { x: left, y: y0 + 4 + j * 14, width: Math.max(v ? 1 : 0, w), height: 12, class: `bar ${s.cls}` });
      rect.append(title(`${r.label}: ${s.label} ${format(v)}`));
      root.append(rect, svg("text", { x: left + w + 4, y: y0 + 14 + j * 14, class: "value-label" }, format(v)));
    });
  });
  return root;
}

/** The chart's key as HTML beside the SVG (text that wraps and scales in any script). */
export function legend(items) {
  return el("ul", { class: "chart-legend" }, items.map((item) => el("li", {},
    el("span", { class: `swatch ${item.cls}`, "aria-hidden": "true" }), item.label)));
}

/**
 * The interval rows with the empty intervals between the first and the last
 * filled in (no contacts: zero counts, no service level), so the chart's time
 * axis is even. The report itself (table, downloads) lists only intervals
 * that had contacts.
 */
export function everyInterval(rows, q) {
  if (rows.length < 2) return rows;
  const step = Number(q.interval) * 60000;
  const local = new Intl.DateTimeFormat("en-CA", { timeZone: q.tz, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const key = (ms) => {
    const part = Object.fromEntries(local.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return `${part.year}-${part.month}-${part.day}T${part.hour}:${part.minute}:00`;
  };
  const byTime = new Map(rows.map((r) => [Date.parse(r.key), r]));
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const out = [];
  for (let at = times[0]; at <= times[times.length - 1] && out.length < 5000; at += step) {
    out.push(byTime.get(at) || { key: key(at), offered: 0, answered: 0, service_level: null });
  }
  return out;
}
