// HTTP for the compare page: create and control comparisons and sweeps with this browser's owner token.

import { authHeaders, saveOwnerToken } from "../owner.js";

/** The first problem of a 422 (its field and message), or the detail text. */
function problem(body, status) {
  const d = body && body.detail;
  if (Array.isArray(d) && d.length) return `${d[0].loc.filter((p) => p !== "body").join(".")}: ${d[0].msg}`;
  return typeof d === "string" ? d : `HTTP ${status}`;
}

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(problem(data, res.status));
  if (data && data.owner_token) saveOwnerToken(data.owner_token);
  return data;
}

export const compareApi = {
  create: (spec) => call("POST", "/api/comparisons", spec),
  get: (id) => call("GET", `/api/comparisons/${id}`),
  control: (id, action) => call("POST", `/api/comparisons/${id}/control`, { action }),
  createSweep: (spec) => call("POST", "/api/sweeps", spec),
  getSweep: (id) => call("GET", `/api/sweeps/${id}`),
  stopSweep: (id) => call("POST", `/api/sweeps/${id}/control`, { action: "stop" }),
};
