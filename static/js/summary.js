// The numbers a person reads as "how good is it now": the mean over the last 10 % of updates (at least 10, all of
// them if fewer), not the last noisy batch. The JS twin of engine.training.late_mean (CONTRACT §3):
//
//     window(n) = min(n, max(10, ⌈n / 10⌉)),   late_mean = mean of the finite values among the last window(n)   (1)

export function lateWindow(n) {
  return Math.min(n, Math.max(10, Math.ceil(n / 10)));
}

/** Eq. (1) over an array of numbers (null / NaN skipped); null when nothing finite is in the window. */
export function lateMean(values) {
  const k = lateWindow(values.length);
  let sum = 0;
  let count = 0;
  for (let i = values.length - k; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && Number.isFinite(v)) {
      sum += v;
      count += 1;
    }
  }
  return count ? sum / count : null;
}
