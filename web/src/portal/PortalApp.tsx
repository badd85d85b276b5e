// The customer portal: sign in with username and password (a session token
// in this tab's sessionStorage; the password stays in memory only, to fill
// the user:pass proxy formats), then live gauges, the proxy list, the
// whitelist, the API key and the usage chart.
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { type ApiError, type Call, client, stream } from '../api.ts';
import { bytes, duration, when } from '../format.ts';
import { Link } from '../router.tsx';
import type { Overview } from '../types.ts';
import { ErrorNote, Gauge, UsageHistory, type UsagePoint, useAction, useLoad } from '../ui.tsx';
import { Whitelist } from '../Whitelist.tsx';
import { ProxyList } from './ProxyList.tsx';

const KEY = 'portcullis.portal';

interface Session {
  token: string;
  username: string;
}

function SignIn({ onSession }: { onSession: (s: Session, password: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const act = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const r = await client(null)<{ token: string }>('POST', '/api/v1/me/session', {
        body: { username: username.trim(), password },
      });
      onSession({ token: r.token, username: username.trim() }, password);
    });
  };
  return (
    <main className="signin">
      <form className="card" onSubmit={submit}>
        <h1>
          <span className="logo" aria-hidden="true" /> Your proxies
        </h1>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
          />
        </label>
        <ErrorNote error={act.error} />
        <button type="submit" className="primary" disabled={act.busy}>
          {act.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="small">
          <Link to="/admin">Admin console →</Link>
        </p>
      </form>
    </main>
  );
}

function Gauges({ o, now }: { o: Overview; now: number }) {
  const { usage, plan, customer } = o;
  const quota = usage.quotaBytes;
  const exp = customer.expiresAt ? Date.parse(customer.expiresAt) : null;
  const span = (plan.durationDays ?? 30) * 86_400_000;
  return (
    <section className="gauges">
      <Gauge
        label="Quota used"
        value={quota ? usage.bytesUsed / quota : null}
        text={quota ? `${Math.min(999, Math.round((usage.bytesUsed / quota) * 100))}%` : '∞'}
        sub={`${bytes(usage.bytesUsed)} of ${quota ? bytes(quota) : 'unlimited'}${usage.periodEnd ? ` · resets ${when(usage.periodEnd)}` : ''}`}
      />
      <Gauge
        label="Threads live"
        value={usage.threadsLive / Math.max(1, plan.threads)}
        text={`${usage.threadsLive}/${plan.threads}`}
        sub={`${plan.rps} requests/s`}
      />
      <Gauge
        label="Time left"
        // the ring empties as expiry nears
        value={exp === null ? null : 1 - Math.max(0, Math.min(1, (exp - now) / span))}
        text={
          exp === null
            ? customer.startOnFirstUse
              ? 'unused'
              : '∞'
            : exp <= now
              ? 'expired'
              : duration(exp - now)
        }
        sub={
          exp === null
            ? customer.startOnFirstUse
              ? 'starts on first use'
              : 'no expiry'
            : `until ${when(customer.expiresAt)}`
        }
      />
    </section>
  );
}

function ApiKey({ call, o }: { call: Call; o: Overview }) {
  const [key, setKey] = useState<string | null>(null);
  const act = useAction();
  return (
    <section className="card">
      <h2>API key</h2>
      <p>
        Current key starts with <code>{o.customer.apiKeyPrefix}</code>. Scripts fetch your list with{' '}
        <code>/api/proxies.php?api_key=…</code>
      </p>
      <button
        type="button"
        onClick={() => {
          if (!window.confirm('Issue a new API key? The current one stops working at once.')) return;
          act.run(async () => {
            const r = await call<{ apiKey: string }>('POST', '/api/v1/me/api-key');
            setKey(r.apiKey);
          });
        }}
        disabled={act.busy}
      >
        Regenerate API key
      </button>
      <ErrorNote error={act.error} />
      {key && (
        <div className="note ok secret">
          New key (shown once): <code>{key}</code>
        </div>
      )}
    </section>
  );
}

