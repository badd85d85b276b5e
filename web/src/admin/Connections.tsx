// Live connections of the gateway in the API's process, refreshed every 2 s,
// filtered by customer or port, each with a kick.
import { useEffect, useState } from 'react';
import { bytes, duration } from '../format.ts';
import { Link } from '../router.tsx';
import type { Connection } from '../types.ts';
import { ErrorNote, Ok, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

export function Connections({ call }: PageProps) {
  const [customer, setCustomer] = useState('');
  const [port, setPort] = useState('');
  const query = new URLSearchParams();
  if (customer.trim()) query.set('customer', customer.trim());
  if (port.trim()) query.set('port', port.trim());
  const list = useLoad(
    () => call<{ scope: string; total: number; items: Connection[] }>('GET', `/api/v1/connections?${query}`),
    [query.toString()],
  );
  const act = useAction();
  const { reload } = list;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload changes identity every render
  useEffect(() => {
    const t = setInterval(reload, 2000);
    return () => clearInterval(t);
  }, [query.toString()]);
  const now = Date.now();
  return (
    <>
      <h1>Live connections</h1>
      <section className="card">
        <div className="row controls">
          <input
            type="search"
            placeholder="customer"
            aria-label="filter by customer"
            value={customer}
            onChange={(e) => setCustomer(e.target.value)}
          />
          <input
            inputMode="numeric"
            placeholder="port"
            aria-label="filter by port"
            value={port}
            onChange={(e) => setPort(e.target.value)}
          />
          <span className="muted small">
            {list.data ? `${list.data.total} open · refreshes every 2 s` : ''}
          </span>
        </div>
        <ErrorNote error={list.error} />
        <ErrorNote error={act.error} />
        {act.done && <Ok>{act.done}</Ok>}
        {list.data?.scope === 'none' && (
          <div className="note">This API process runs no gateway: no live connections to list here.</div>
        )}
        {list.data && list.data.scope !== 'none' && list.data.items.length === 0 && (
          <p className="muted">No open connections{query.toString() ? ' match' : ''}.</p>
        )}
        {list.data && list.data.items.length > 0 && (
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th>Customer</th>
                  <th>Client</th>
                  <th className="num">Port</th>
                  <th>Target</th>
                  <th>Upstream</th>
                  <th className="num">↑</th>
                  <th className="num">↓</th>
                  <th className="num">Open for</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/admin/customers/${encodeURIComponent(c.customer)}`}>{c.customer}</Link>
                    </td>
                    <td>
                      <code>{c.clientAddress}</code>
                    </td>
                    <td className="num">{c.port}</td>
                    <td>
                      <code>{c.target}</code>
                    </td>
                    <td>{c.upstream || '—'}</td>
                    <td className="num">{bytes(c.bytesUp)}</td>
                    <td className="num">{bytes(c.bytesDown)}</td>
                    <td className="num">{duration(now - Date.parse(c.since))}</td>
                    <td>
                      <button
                        type="button"
                        className="link danger"
                        aria-label={`kick connection ${c.id}`}
                        onClick={() =>
                          act.run(async () => {
                            await call('DELETE', `/api/v1/connections/${encodeURIComponent(c.id)}`);
                            reload();
                            return `Closed ${c.customer}'s connection to ${c.target}.`;
                          })
                        }
                      >
                        Kick
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
