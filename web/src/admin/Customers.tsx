// Customers: search, filter by status, page through, create one (the answer
// shows the API key and a generated password once).
import { type FormEvent, useState } from 'react';
import { fromLocalInput, when } from '../format.ts';
import { Link } from '../router.tsx';
import type { Customer, Plan } from '../types.ts';
import { Badge, ErrorNote, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const PAGE = 50;

export function statusBadge(c: Pick<Customer, 'status' | 'lockedUntil'>) {
  if (c.lockedUntil) return <Badge kind="warn">locked out</Badge>;
  return (
    <Badge kind={c.status === 'active' ? 'good' : c.status === 'banned' ? 'bad' : 'warn'}>{c.status}</Badge>
  );
}

function CreateCustomer({ call, plans, onCreated }: PageProps & { plans: Plan[]; onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [plan, setPlan] = useState('');
  const [password, setPassword] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const [created, setCreated] = useState<Customer | null>(null);
  const act = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body: Record<string, unknown> = { username: username.trim(), plan: plan || plans[0]?.name };
      if (password) body.password = password;
      if (expiresAt) body.expiresAt = fromLocalInput(expiresAt);
      const c = await call<Customer>('POST', '/api/v1/customers', { body });
      setCreated(c);
      setUsername('');
      setPassword('');
      setExpiresAt('');
      onCreated();
    });
  };
  return (
    <section className="card">
      <h2>New customer</h2>
      <form className="form-grid" onSubmit={submit} aria-label="new customer">
        <label>
          Username
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label>
          Plan
          <select name="plan" value={plan || plans[0]?.name || ''} onChange={(e) => setPlan(e.target.value)}>
            {plans.map((p) => (
              <option key={p.id} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Password <span className="muted small">(generated when empty)</span>
          <input
            name="password"
            type="text"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Expires <span className="muted small">(default: plan duration)</span>
          <input type="datetime-local" value={expiresAt} onChange={(e) => setExpiresAt(e.target.value)} />
        </label>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={act.busy}>
            Create customer
          </button>
        </div>
      </form>
      <ErrorNote error={act.error} />
      {created && (
        <div className="note ok secret" role="status">
          <p>
            Created <strong>{created.username}</strong> on plan {created.plan}. Shown once, copy them now:
          </p>
          <dl>
            <dt>API key</dt>
            <dd>
              <code>{created.apiKey}</code>
            </dd>
            {created.password && (
              <>
                <dt>Password</dt>
                <dd>
                  <code>{created.password}</code>
                </dd>
              </>
            )}
          </dl>
        </div>
      )}
    </section>
  );
}

export function Customers(props: PageProps) {
  const { call } = props;
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [offset, setOffset] = useState(0);
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (q.trim()) query.set('q', q.trim());
  if (status) query.set('status', status);
  const list = useLoad(
    () => call<{ items: Customer[]; total: number }>('GET', `/api/v1/customers?${query}`),
    [query.toString()],
  );
  const plans = useLoad(() => call<Plan[]>('GET', '/api/v1/plans'), []);
  return (
    <>
      <h1>Customers</h1>
      {plans.data && <CreateCustomer {...props} plans={plans.data} onCreated={list.reload} />}
      <ErrorNote error={plans.error} />
      <section className="card">
        <div className="row controls">
          <input
            type="search"
            placeholder="Search usernames"
            aria-label="search customers"
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              setOffset(0);
            }}
          />
          <select
            aria-label="status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">any status</option>
            <option value="active">active</option>
            <option value="banned">banned</option>
            <option value="disabled">disabled</option>
          </select>
          <span className="muted small">{list.data ? `${list.data.total} customers` : ''}</span>
        </div>
        <ErrorNote error={list.error} />
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>Username</th>
                <th>Plan</th>
                <th>Status</th>
                <th>Expires</th>
                <th className="num">Whitelisted</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/admin/customers/${encodeURIComponent(c.username)}`}>{c.username}</Link>
                  </td>
                  <td>{c.plan}</td>
                  <td>{statusBadge(c)}</td>
                  <td>{c.startOnFirstUse && !c.expiresAt ? 'on first use' : when(c.expiresAt)}</td>
                  <td className="num">{c.ips.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {list.data && list.data.total > PAGE && (
          <div className="row">
            <button
              type="button"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
            >
              ← Previous
            </button>
            <span className="muted small">
              {offset + 1}–{Math.min(offset + PAGE, list.data.total)} of {list.data.total}
            </span>
            <button
              type="button"
              disabled={offset + PAGE >= list.data.total}
              onClick={() => setOffset(offset + PAGE)}
            >
              Next →
            </button>
          </div>
        )}
      </section>
    </>
  );
}
