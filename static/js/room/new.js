// Make a room, then open its presenter page (the server set the presenter cookie with its answer).

import { $, api, detailText, setStatus } from "./common.js";

setStatus("Give the room a title; the audience joins with its code or QR code.");
$("new-room").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const password = $("new-password").value;
  const r = await api("POST", "/api/rooms", { title: $("new-title").value, ...(password ? { password } : {}) });
  if (!r.ok) { $("new-error").textContent = detailText(r.body.detail); return; }
  location.assign(`/rooms/${r.body.code}/present`);
});
