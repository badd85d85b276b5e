// The audit log, newest first; "Older" pages back by id.
import { useState } from 'react';
import { when } from '../format.ts';
import type { AuditEvent } from '../types.ts';
import { ErrorNote, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const PAGE = 100;

export function Audit({ call }: PageProps) {
  const first = useLoad(() => call<AuditEvent[]>('GET', `/api/v1/audit?limit=${PAGE}`), []);
  const [older, setOlder] = useState<AuditEvent[]>([]);
  const [end, setEnd] = useState(false);
  const act = useAction();
  const events = [...(first.data ?? []), ...older];
  const more = () =>
    act.run(async () => {
      const last = events[events.length - 1];
      const page = await call<AuditEvent[]>('GET', `/api/v1/audit?limit=${PAGE}&before=${last.id}`);
      setOlder([...older, ...page]);
      if (page.length < PAGE) setEnd(true);
    });
  return (
    <>
      <h1>Audit log</h1>
      <section className="card">
        <ErrorNote error={first.error} />
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Target</th>
                <th>Detail</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap">{when(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ?? '—'}</td>
                  <td className="detail">{e.detail === null ? '' : JSON.stringify(e.detail)}</td>
                  <td>
                    <code>{e.ip ?? ''}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ErrorNote error={act.error} />
        {first.data && first.data.length === PAGE && !end && (
          <button type="button" onClick={more} disabled={act.busy}>
            Older
          </button>
        )}
      </section>
    </>
  );
}
