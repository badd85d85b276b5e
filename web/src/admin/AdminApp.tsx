// The admin console: signs in with an admin token (kept in this tab's
// sessionStorage only), then a navigation and the page the path names.
import { type FormEvent, type ReactElement, useMemo, useState } from 'react';
import { type Call, client } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { ErrorNote, useAction } from '../ui.tsx';
import { Audit } from './Audit.tsx';
import { Connections } from './Connections.tsx';
import { CustomerDetail } from './CustomerDetail.tsx';
import { Customers } from './Customers.tsx';
import { Lockouts } from './Lockouts.tsx';
import { Overview } from './Overview.tsx';
import { Plans } from './Plans.tsx';
import { Ports } from './Ports.tsx';

const KEY = 'portcullis.admin';

const NAV = [
  ['/admin', 'Overview'],
  ['/admin/customers', 'Customers'],
  ['/admin/plans', 'Plans'],
  ['/admin/ports', 'Upstreams & ports'],
  ['/admin/connections', 'Connections'],
  ['/admin/lockouts', 'Lock-outs'],
  ['/admin/audit', 'Audit log'],
] as const;

export interface PageProps {
  call: Call;
  token: string;
}

function SignIn({ onToken }: { onToken: (t: string) => void }) {
  const [token, setToken] = useState('');
  const act = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const t = token.trim();
      await client(t)('GET', '/api/v1/plans');
      onToken(t);
    });
  };
  return (
    <main className="signin">
      <form className="card" onSubmit={submit}>
        <h1>
          <span className="logo" aria-hidden="true" /> Portcullis admin
        </h1>
        <label>
          Admin token
          <input
            name="token"
            type="password"
            autoComplete="current-password"
            placeholder="pca_..."
            value={token}
            onChange={(e) => setToken(e.target.value)}
            required
          />
        </label>
        <p className="muted small">
          <code>npm start</code> prints it on the first run and saves it to <code>data/admin-token</code>.
        </p>
        <ErrorNote error={act.error} />
        <button type="submit" className="primary" disabled={act.busy}>
          {act.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="small">
          <Link to="/portal">Customer portal →</Link>
        </p>
      </form>
    </main>
  );
}

export function AdminApp({ path }: { path: string }) {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(KEY));
  const call = useMemo(() => client(token), [token]);
  if (!token)
    return (
      <SignIn
        onToken={(t) => {
          sessionStorage.setItem(KEY, t);
          setToken(t);
        }}
      />
    );
  const signOut = () => {
    sessionStorage.removeItem(KEY);
    setToken(null);
    navigate('/admin');
  };
  const props = { call, token };
  const customer = /^\/admin\/customers\/([^/]+)$/.exec(path);
  let page: ReactElement;
  if (customer) page = <CustomerDetail {...props} username={decodeURIComponent(customer[1])} />;
  else if (path === '/admin/customers') page = <Customers {...props} />;
  else if (path === '/admin/plans') page = <Plans {...props} />;
  else if (path === '/admin/ports') page = <Ports {...props} />;
  else if (path === '/admin/connections') page = <Connections {...props} />;
  else if (path === '/admin/lockouts') page = <Lockouts {...props} />;
  else if (path === '/admin/audit') page = <Audit {...props} />;
  else page = <Overview {...props} />;
  const active = (to: string) =>
    to === '/admin' ? path === '/admin' || path === '/admin/' : path.startsWith(to);
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/admin" className="brand">
          <span className="logo" aria-hidden="true" /> Portcullis
        </Link>
        <nav aria-label="Admin">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} className="nav" aria-current={active(to) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <button type="button" className="link signout" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main className="page">{page}</main>
    </div>
  );
}
