// Upstreams and ports: import a proxy list (file or pasted) with upload
// progress, then every bound port with health, latency, failures, listener.
import { type ChangeEvent, type FormEvent, useState } from 'react';
import { uploadText } from '../api.ts';
import { bytes, when } from '../format.ts';
import type { Upstream } from '../types.ts';
import { Badge, ErrorNote, Ok, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { PortMap } from './Overview.tsx';

interface ImportAnswer {
  added: number;
  kept: number;
  duplicates: { line: number; upstream: string; reason: string }[];
  bound: { port: number; upstream: string }[];
}

function healthBadge(u: Upstream) {
  const kind = u.health === 'up' ? 'good' : u.health === 'down' ? 'bad' : 'muted';
  return <Badge kind={kind}>{u.health}</Badge>;
}

export function Ports({ call, token }: PageProps) {
  const ports = useLoad(() => call<Upstream[]>('GET', '/api/v1/ports'), []);
  const [text, setText] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<ImportAnswer | null>(null);
  const [filter, setFilter] = useState('');
  const act = useAction();
  const pick = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) setText(await f.text());
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setResult(null);
    act.run(async () => {
      setProgress(0);
      try {
        const r = await uploadText<ImportAnswer>(token, '/api/v1/upstreams/import', text, (sent, total) =>
          setProgress(total ? sent / total : 1),
        );
        setResult(r);
        setText('');
        ports.reload();
      } finally {
        setProgress(null);
      }
    });
  };
  const rows = (ports.data ?? []).filter(
    (u) => !filter || (filter === 'unbound' ? u.listener && u.listener !== 'listening' : u.health === filter),
  );
  return (
    <>
      <h1>Upstreams &amp; ports</h1>
      <section className="card">
        <h2>Import a proxy list</h2>
        <form onSubmit={submit} aria-label="import upstreams">
          <textarea
            name="upstreams"
            rows={5}
            placeholder={
              'one a line: host:port, host:port:user:pass, user:pass@host:port,\nhttp://…, socks5://…, or direct'
            }
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <div className="row">
            <input type="file" accept=".txt,text/plain" aria-label="proxy list file" onChange={pick} />
            <span className="muted small">
              {text ? `${text.split('\n').filter(Boolean).length} lines, ${bytes(text.length)}` : ''}
            </span>
            <button type="submit" className="primary" disabled={act.busy || !text.trim()}>
              Import
            </button>
          </div>
          {progress !== null && (
            <div
              className="progress"
              role="progressbar"
              aria-valuenow={Math.round(progress * 100)}
              aria-valuemin={0}
              aria-valuemax={100}
            >
              <span style={{ width: `${Math.round(progress * 100)}%` }} />
              <em>{progress < 1 ? `uploading ${Math.round(progress * 100)}%` : 'binding ports…'}</em>
            </div>
          )}
        </form>
        <ErrorNote error={act.error} />
        {result && (
          <Ok>
            Imported: {result.added} added, {result.kept} already bound
            {result.duplicates.length > 0 && `, ${result.duplicates.length} duplicate lines`}.
            {result.bound.length > 0 &&
              ` New ports ${result.bound[0].port}–${result.bound[result.bound.length - 1].port}.`}
          </Ok>
        )}
      </section>
      {ports.data && ports.data.length > 0 && (
        <section className="card">
          <h2>Health map</h2>
          <PortMap ports={ports.data} />
        </section>
      )}
      <section className="card">
        <div className="row between">
          <h2>Ports</h2>
          <div className="row controls">
            <select aria-label="filter ports" value={filter} onChange={(e) => setFilter(e.target.value)}>
              <option value="">all</option>
              <option value="up">up</option>
              <option value="down">down</option>
              <option value="unknown">unknown</option>
              <option value="unbound">not listening</option>
            </select>
            <button type="button" onClick={ports.reload}>
              Refresh
            </button>
          </div>
        </div>
        <ErrorNote error={ports.error} />
        {act.done && <Ok>{act.done}</Ok>}
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th className="num">Port</th>
                <th>Upstream</th>
                <th>Health</th>
                <th className="num">Latency</th>
                <th className="num">Failures</th>
                <th>Checked</th>
                <th>Listener</th>
                <th>Last error</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.slice(0, 1000).map((u) => (
                <tr key={u.id}>
                  <td className="num">{u.port}</td>
                  <td>
                    <code>{u.upstream}</code>
                  </td>
                  <td>{healthBadge(u)}</td>
                  <td className="num">{u.latencyMs === null ? '—' : `${u.latencyMs} ms`}</td>
                  <td className="num">{u.failures}</td>
                  <td>{when(u.lastCheckedAt)}</td>
                  <td>
                    {u.listener ?? '—'}
                    {u.listenerError ? `: ${u.listenerError}` : ''}
                  </td>
                  <td className="muted small">{u.lastError ?? ''}</td>
                  <td>
                    <button
                      type="button"
                      className="link danger"
                      onClick={() =>
                        act.run(async () => {
                          await call('DELETE', `/api/v1/upstreams/${u.id}`);
                          ports.reload();
                          return `Unbound port ${u.port}.`;
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
