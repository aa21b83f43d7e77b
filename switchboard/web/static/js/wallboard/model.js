// The wallboard's rules that the server also applies (switchboard/server/wallboard.py):
// an agent's presence, and a figure's threshold level. The server sends both
// in every snapshot; the page applies them itself only between snapshots
// (an agent_state event, the longest wait ticking), so the two agree.

/** Which way is bad, per watched figure (server: FIGURES). */
export const FIGURES = {
  service_level: "below", asa_s: "above", abandon_rate: "above",
  longest_wait_s: "above", waiting: "above",
};

/** The presences, in board order (server: PRESENCES). */
export const PRESENCES = ["available", "reserved", "busy", "wrapup", "not_ready", "offline"];

/** offline; else the system's state when not idle; else the chosen status. */
export function presence(status, state) {
  if (status === "offline") return "offline";
  if (state !== "idle") return state;
  return status === "ready" ? "available" : "not_ready";
}

/** "red", "amber", "ok", or null (no threshold, or no value yet). */
export function level(figure, value, bounds) {
  if (!bounds || value === null || value === undefined) return null;
  const below = FIGURES[figure] === "below";
  for (const name of ["red", "amber"]) {
    const bound = bounds[name];
    if (bound !== undefined && bound !== null && (below ? value < bound : value > bound)) return name;
  }
  return "ok";
}

/** Bounded sample buffer (latency figures for the page's own health and the tests). */
export class Samples {
  constructor(limit = 50000) { this.limit = limit; this.values = []; }
  push(v) { if (this.values.length < this.limit) this.values.push(v); }
  reset() { this.values = []; }
  max() { return this.values.reduce((a, b) => Math.max(a, b), 0); }
}
