// Today's trend: contacts offered and answered per interval (bars, left axis)
// and the service level (line, right axis), hand-written SVG. The rows are
// the `interval` report's (GET /wallboard's `trend`); a data table beside it
// is the same figures for screen readers and keyboard users.

import { formatNumber, formatPercent, t } from "../i18n.js";
import { el, replace, svg } from "../ui.js";

const W = 480, H = 210;
const M = { left: 34, right: 46, top: 12, bottom: 28 };

/** Minutes since local midnight of a report key ("2025-03-01T09:30:00"). */
function minutesOf(key) {
  const [h, m] = key.slice(11, 16).split(":").map(Number);
  return h * 60 + m;
}

function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

export class TrendChart {
  /** `host`: the figure element; `table`: the tbody of the data table. */
  constructor(host, table) {
    this.host = host;
    this.table = table;
    this.key = "";
  }

  /** Draw `trend` ({from, interval_min, sl_threshold_s, rows}) up to `now` (POSIX s). */
  draw(trend, now) {
    if (!trend) return;
    const step = trend.interval_min;
    const current = Math.max(0, Math.floor((now - trend.from) / 60 / step));
    const bySlot = new Map(trend.rows.map((r) => [Math.floor(minutesOf(r.key) / step), r]));
    const first = Math.min(current - 7, ...bySlot.keys());
    const lo = Math.max(0, first), hi = Math.max(current, ...bySlot.keys());
    const key = JSON.stringify([lo, hi, trend.rows.map((r) => [r.key, r.offered, r.answered, r.service_level])]);
    if (key === this.key) return;  // nothing changed: no DOM work
    this.key = key;
    const slots = [];
    for (let s = lo; s <= hi; s += 1) slots.push(s);
    const maxOffered = niceMax(Math.max(0, ...trend.rows.map((r) => r.offered)));
    const iw = W - M.left - M.right, ih = H - M.top - M.bottom;
    const bw = iw / slots.length;
    const x = (i) => M.left + i * bw;
    const yCount = (v) => M.top + ih - (v / maxOffered) * ih;
    const ySl = (v) => M.top + ih - v * ih;
    const label = (s) => {
      const min = s * step;
      return `${String(Math.floor(min / 60)).padStart(2, "0")}:${String(min % 60).padStart(2, "0")}`;
    };
    const nodes = [];
    for (const f of [0, 0.5, 1]) {  // grid and axes labels
      const y = M.top + ih - f * ih;
      nodes.push(svg("line", { class: "grid", x1: M.left, x2: W - M.right, y1: y, y2: y }));
      nodes.push(svg("text", { class: "axis", x: M.left - 6, y: y + 4, "text-anchor": "end" }, formatNumber(f * maxOffered)));
      nodes.push(svg("text", { class: "axis sl", x: W - 2, y: y + 4, "text-anchor": "end" }, formatPercent(f, 0)));
    }
    const every = Math.max(1, Math.ceil(slots.length / 8));
    const points = [];
    slots.forEach((s, i) => {
      const r = bySlot.get(s);
      const offered = r ? r.offered : 0, answered = r ? r.answered : 0;
      const title = r
        ? t("{time}: {offered} offered, {answered} answered, service level {sl}",
          { time: label(s), offered: formatNumber(offered), answered: formatNumber(answered), sl: formatPercent(r.service_level) })
        : t("{time}: no contacts", { time: label(s) });
      const g = svg("g", { class: "slot" }, svg("title", {}, title));
      if (offered) {
        g.append(svg("rect", { class: "offered", x: x(i) + bw * 0.12, width: bw * 0.76, y: yCount(offered), height: yCount(0) - yCount(offered) }));
        g.append(svg("rect", { class: "answered", x: x(i) + bw * 0.28, width: bw * 0.44, y: yCount(answered), height: yCount(0) - yCount(answered) }));
      }
      nodes.push(g);
      if (i % every === 0) nodes.push(svg("text", { class: "axis", x: x(i) + bw / 2, y: H - 10, "text-anchor": "middle" }, label(s)));
      points.push(r && r.service_level !== null ? [x(i) + bw / 2, ySl(r.service_level)] : null);
    });
    let d = "";
    let pen = false;
    for (const p of points) {
      if (!p) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
      pen = true;
    }
    if (d) nodes.push(svg("path", { class: "sl-line", d }));
    for (const p of points) if (p) nodes.push(svg("circle", { class: "sl-dot", cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 3 }));
    const total = trend.rows.reduce((a, r) => a + r.offered, 0);
    const answered = trend.rows.reduce((a, r) => a + r.answered, 0);
    const chart = svg("svg", {
      class: "trend-svg", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "wb-trend-title wb-trend-desc",
      preserveAspectRatio: "xMidYMid meet",
    },
    svg("title", { id: "wb-trend-title" }, t("Contacts and service level by interval")),
    svg("desc", { id: "wb-trend-desc" }, t("Today: {offered} offered, {answered} answered, in {n} intervals of {minutes} minutes.",
      { offered: formatNumber(total), answered: formatNumber(answered), n: formatNumber(trend.rows.length), minutes: formatNumber(step) })),
    ...nodes);
    replace(this.host, chart);
    this.table.replaceChildren(...trend.rows.map((r) => el("tr", {},
      el("th", { scope: "row" }, r.key.slice(11, 16)),
      el("td", { class: "num" }, formatNumber(r.offered)),
      el("td", { class: "num" }, formatNumber(r.answered)),
      el("td", { class: "num" }, formatPercent(r.service_level)),
      el("td", { class: "num" }, r.asa_s === null ? "—" : formatNumber(r.asa_s, { maximumFractionDigits: 1 })))));
    this.host.dataset.slots = String(slots.length);
  }
}
