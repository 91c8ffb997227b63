// Keyboard shortcuts: Space play/pause, S step, R reset, P projector, ? the list of shortcuts.
// Keys typed into a field, or with a modifier held, are left alone; so is Space on a focused button, link, radio,
// checkbox or disclosure, which the browser already activates itself.

const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA"]);
const ACTIVATES_ON_SPACE = new Set(["BUTTON", "A", "SUMMARY"]);

export function installKeyboard(actions) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (TYPING.has(t.tagName) || t.isContentEditable)) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys (Esc closes it)
    const key = e.key;
    if (key === " " || key === "Spacebar") {
      if (t && ACTIVATES_ON_SPACE.has(t.tagName)) return;
      e.preventDefault(); // no page scroll
      actions.playPause();
    } else if (key === "s" || key === "S") {
      e.preventDefault();
      actions.step();
    } else if (key === "r" || key === "R") {
      e.preventDefault();
      actions.reset();
    } else if (key === "p" || key === "P") {
      e.preventDefault();
      actions.projector();
    } else if (key === "?") {
      e.preventDefault();
      actions.help();
    }
  });
}