export function PortalApp() {
  const [session, setSession] = useState<Session | null>(() => {
    const s = sessionStorage.getItem(KEY);
    return s ? (JSON.parse(s) as Session) : null;
  });
  const [password, setPassword] = useState<string | null>(null);
  const [o, setO] = useState<Overview | null>(null);
  const [state, setState] = useState<'live' | ApiError | null>(null);
  const [ended, setEnded] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const call = useMemo(() => client(session?.token ?? null), [session]);
  const first = useLoad(
    async () => (session ? call<Overview>('GET', '/api/v1/me/overview') : null),
    [session],
  );

  useEffect(() => {
    if (first.data) setO(first.data);
  }, [first.data]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (!session) return;
    return stream('/api/v1/me/live', session.token, {
      onEvent(event, data) {
        if (event === 'overview') {
          setO(data as Overview);
          setNow(Date.now());
        } else if (event === 'end') setEnded((data as { message: string }).message);
      },
      onState: setState,
    });
  }, [session]);

  const signOut = async () => {
    try {
      if (session) await call('DELETE', '/api/v1/me/session');
    } catch {}
    sessionStorage.removeItem(KEY);
    setSession(null);
    setPassword(null);
    setO(null);
    setEnded(null);
  };

  const unauthorized =
    ended ||
    (first.error as ApiError | null)?.status === 401 ||
    (state !== null && state !== 'live' && state.status === 401);
  if (!session || unauthorized)
    return (
      <>
        {session && unauthorized && (
          <div className="note error banner">{ended ?? 'Your session ended; sign in again.'}</div>
        )}
        <SignIn
          onSession={(s, pw) => {
            sessionStorage.setItem(KEY, JSON.stringify(s));
            setEnded(null);
            setState(null);
            setSession(s);
            setPassword(pw);
          }}
        />
      </>
    );

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">
          <span className="logo" aria-hidden="true" /> {session.username}
        </span>
        <span className={`live ${state === 'live' ? 'on' : 'off'}`}>
          {state === 'live' ? 'live' : 'connecting…'}
        </span>
        <button type="button" className="link signout" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main className="page">
        <ErrorNote error={first.error} />
        {state && state !== 'live' && <ErrorNote error={state} />}
        {o?.refusal && (
          <div className="note error refusal" role="alert" data-testid="refusal">
            <strong>Your proxies refuse connections: {o.refusal.message}</strong>{' '}
            <code className="code">{o.refusal.code}</code>
            {o.customer.banReason && <p>Reason: {o.customer.banReason}</p>}
            {o.customer.bannedUntil && <p>Until {when(o.customer.bannedUntil)}</p>}
            {o.customer.lockedUntil && <p>Locked out until {when(o.customer.lockedUntil)}</p>}
          </div>
        )}
        {o && (
          <>
            <h1>
              Plan {o.plan.name}{' '}
              <span className="muted small">
                {o.plan.threads} threads · {o.plan.rps} req/s ·{' '}
                {o.plan.bandwidth ? `${bytes(o.plan.bandwidth)}/s` : 'unlimited bandwidth'}
              </span>
            </h1>
            <Gauges o={o} now={now} />
            <ProxyList
              call={call}
              username={session.username}
              password={password}
              onPassword={setPassword}
              refusal={o.refusal?.code ?? null}
            />
            <div className="grid2">
              <Whitelist
                call={call}
                path="/api/v1/me/ips"
                ips={o.customer.ips}
                onChange={first.reload}
                label="whitelist my address"
                placeholder="your IP or CIDR"
                intro="Connections from these addresses are yours without a password."
                added={(cidr) => `Whitelisted ${cidr}: connections from it need no password.`}
              />
              <ApiKey call={call} o={o} />
            </div>
            <UsageHistory
              load={(q) =>
                call<{ step: 'hour' | 'day'; items: UsagePoint[] }>('GET', `/api/v1/me/usage/history?${q}`)
              }
            />
          </>
        )}
      </main>
    </div>
  );
}
