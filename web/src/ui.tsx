// Shared pieces: error notes that show the API's code, an action hook, and
// small hand-drawn SVG charts (gauges, bars, sparkline).
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';
import { bytes } from './format.ts';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const e =
    error instanceof ApiError ? error : new ApiError(0, 'CLIENT', (error as Error).message ?? String(error));
  return (
    <div className="note error" role="alert">
      <strong>{e.message}</strong> <code className="code">{e.code}</code>
      {e.fields.length > 0 && (
        <ul>
          {e.fields.map((f) => (
            <li key={`${f.field}:${f.problem}`}>
              <code>{f.field}</code> {f.problem}
            </li>
          ))}
        </ul>
      )}
      {Array.isArray(e.details) && e.details.length > 0 && (
        <ul>
          {(e.details as { line?: number; error?: string }[]).slice(0, 20).map((d, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: details have no identity of their own
            <li key={i}>{d.line !== undefined ? `line ${d.line}: ${d.error}` : JSON.stringify(d)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Ok({ children }: { children: ReactNode }) {
  return (
    <div className="note ok" role="status">
      {children}
    </div>
  );
}

/** Runs an async action, tracking busy state, the last error and a success note. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const msg = await fn();
      if (typeof msg === 'string') setDone(msg);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, done, run, setError, setDone };
}

/** Loads data on mount and when `deps` change; `reload()` fetches again. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  // biome-ignore lint/correctness/useExhaustiveDependencies: deps are the caller's
  useEffect(() => {
    let live = true;
    fnRef.current().then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      },
      (e) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1), setData };
}

export function Badge({ kind, children }: { kind: string; children: ReactNode }) {
  return <span className={`badge badge-${kind}`}>{children}</span>;
}

/** A ring gauge: `value` from 0 to 1 (clamped), big text in the middle. */
export function Gauge(props: { label: string; value: number | null; text: string; sub?: string }) {
  const r = 42;
  const c = 2 * Math.PI * r;
  const v = props.value === null ? 0 : Math.min(1, Math.max(0, props.value));
  const level = props.value === null ? 'none' : v >= 0.9 ? 'bad' : v >= 0.7 ? 'warn' : 'good';
  return (
    <figure className={`gauge gauge-${level}`}>
      <svg viewBox="0 0 100 100" role="img" aria-label={`${props.label}: ${props.text}`}>
        <circle className="gauge-track" cx="50" cy="50" r={r} />
        <circle
          className="gauge-fill"
          cx="50"
          cy="50"
          r={r}
          strokeDasharray={`${(v * c).toFixed(1)} ${c.toFixed(1)}`}
          transform="rotate(-90 50 50)"
        />
        <text x="50" y="54" textAnchor="middle" className="gauge-text">
          {props.text}
        </text>
      </svg>
      <figcaption>
        <strong>{props.label}</strong>
        {props.sub && <span>{props.sub}</span>}
      </figcaption>
    </figure>
  );
}

export interface UsagePoint {
  at: string;
  bytesUp: number;
  bytesDown: number;
}

/** Stacked bars (down below, up on top) per hour or day. */
export function UsageChart({ items, step }: { items: UsagePoint[]; step: 'hour' | 'day' }) {
  const W = 720;
  const H = 220;
  const pad = { l: 56, r: 8, t: 10, b: 28 };
  const max = Math.max(1, ...items.map((i) => i.bytesUp + i.bytesDown));
  const bw = (W - pad.l - pad.r) / Math.max(1, items.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const total = items.reduce((n, i) => n + i.bytesUp + i.bytesDown, 0);
  const label = (iso: string) => {
    const d = new Date(iso);
    return step === 'hour'
      ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  };
  const every = Math.max(1, Math.ceil(items.length / 8));
  return (
    <div className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`usage per ${step}: ${bytes(total)} in total`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line className="grid" x1={pad.l} x2={W - pad.r} y1={y(max * f)} y2={y(max * f)} />
            <text className="axis" x={pad.l - 6} y={y(max * f) + 4} textAnchor="end">
              {bytes(max * f)}
            </text>
          </g>
        ))}
        {items.map((i, n) => {
          const x = pad.l + n * bw + bw * 0.12;
          const w = Math.max(1, bw * 0.76);
          return (
            <g key={i.at}>
              <title>{`${label(i.at)}: ${bytes(i.bytesDown)} down, ${bytes(i.bytesUp)} up`}</title>
              <rect className="bar-down" x={x} width={w} y={y(i.bytesDown)} height={y(0) - y(i.bytesDown)} />
              <rect
                className="bar-up"
                x={x}
                width={w}
                y={y(i.bytesDown + i.bytesUp)}
                height={y(i.bytesDown) - y(i.bytesDown + i.bytesUp)}
              />
              {n % every === 0 && (
                <text className="axis" x={x + w / 2} y={H - 8} textAnchor="middle">
                  {label(i.at)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <p className="legend">
        <span className="key key-down" /> down <span className="key key-up" /> up · {bytes(total)} in this
        range
      </p>
    </div>
  );
}

/** A line of the last samples (e.g. bandwidth over a minute). */
export function Sparkline({ values, label }: { values: number[]; label: string }) {
  const W = 240;
  const H = 48;
  const max = Math.max(1, ...values);
  const pts = values.map(
    (v, i) =>
      `${((i / Math.max(1, values.length - 1)) * W).toFixed(1)},${(H - 2 - (v / max) * (H - 4)).toFixed(1)}`,
  );
  return (
    <svg className="spark" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={label}>
      {pts.length > 1 && <polyline points={pts.join(' ')} />}
    </svg>
  );
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {}
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}

export function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Usage history controls: step and date range; loads through `load`. */
export function UsageHistory({
  load,
}: {
  load: (q: string) => Promise<{ step: 'hour' | 'day'; items: UsagePoint[] }>;
}) {
  const today = new Date();
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const [step, setStep] = useState<'hour' | 'day'>('hour');
  const [from, setFrom] = useState(iso(new Date(today.getTime() - 86_400_000)));
  const [to, setTo] = useState(iso(today));
  const q = `step=${step}&from=${from}T00:00:00Z&to=${to}T23:59:59Z`;
  const { data, error } = useLoad(() => load(q), [q]);
  return (
    <section className="card">
      <div className="row between">
        <h2>Usage</h2>
        <div className="row controls">
          <label>
            per
            <select value={step} onChange={(e) => setStep(e.target.value as 'hour' | 'day')}>
              <option value="hour">hour</option>
              <option value="day">day</option>
            </select>
          </label>
          <label>
            from
            <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            to
            <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
        </div>
      </div>
      <ErrorNote error={error} />
      {data && <UsageChart items={data.items} step={data.step} />}
    </section>
  );
}
