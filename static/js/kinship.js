// A sentence the rule picker adds where two rules are one algorithm: for leaky rate units, e-prop with random
// feedback and RFLO compute the same update (an eligibility trace times the output error sent back through fixed
// random weights). Shown only when the catalog's own description does not already say so.

const SAME = "For leaky rate units like these, e-prop with random feedback and RFLO are the same algorithm: " +
  "both multiply a leaky eligibility trace by the output error sent back through fixed random weights (they differ " +
  "only in how those weights are scaled). Compare either with BPTT, not with each other.";

/** The note for a rule and its settings, or "" when none applies or the catalog already carries it. */
export function kinshipNote(rule, ruleConfig, description = "") {
  if (/same algorithm/i.test(description)) return "";
  if (rule === "rflo" || (rule === "eprop" && ruleConfig?.feedback === "random")) return SAME;
  return "";
}
