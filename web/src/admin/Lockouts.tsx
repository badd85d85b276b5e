// Credential lock-outs in force (docs/security.md), each lifted here. A
// customer's strike lock-out is lifted with Unlock on the customer's page.

import { when } from '../format.ts';
import { Link } from '../router.tsx';
import type { Lockout } from '../types.ts';
import { ErrorNote, Ok, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

export function Lockouts({ call }: PageProps) {
  const list = useLoad(() => call<Lockout[]>('GET', '/api/v1/lockouts'), []);
  const act = useAction();
  const lift = (l: Lockout) =>
    act.run(async () => {
      const body = l.scope === 'address' ? { address: l.key.replace(/\/64$/, '') } : { username: l.key };
      await call('POST', '/api/v1/lockouts/lift', { body });
      list.reload();
      return `Lock-out of ${l.scope === 'username' ? `username ${l.key}` : l.key} lifted.`;
    });
  const items = list.data ?? [];
  return (
    <>
      <h1>Lock-outs</h1>
      <section className="card">
        <p className="muted">
          Addresses and usernames locked after repeated failed sign-ins, on the gateway or the API.
        </p>
        <ErrorNote error={list.error ?? act.error} />
        {act.done && <Ok>{act.done}</Ok>}
        {list.data && items.length === 0 && <p>No credential lock-outs in force.</p>}
        {items.length > 0 && (
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th>Scope</th>
                  <th>Locked</th>
                  <th>Until</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {items.map((l) => (
                  <tr key={`${l.scope} ${l.key}`}>
                    <td>{l.scope}</td>
                    <td>
                      <code>{l.key}</code>
                    </td>
                    <td className="nowrap">{when(l.until)}</td>
                    <td className="nowrap">
                      <button type="button" disabled={act.busy} onClick={() => lift(l)}>
                        Lift
                      </button>
                      {l.scope === 'username' && (
                        <>
                          {' '}
                          <Link to={`/admin/customers/${encodeURIComponent(l.key)}`}>Customer</Link>
                        </>
                      )}
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
