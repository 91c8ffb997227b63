// One unit everywhere: memory in binary units (bytes, KiB, MiB, GiB: powers of 1024), time per update in µs/ms/s.

const BYTE_UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"];

/** The unit a number of bytes reads best in: {name, factor}. */
export function byteUnit(b) {
  let i = 0;
  while (b >= 1024 && i < BYTE_UNITS.length - 1) {
    b /= 1024;
    i++;
  }
  return { name: BYTE_UNITS[i], factor: 1024 ** i };
}

export function humanBytes(b) {
  if (b === null || b === undefined || !Number.isFinite(b)) return "–";
  const { name, factor } = byteUnit(Math.abs(b));
  const v = b / factor;
  const digits = factor === 1 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${name}`;
}

export function humanMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return "–";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs/update`;
  if (ms < 10) return `${ms.toFixed(1)} ms/update`;
  if (ms < 1000) return `${ms.toFixed(0)} ms/update`;
  return `${(ms / 1000).toFixed(1)} s/update`;
}
