// The comparison's table: per member, updates and seconds to the target accuracy, final accuracy (mean of the last
// 10 % of updates), state bytes and ms per update; and the winner in words.

function fmtBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(100 * v)} %`);
const num = (v, d = 1) => (v === null || v === undefined ? "—" : v.toFixed(d));

export function renderTable(table, winnerEl, d, colours) {
  const target = Math.round(100 * d.target);
  const head = ["member", "final accuracy", `updates to ${target} %`, `seconds to ${target} %`, "state", "ms/update",
    "status"];
  const rows = d.table.map((r, i) => {
    const rule = d.members[i].run.spec.rule;
    const win = d.winner && d.winner.label === r.label;
    return `<tr${win ? ' class="winner"' : ""}><th scope="row"><span class="swatch" style="background:${colours[rule] ||
      "#000"}"></span>${esc(r.label)}${win ? " ★" : ""}</th><td>${pct(r.final_accuracy)}</td>` +
      `<td>${r.updates_to_target ?? "—"}</td><td>${num(r.seconds_to_target)}</td><td>${fmtBytes(r.state_bytes)}</td>` +
      `<td>${num(r.ms_per_update)}</td><td>${esc(r.status)} (${r.updates})</td></tr>`;
  });
  table.innerHTML = `<thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody>`;
  winnerEl.textContent = d.winner
    ? `${d.status === "done" ? "Winner" : "Leading so far"}: ${d.winner.label} — ${d.winner.why}`
    : "No winner yet: nothing has trained.";
}
