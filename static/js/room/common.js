// What both room pages share: the room's code, HTTP calls, the room socket (reconnecting), elements built with
// text only (poll text is never parsed as HTML), and the results charts.
//
// window.__room exposes what tests wait on: the latest room state, its version, and the last HTTP error.

export const CODE = JSON.parse(document.getElementById("room-data").textContent).code;
export const $ = (id) => document.getElementById(id);
window.__room = { version: -1, room: null, error: null };

/** fetch JSON; resolves {ok, status, body}. Errors carry FastAPI's "detail" as text. */
export async function api(method, path, body) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) window.__room.error = { status: r.status, detail: detailText(data.detail) };
  return { ok: r.ok, status: r.status, body: data };
}

export function detailText(detail) {
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return String(detail ?? "something went wrong");
}

/** Follow the room socket; calls onRoom(room) on every state; reconnects with backoff unless refused. */
export function follow(onRoom, onRefused) {
  let delay = 500;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/rooms/${CODE}`);
    ws.onopen = () => { delay = 500; setStatus("Connected: this page follows the room live."); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type !== "room") return;
      window.__room.version = msg.version;
      window.__room.room = msg.room;
      onRoom(msg.room);
    };
    ws.onclose = (ev) => {
      if (ev.code === 4403 || ev.code === 4404) { onRefused(ev.code, ev.reason); return; }
      setStatus("Connection lost; reconnecting…");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  open();
}

export function setStatus(text) {
  $("room-status").textContent = text;
}

/** An element with text (never HTML) and attributes. */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export function optionLabels(poll) {
  return poll.options || [];
}

/**
 * Gaussian kernel density of `values` on `n` points over [low, high] (Eq. 1: f(x) = 1/(n h) Σ φ((x − v_i)/h)),
 * bandwidth by Silverman's rule h = 1.06 σ n^(−1/5), at least 2 % of the range (so identical answers still draw
 * a bump). Returns {x, y}.
 */
export function density(values, low, high, n = 121) {
  const x = Array.from({ length: n }, (_, i) => low + ((high - low) * i) / (n - 1));
  if (!values.length) return { x, y: x.map(() => 0) };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
  const h = Math.max(1.06 * sd * values.length ** -0.2, 0.02 * (high - low));
  const c = 1 / (values.length * h * Math.sqrt(2 * Math.PI));
  const y = x.map((xi) => c * values.reduce((a, v) => a + Math.exp(-0.5 * ((xi - v) / h) ** 2), 0));
  return { x, y };
}

const INK = "#0072B2";
const ANSWER = "#009E73";

/** Draw a poll's results into `div`: a density (sliders) or bars (choices, predictions). */
export function drawResults(div, poll) {
  if (!window.Plotly || !poll.results) return;
  const layout = { margin: { t: 10, r: 10, b: 40, l: 50 }, height: 240, showlegend: false,
    font: { size: 14 }, datarevision: poll.results.count, uirevision: "keep" };
  let data;
  if (poll.kind === "slider") {
    const { x, y } = density(poll.results.values, poll.low, poll.high);
    data = [
      { type: "scatter", mode: "lines", x, y, fill: "tozeroy", line: { color: INK, width: 3 }, name: "density",
        hovertemplate: "%{x:.0f}: %{y:.3f}<extra></extra>" },
      { type: "scatter", mode: "markers", x: poll.results.values, y: poll.results.values.map(() => 0),
        marker: { symbol: "line-ns-open", size: 14, color: INK }, name: "answers", hoverinfo: "x" },
    ];
    const labels = poll.labels || [];
    layout.xaxis = { range: [poll.low, poll.high], title: { text: "answer" },
      ...(labels.length ? { tickvals: labels.map((_, i) => poll.low + ((poll.high - poll.low) * i) / (labels.length - 1)),
        ticktext: labels } : {}) };
    layout.yaxis = { title: { text: "density" }, rangemode: "tozero" };
  } else {
    const answer = poll.answer ? poll.answer.option : null;
    data = [{ type: "bar", x: optionLabels(poll), y: poll.results.counts,
      marker: { color: optionLabels(poll).map((_, i) => (i === answer ? ANSWER : INK)) },
      hovertemplate: "%{x}: %{y}<extra></extra>" }];
    layout.yaxis = { title: { text: "votes" }, rangemode: "tozero", dtick: 1 };
  }
  window.Plotly.react(div, data, layout, { displayModeBar: false, responsive: true });
}

export function pollMeta(poll) {
  const state = { draft: "not open yet", open: "open for votes", closed: "closed" }[poll.state];
  const shown = poll.revealed ? "results shown to the room" : "results hidden from the room";
  return `${poll.kind} · ${state} · ${poll.votes} vote${poll.votes === 1 ? "" : "s"} · ${shown}`;
}

export function answerText(poll) {
  if (!poll.answer) return "";
  const label = optionLabels(poll)[poll.answer.option];
  if (poll.answer.steps) {
    const steps = poll.answer.steps.map((s, i) => `${optionLabels(poll)[i]}: ${s === null ? "not reached" : `update ${s}`}`);
    return `Answer: ${label} (first to ${Math.round(poll.answer.target * 100)} % ${poll.answer.metric}; ${steps.join(", ")})`;
  }
  return `Answer: ${label}`;
}
