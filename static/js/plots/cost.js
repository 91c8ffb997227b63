// The cost meter: time per update and the memory a rule keeps next to what BPTT would need, in human units.

export function humanBytes(b) {
  if (b === null || b === undefined || !Number.isFinite(b)) return "–";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let v = b;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${units[i]}`;
}

export function humanMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return "–";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs/update`;
  if (ms < 10) return `${ms.toFixed(1)} ms/update`;
  if (ms < 1000) return `${ms.toFixed(0)} ms/update`;
  return `${(ms / 1000).toFixed(1)} s/update`;
}

export class CostMeter {
  constructor() {
    this.ms = document.getElementById("cost-ms");
    this.rule = document.getElementById("cost-rule");
    this.bptt = document.getElementById("cost-bptt");
    this.ruleBar = document.getElementById("cost-rule-bar");
    this.bpttBar = document.getElementById("cost-bptt-bar");
    this.ratio = document.getElementById("cost-ratio");
    this.colour = "#000";
  }

  reset(colour, ruleName) {
    this.colour = colour;
    this.ruleName = ruleName;
    this.ruleBar.style.background = colour;
    this.update(null);
  }

  /** @param c {state_bytes, bptt_state_bytes, ms_per_update} or null */
  update(c) {
    const s = c ? c.state_bytes : null;
    const b = c ? c.bptt_state_bytes : null;
    this.ms.textContent = humanMs(c ? c.ms_per_update : null);
    this.rule.textContent = humanBytes(s);
    this.bptt.textContent = humanBytes(b);
    const top = Math.max(s || 0, b || 0);
    // Log-scaled bars: memory differs by orders of magnitude between rules.
    const w = (v) => (top > 0 && v > 0 ? Math.max(2, (100 * Math.log10(1 + v)) / Math.log10(1 + top)) : 0);
    this.ruleBar.style.width = `${w(s)}%`;
    this.bpttBar.style.width = `${w(b)}%`;
    if (s > 0 && b > 0) {
      const r = b / s;
      this.ratio.textContent =
        Math.abs(r - 1) < 0.05
          ? `${this.ruleName || "This rule"} keeps as much as BPTT.`
          : r > 1
            ? `${this.ruleName || "This rule"} keeps ${r >= 10 ? Math.round(r) : r.toFixed(1)}× less than BPTT.`
            : `${this.ruleName || "This rule"} keeps ${(1 / r) >= 10 ? Math.round(1 / r) : (1 / r).toFixed(1)}× more than BPTT.`;
    } else this.ratio.textContent = "";
  }
}
