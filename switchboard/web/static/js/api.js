// The REST client: JSON in and out under /api/v1, the session's CSRF token on
// every unsafe request, the project's error shape turned into an ApiError.
//
//   import { api, ApiError } from "/static/js/api.js";
//   const queues = await api.get("/queues");
//   try { await api.post("/queues", { name }); }
//   catch (e) { if (e instanceof ApiError && e.field) showFieldErrors(form, e); }

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** A refused request: HTTP status, the stable error code, message and field. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field || null;
  }

  /** {field: message} for forms (the whole-form error under "" when no field). */
  get fieldErrors() {
    return { [this.field || ""]: this.message };
  }
}

function url(path, query) {
  const base = path.startsWith("/api/") ? path : `/api/v1${path}`;
  if (!query) return base;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
  const qs = params.toString();
  return qs ? `${base}?${qs}` : base;
}

/**
 * Call the API. `path` is under /api/v1 ("/queues") unless it starts with /api/.
 * Resolves to the parsed JSON (null for 204 or an empty body, the text for CSV);
 * rejects with ApiError (status 0, code "network" when the server cannot be reached).
 * A 401 sends the browser to the login page unless options.noRedirect.
 */
export async function request(method, path, body, options = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers["X-CSRF-Token"] = csrf();
  Object.assign(headers, options.headers || {});
  let resp;
  try {
    resp = await fetch(url(path, options.query), {
      method, headers, credentials: "same-origin", signal: options.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", err.message || "network error");
  }
  if (resp.status === 401 && !options.noRedirect) {
    window.location.assign(`/?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  const data = type.includes("json") ? await resp.json().catch(() => null) : await resp.text();
  if (!resp.ok) {
    const e = data && data.error ? data.error : { code: `http_${resp.status}`, message: resp.statusText };
    throw new ApiError(resp.status, e.code, e.message, e.field);
  }
  return data;
}

export const api = {
  get: (path, query, options) => request("GET", path, undefined, { ...options, query }),
  post: (path, body = {}, options) => request("POST", path, body, options),
  put: (path, body = {}, options) => request("PUT", path, body, options),
  patch: (path, body = {}, options) => request("PATCH", path, body, options),
  del: (path, options) => request("DELETE", path, undefined, options),
};
