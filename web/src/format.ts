// Human units for figures the API gives in bytes, bytes/s, seconds and ISO times.

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'unlimited';
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${UNITS[i]}`;
}

export const rate = (n: number | null | undefined) =>
  n === null || n === undefined ? 'unlimited' : `${bytes(n)}/s`;

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** ISO time → the value of an <input type="datetime-local"> in local time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** <input type="datetime-local"> value → ISO time, or null when empty. */
export function fromLocalInput(v: string): string | null {
  return v ? new Date(v).toISOString() : null;
}

/** "10GB", "1.5 MB", "500k" → bytes; empty → null; NaN when unreadable. */
export function parseBytes(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)b?$/i.exec(t);
  if (!m) return Number.NaN;
  const pow = ' kmgtp'.indexOf(m[2].toLowerCase() || ' ');
  return Math.round(Number(m[1]) * 1000 ** pow);
}
