// Three areas: a landing page at /, the admin console at /admin/*, the
// customer portal at /portal/*.
import { AdminApp } from './admin/AdminApp.tsx';
import { PortalApp } from './portal/PortalApp.tsx';
import { Link, usePath } from './router.tsx';

export function App() {
  const path = usePath();
  if (path === '/admin' || path.startsWith('/admin/')) return <AdminApp path={path} />;
  if (path === '/portal' || path.startsWith('/portal/')) return <PortalApp />;
  return (
    <main className="landing">
      <h1>
        <span className="logo" aria-hidden="true" /> Portcullis
      </h1>
      <p className="muted">Proxy gateway and control plane</p>
      <div className="choices">
        <Link to="/admin" className="choice">
          <strong className="choice-title">Admin console</strong>
          <span>Customers, plans, ports and live traffic. Sign in with an admin token.</span>
        </Link>
        <Link to="/portal" className="choice">
          <strong className="choice-title">Customer portal</strong>
          <span>Your proxies, usage and whitelist. Sign in with your username and password.</span>
        </Link>
      </div>
    </main>
  );
}
