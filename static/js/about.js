// The "What am I looking at?" buttons: one per chart, each with an accessible name that says which chart it explains
// (eleven identical names would be useless to a screen reader), opening and closing the chart's note.

function title(btn) {
  return btn.closest("figure")?.querySelector("h2")?.textContent.trim() || "this chart";
}

/** Give a button its name from its chart's title (call again after its text changes). */
export function nameAbout(btn) {
  const open = btn.getAttribute("aria-expanded") === "true";
  btn.setAttribute("aria-label", `${open ? "Close the note on" : "What am I looking at:"} ${title(btn)}`);
}

export function installAbout() {
  for (const b of document.querySelectorAll("button.about")) nameAbout(b);
  // One click opens, a second closes. The notes overlay the chart (no layout shift).
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("button.about");
    if (!btn) return;
    const note = document.getElementById(btn.getAttribute("aria-controls"));
    const open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    btn.textContent = open ? "Close" : "What am I looking at?";
    nameAbout(btn);
    note.hidden = !open;
  });
}
