// HTTP calls to the lab's own server (same origin, relative paths only). Run creation and controls carry the
// owner token (owner.js); the token a creation returns is kept.

import { authHeaders, saveOwnerToken } from "./owner.js";

/** An HTTP error with the server's message and, for 422, the field errors [{path, msg}]. */
export class ApiError extends Error {
  constructor(status, message, fields = []) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

/** Turn FastAPI/pydantic "detail" into a readable message and [{path, msg}] (path like "task_config.delay"). */
export function parseDetail(detail) {
  if (typeof detail === "string") return { message: detail, fields: [] };
  if (Array.isArray(detail)) {
    const fields = detail.map((d) => {
      const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body") : [];
      const path = loc.map(String).join(".");
      return { path, msg: d.msg || String(d) };
    });
    const message = fields.map((f) => (f.path ? `${f.path}: ${f.msg}` : f.msg)).join("; ");
    return { message, fields };
  }
  if (detail && typeof detail === "object") {
    if (detail.message) return { message: detail.message, fields: detail.field ? [{ path: detail.field, msg: detail.message }] : [] };
    return { message: JSON.stringify(detail), fields: [] };
  }
  return { message: "", fields: [] };
}

async function request(method, path, body, { signal, auth = false } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...(auth ? authHeaders() : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "The server cannot be reached. Is it still running?");
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!res.ok) {
    const { message, fields } = parseDetail(data && data.detail !== undefined ? data.detail : data);
    throw new ApiError(res.status, message || `${res.status} ${res.statusText}`, fields);
  }
  return data;
}

export const api = {
  catalog: () => request("GET", "/api/catalog"),
  preview: (task, taskConfig, seed, opts) => request("POST", "/api/preview", { task, task_config: taskConfig, seed }, opts),
  createRun: async (spec) => {
    const info = await request("POST", "/api/runs", spec, { auth: true });
    if (info && info.owner_token) {
      saveOwnerToken(info.owner_token);
      delete info.owner_token;
    }
    return info;
  },
  /** What a spec would cost before it runs: the cost keys plus "slow" (engine/estimate.py). */
  estimate: (spec, opts) => request("POST", "/api/estimate", spec, opts),
  control: (id, action, value) =>
    request("POST", `/api/runs/${encodeURIComponent(id)}/control`, value === undefined ? { action } : { action, value },
      { auth: true }),
};
