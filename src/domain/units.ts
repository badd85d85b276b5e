// Human units for the CLI and environment: "10GB", "1MB/s", "15m", "30d".
// JSON always carries plain numbers (bytes, bytes/s, seconds); these parsers
// only translate what people type. A result is always a whole number that
// JavaScript holds exactly, or NaN: "8192TiB" or forty digits are malformed
// rather than 9007199254740992 or Infinity.

const SIZE: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION: Record<string, number> = {
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  d: 86400,
  w: 604800,
};

/** Parses "10GB", "1.5 GiB", "512" (bytes). Returns NaN when malformed. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return Number.NaN;
  const unit = m[2].toLowerCase();
  const mult = unit === '' ? 1 : SIZE[unit];
  return mult === undefined ? Number.NaN : exact(Number(m[1]) * mult);
}

/** Rounded to a whole number; NaN unless that is a safe integer. */
function exact(n: number): number {
  const v = Math.round(n);
  return Number.isSafeInteger(v) ? v : Number.NaN;
}

/** Parses "1MB/s", "100KB/s", "8mbit" (bits), "1000" (bytes/s). NaN when malformed. */
export function parseRate(text: string): number {
  const t = text.trim();
  const bits = /^(\d+(?:\.\d+)?)\s*([kmg]?)bit(?:\/s|ps)?$/i.exec(t);
  if (bits) {
    const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[bits[2].toLowerCase()] ?? 1;
    return exact((Number(bits[1]) * mult) / 8);
  }
  return parseSize(t.replace(/\/s$|ps$/i, ''));
}

/** Parses "15m", "1h", "30d", "90" (seconds). NaN when malformed. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return Number.NaN;
  const unit = m[2].toLowerCase();
  const mult = unit === '' ? 1 : DURATION[unit];
  return mult === undefined ? Number.NaN : exact(Number(m[1]) * mult);
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}
