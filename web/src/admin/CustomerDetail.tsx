// One customer: status and usage, edit plan/expiry/password, whitelist,
// kick / ban / unban / unlock / new API key / delete, and the usage chart.
import { type FormEvent, useState } from 'react';
import { bytes, fromLocalInput, toLocalInput, when } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import type { Customer, Plan, Usage } from '../types.ts';
import { ErrorNote, Ok, UsageHistory, type UsagePoint, useAction, useLoad } from '../ui.tsx';
import { Whitelist } from '../Whitelist.tsx';
import type { PageProps } from './AdminApp.tsx';
import { statusBadge } from './Customers.tsx';

export function CustomerDetail({ call, username }: PageProps & { username: string }) {
  const base = `/api/v1/customers/${encodeURIComponent(username)}`;
  const c = useLoad(() => call<Customer>('GET', base), [base]);
  const usage = useLoad(() => call<Usage>('GET', `${base}/usage`), [base]);
  const plans = useLoad(() => call<Plan[]>('GET', '/api/v1/plans'), []);
  const act = useAction();
  const [plan, setPlan] = useState<string | null>(null);
  const [expires, setExpires] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [banReason, setBanReason] = useState('');
  const [banUntil, setBanUntil] = useState('');
  const [newKey, setNewKey] = useState<string | null>(null);

  if (c.error) return <ErrorNote error={c.error} />;
  const cu = c.data;
  if (!cu) return <p className="muted">Loading…</p>;
  const refresh = () => {
    c.reload();
    usage.reload();
  };
  const post = (path: string, body?: unknown) =>
    call<Customer>('POST', `${base}${path}`, { body: body ?? {} });

  const save = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body: Record<string, unknown> = {};
      if (plan !== null && plan !== cu.plan) body.plan = plan;
      if (expires !== null && expires !== toLocalInput(cu.expiresAt))
        body.expiresAt = fromLocalInput(expires);
      if (password) body.password = password;
      if (Object.keys(body).length === 0) return 'Nothing to change.';
      await call('PATCH', base, { body });
      setPassword('');
      setPlan(null);
      setExpires(null);
      refresh();
      return `Saved ${Object.keys(body).join(', ')}.`;
    });
  };
  const ban = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body: Record<string, string> = {};
      if (banReason) body.reason = banReason;
      if (banUntil) body.until = fromLocalInput(banUntil)!;
      await post('/ban', body);
      setBanReason('');
      setBanUntil('');
      refresh();
      return `Banned ${username}; their connections were closed.`;
    });
  };
  const u = usage.data;
  return (
    <>
      <p className="small">
        <Link to="/admin/customers">← Customers</Link>
      </p>
      <div className="row between">
        <h1>
          {cu.username} {statusBadge(cu)}
        </h1>
        <div className="row">
          <button
            type="button"
            onClick={() =>
              act.run(async () => {
                await post('/kick');
                return `Kicked ${username}.`;
              })
            }
          >
            Kick
          </button>
          {cu.status === 'banned' && (
            <button
              type="button"
              onClick={() =>
                act.run(async () => {
                  await post('/unban');
                  refresh();
                  return `Unbanned ${username}.`;
                })
              }
            >
              Unban
            </button>
          )}
          {cu.lockedUntil && (
            <button
              type="button"
              onClick={() =>
                act.run(async () => {
                  await post('/unlock');
                  refresh();
                  return 'Lock-out lifted.';
                })
              }
            >
              Unlock
            </button>
          )}
          <button
            type="button"
            onClick={() =>
              act.run(async () => {
                const r = await call<Customer>('PATCH', base, { body: { regenerateApiKey: true } });
                setNewKey(r.apiKey ?? null);
                refresh();
                return 'New API key issued; the old one no longer works.';
              })
            }
          >
            New API key
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (!window.confirm(`Delete ${username}? Their connections close and their data goes.`)) return;
              act.run(async () => {
                await call('DELETE', base);
                navigate('/admin/customers');
              });
            }}
          >
            Delete
          </button>
        </div>
      </div>
      <ErrorNote error={act.error} />
      {act.done && <Ok>{act.done}</Ok>}
      {newKey && (
        <div className="note ok secret">
          New API key (shown once): <code>{newKey}</code>
        </div>
      )}
      {cu.status === 'banned' && (
        <div className="note error">
          Banned{cu.banReason ? `: ${cu.banReason}` : ''}
          {cu.bannedUntil ? ` (until ${when(cu.bannedUntil)})` : ' (until unbanned)'}
        </div>
      )}
      <div className="grid2">
        <section className="card">
          <h2>Account</h2>
          <dl className="facts">
            <dt>Plan</dt>
            <dd>{cu.plan}</dd>
            <dt>Expires</dt>
            <dd>{cu.startOnFirstUse && !cu.expiresAt ? 'on first use' : when(cu.expiresAt)}</dd>
            <dt>API key</dt>
            <dd>
              <code>{cu.apiKeyPrefix}…</code>
            </dd>
            <dt>Used this period</dt>
            <dd>
              {u
                ? `${bytes(u.bytesUsed)} of ${u.quotaBytes === null ? 'unlimited' : bytes(u.quotaBytes)}`
                : '…'}
            </dd>
            <dt>Threads live</dt>
            <dd>{u ? u.threadsLive : '…'}</dd>
            {cu.lockedUntil && (
              <>
                <dt>Locked out until</dt>
                <dd>{when(cu.lockedUntil)}</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>{when(cu.createdAt)}</dd>
          </dl>
        </section>
        <section className="card">
          <h2>Edit</h2>
          <form className="form-grid" onSubmit={save} aria-label="edit customer">
            <label>
              Plan
              <select name="plan" value={plan ?? cu.plan} onChange={(e) => setPlan(e.target.value)}>
                {plans.data?.map((p) => (
                  <option key={p.id} value={p.name}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Expires
              <input
                type="datetime-local"
                value={expires ?? toLocalInput(cu.expiresAt)}
                onChange={(e) => setExpires(e.target.value)}
              />
            </label>
            <label>
              New password
              <input
                name="password"
                type="text"
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <div className="form-actions">
              <button type="submit" className="primary" disabled={act.busy}>
                Save
              </button>
            </div>
          </form>
        </section>
      </div>
      <div className="grid2">
        <Whitelist
          call={call}
          path={`${base}/ips`}
          ips={cu.ips}
          onChange={refresh}
          label="whitelist an address"
          placeholder="203.0.113.7 or 2001:db8::/48"
          intro={
            cu.ips.length === 0
              ? 'No whitelisted addresses: password only.'
              : 'Connections from these addresses need no password.'
          }
          added={(cidr) => `Whitelisted ${cidr}.`}
        />
        <section className="card">
          <h2>Ban</h2>
          <form className="form-grid" onSubmit={ban} aria-label="ban customer">
            <label>
              Reason
              <input name="reason" value={banReason} onChange={(e) => setBanReason(e.target.value)} />
            </label>
            <label>
              Until <span className="muted small">(empty: until unbanned)</span>
              <input type="datetime-local" value={banUntil} onChange={(e) => setBanUntil(e.target.value)} />
            </label>
            <div className="form-actions">
              <button type="submit" className="danger" disabled={act.busy}>
                Ban and kick
              </button>
            </div>
          </form>
        </section>
      </div>
      <UsageHistory
        load={(q) => call<{ step: 'hour' | 'day'; items: UsagePoint[] }>('GET', `${base}/usage/history?${q}`)}
      />
    </>
  );
}
