// One websocket per watched run: reconnects with backoff, decodes binary snapshot frames.
//
// Binary frame layout (docs/protocol.md): u32 little-endian header length | JSON header | zero padding to a
// multiple of 4 | float32 payloads. Array offsets in the header count bytes from the start of the payload area.

/** Decode one binary snapshot frame into {header, arrays: {name: {shape, data: Float32Array}}}. */
export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const headerLen = view.getUint32(0, true);
  const headerText = new TextDecoder().decode(new Uint8Array(buffer, 4, headerLen));
  const header = JSON.parse(headerText);
  const payloadStart = Math.ceil((4 + headerLen) / 4) * 4;
  const arrays = {};
  for (const a of header.arrays || []) {
    const start = payloadStart + a.offset;
    // Element count from the shape; the header's "length" is in bytes (app/protocol.py encode_snapshot).
    const length = Array.isArray(a.shape) ? a.shape.reduce((x, y) => x * y, 1) : Math.floor(a.length / 4);
    // Copy out of the frame so the frame buffer can be dropped; offsets are 4-aligned per the protocol, but copying
    // via a byte slice also survives a server that forgets the padding.
    const data = start % 4 === 0 ? new Float32Array(buffer, start, length) : new Float32Array(buffer.slice(start, start + 4 * length));
    arrays[a.name] = { shape: a.shape, data };
  }
  return { header, arrays };
}

import { ownerToken } from "./owner.js";

const CLOSE_UNKNOWN_RUN = 4404;

/**
 * The socket templates/index.html opened for the run in the page's link (``window.__earlySocket``), once, if it is
 * for ``runId``; any other is closed. From here on its events go to the RunSocket that takes it.
 */
export function takeEarlySocket(runId) {
  const early = window.__earlySocket;
  if (!early) return null;
  window.__earlySocket = null;
  if (early.id === runId && !early.closed) return early;
  if (!early.closed) early.ws.close(1000, "not the run this page shows");
  return early.id === runId && early.closed.code === CLOSE_UNKNOWN_RUN ? early : null;
}

export class RunSocket {
  /**
   * @param {string} runId
   * @param {object} handlers onHello(msg), onStatus(msg), onMetrics(msg), onSnapshot(frame), onServerError(msg),
   *   onAuth(msg: {owner: bool}),
   *   onConnection(state: "connecting"|"open"|"reconnecting"|"gone", detail)
   */
  constructor(runId, handlers) {
    this.runId = runId;
    this.h = handlers;
    this.ws = null;
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.connect();
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws/runs/${encodeURIComponent(this.runId)}`;
  }

  connect() {
    if (this.closed) return;
    this.h.onConnection?.(this.attempt ? "reconnecting" : "connecting");
    const early = this.attempt ? null : takeEarlySocket(this.runId);
    const ws = early ? early.ws : new WebSocket(this.url());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    const opened = () => {
      this.attempt = 0;
      // Once per connection: this browser's owner token, if it has one (a watcher sends nothing).
      const token = ownerToken();
      if (token) ws.send(JSON.stringify({ type: "auth", token }));
      this.h.onConnection?.("open");
    };
    const closed = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      if (ev.code === CLOSE_UNKNOWN_RUN) {
        this.closed = true;
        this.h.onConnection?.("gone", ev.reason || "This run no longer exists on the server.");
        return;
      }
      this.scheduleReconnect();
    };
    ws.onopen = opened;
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = closed;
    ws.onerror = () => {
      /* onclose follows and schedules the reconnect */
    };
    if (!early) return;
    // The page's <head> opened this socket before the modules ran. What it has received (and its opening or
    // closing, if that already happened) is handed on after the caller has kept this RunSocket (a microtask).
    queueMicrotask(() => {
      if (this.ws !== ws) return;
      if (ws.readyState === WebSocket.OPEN) opened();
      for (const data of early.messages.splice(0)) if (this.ws === ws) this.receive(data);
      if (early.closed) closed(early.closed);
    });
  }

  scheduleReconnect() {
    this.attempt += 1;
    const delay = Math.min(8000, 250 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() * 0.5);
    this.h.onConnection?.("reconnecting", delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  receive(data) {
    if (typeof data === "string") {
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
      switch (msg.type) {
        case "hello":
          this.h.onHello?.(msg);
          break;
        case "status":
          this.h.onStatus?.(msg);
          break;
        case "metrics":
          this.h.onMetrics?.(msg);
          break;
        case "auth":
          this.h.onAuth?.(msg);
          break;
        case "error":
          // A server without owners does not know the auth message; nothing is wrong for the viewer.
          if (/'auth'/.test(msg.message || "")) break;
          this.h.onServerError?.(msg);
          break;
        default:
          break;
      }
      return;
    }
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (err) {
      this.h.onServerError?.({ message: `Could not read a snapshot frame: ${err.message}` });
      this.ack(); // keep the flow going even if one frame was unreadable
      return;
    }
    this.h.onSnapshot?.(frame);
  }

  send(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(obj));
      return true;
    }
    return false;
  }

  /** Tell the server a snapshot was drawn (or superseded), so it may send the next one. */
  ack() {
    return this.send({ type: "ack" });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, "viewer left");
    }
  }
}
