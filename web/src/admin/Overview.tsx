// Live figures over SSE (GET /api/v1/live): connections, bandwidth with the
// last minute as a sparkline, top customers, and the port health map.
import { useEffect, useState } from 'react';
import { type ApiError, stream } from '../api.ts';
import { rate } from '../format.ts';
import { Link } from '../router.tsx';
import type { PortCell, Stats } from '../types.ts';
import { ErrorNote, Sparkline } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const HISTORY = 60;

function cellClass(p: PortCell): string {
  if (p.listener && p.listener !== 'listening') return 'cell cell-unbound';
  if (p.health === 'down') return 'cell cell-down';
  if (p.health !== 'up') return 'cell cell-unknown';
  const ms = p.latencyMs ?? 0;
  return ms < 300 ? 'cell cell-fast' : ms < 1000 ? 'cell cell-ok' : 'cell cell-slow';
}

export function PortMap({ ports }: { ports: PortCell[] }) {
  const counts = { up: 0, down: 0, unknown: 0 };
  for (const p of ports) counts[p.health === 'up' ? 'up' : p.health === 'down' ? 'down' : 'unknown']++;
  return (
    <>
      <p className="muted small">
        {ports.length} bound ports · {counts.up} up · {counts.down} down · {counts.unknown} not checked yet
      </p>
      <ul className="portmap" aria-label="port health map">
        {ports.map((p) => (
          <li
            key={p.port}
            className={cellClass(p)}
            title={`${p.port}: ${p.health}${p.latencyMs !== null ? `, ${p.latencyMs} ms` : ''}${p.failures ? `, ${p.failures} failures` : ''}${p.listener && p.listener !== 'listening' ? `, listener ${p.listener}` : ''}`}
          />
        ))}
      </ul>
      <p className="legend small">
        <span className="key cell-fast" /> up &lt;300 ms <span className="key cell-ok" /> up &lt;1 s{' '}
        <span className="key cell-slow" /> up, slow <span className="key cell-down" /> down{' '}
        <span className="key cell-unknown" /> unknown <span className="key cell-unbound" /> not listening
      </p>
    </>
  );
}

export function Overview({ token }: PageProps) {
  const [stats, setStats] = useState<Stats | null>(null);
  const [ports, setPorts] = useState<PortCell[] | null>(null);
  const [history, setHistory] = useState<number[]>([]);
  const [state, setState] = useState<'live' | ApiError | null>(null);
  useEffect(
    () =>
      stream('/api/v1/live', token, {
        onEvent(event, data) {
          if (event === 'stats') {
            const s = data as Stats;
            setStats(s);
            setHistory((h) => [...h, s.bandwidth.up + s.bandwidth.down].slice(-HISTORY));
          } else if (event === 'ports') setPorts((data as { items: PortCell[] }).items);
        },
        onState: setState,
      }),
    [token],
  );
  return (
    <>
      <div className="row between">
        <h1>Overview</h1>
        <span className={`live ${state === 'live' ? 'on' : 'off'}`}>
          {state === 'live' ? 'live' : 'connecting…'}
        </span>
      </div>
      {state && state !== 'live' && <ErrorNote error={state} />}
      {stats?.scope === 'none' && (
        <div className="note">
          This API process runs no gateway, so it has no live connections to show (run the gateway role in the
          same process, e.g. <code>portcullis up</code>).
        </div>
      )}
      <section className="stats">
        <div className="card stat">
          <span className="muted">Live connections</span>
          <strong data-testid="live-connections">{stats ? stats.connections : '…'}</strong>
          <span className="muted small">
            {stats ? `${stats.customers} customer${stats.customers === 1 ? '' : 's'}` : ''}
          </span>
        </div>
        <div className="card stat">
          <span className="muted">Bandwidth</span>
          <strong>{stats ? rate(stats.bandwidth.up + stats.bandwidth.down) : '…'}</strong>
          <span className="muted small">
            {stats ? `↓ ${rate(stats.bandwidth.down)} · ↑ ${rate(stats.bandwidth.up)}` : ''}
          </span>
          <Sparkline values={history} label="bandwidth over the last minute" />
        </div>
        <div className="card stat">
          <span className="muted">Bound ports</span>
          <strong>{ports ? ports.length : '…'}</strong>
          <span className="muted small">
            {ports ? `${ports.filter((p) => p.health === 'down').length} down` : ''}
          </span>
        </div>
      </section>
      <div className="grid2">
        <section className="card">
          <h2>Top customers</h2>
          {stats && stats.top.length === 0 && <p className="muted">Nobody is connected.</p>}
          {stats && stats.top.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th>Customer</th>
                  <th className="num">Connections</th>
                  <th className="num">Bandwidth</th>
                </tr>
              </thead>
              <tbody>
                {stats.top.map((t) => (
                  <tr key={t.username}>
                    <td>
                      <Link to={`/admin/customers/${encodeURIComponent(t.username)}`}>{t.username}</Link>
                    </td>
                    <td className="num">{t.connections}</td>
                    <td className="num">{rate(t.bytesPerSec)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card">
          <h2>Port health</h2>
          {ports && ports.length === 0 && (
            <p className="muted">
              No upstreams yet: <Link to="/admin/ports">import a proxy list</Link>.
            </p>
          )}
          {ports && ports.length > 0 && <PortMap ports={ports} />}
        </section>
      </div>
    </>
  );
}
