// The customer's proxy list (GET /api/v1/me/proxies) in the usual formats,
// with copy and download. The password is not stored anywhere on the server
// in clear, so the user:pass formats use the one typed at sign-in (kept in
// memory) or ask for it.
import { useState } from 'react';
import type { Call } from '../api.ts';
import { copyText, download, ErrorNote, useLoad } from '../ui.tsx';

const FORMATS = {
  'host:port': (hp: string) => hp,
  'host:port:user:pass': (hp: string, u: string, p: string) => `${hp}:${u}:${p}`,
  'user:pass@host:port': (hp: string, u: string, p: string) => `${u}:${p}@${hp}`,
} as const;
type Format = keyof typeof FORMATS;

export function ProxyList(props: {
  call: Call;
  username: string;
  password: string | null;
  onPassword: (p: string) => void;
  /** the refusal code now: the list is fetched again when it changes */
  refusal: string | null;
}) {
  const { call, username, password } = props;
  const list = useLoad(() => call<string>('GET', '/api/v1/me/proxies', { accept: 'text' }), [props.refusal]);
  const [format, setFormat] = useState<Format>('host:port');
  const [typed, setTyped] = useState('');
  const [copied, setCopied] = useState(false);
  const lines = (list.data ?? '').split('\n').filter(Boolean);
  const needsPassword = format !== 'host:port' && !password && !list.error;
  const text = needsPassword
    ? ''
    : lines.map((hp) => FORMATS[format](hp, username, password ?? '')).join('\n') +
      (lines.length ? '\n' : '');
  return (
    <section className="card">
      <div className="row between">
        <h2>
          Proxies {list.data !== undefined && <span className="muted small">{lines.length} ports</span>}
        </h2>
        <div className="row controls">
          <select aria-label="format" value={format} onChange={(e) => setFormat(e.target.value as Format)}>
            {Object.keys(FORMATS).map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={!text}
            onClick={async () => {
              await copyText(text);
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
          <button type="button" disabled={!text} onClick={() => download('proxies.txt', text)}>
            Download
          </button>
        </div>
      </div>
      <ErrorNote error={list.error} />
      {needsPassword && (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            props.onPassword(typed);
          }}
        >
          <label>
            Your password, to write it into the list (stays in this page)
            <input type="password" value={typed} onChange={(e) => setTyped(e.target.value)} required />
          </label>
          <button type="submit">Use</button>
        </form>
      )}
      {!list.error && list.data !== undefined && lines.length === 0 && (
        <p className="muted">No ports are available right now.</p>
      )}
      {text && !list.error && (
        <pre className="proxies" data-testid="proxy-list">
          {text}
        </pre>
      )}
    </section>
  );
}
