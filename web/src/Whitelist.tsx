// The IP whitelist card, the same for an admin editing a customer and for a
// customer editing their own: list with Remove, add form, and the API's
// answer (message and code) in the card. Only the endpoint and the words differ.
import { type FormEvent, useState } from 'react';
import type { Call } from './api.ts';
import type { Ip } from './types.ts';
import { ErrorNote, Ok, useAction } from './ui.tsx';

export function Whitelist(props: {
  call: Call;
  /** the collection: POST adds, DELETE {path}/{cidr} removes */
  path: string;
  ips: Ip[];
  /** after a change: reload what shows the list */
  onChange: () => void;
  /** the form's accessible name */
  label: string;
  placeholder: string;
  intro: string;
  /** the confirmation, given the stored CIDR */
  added: (cidr: string) => string;
}) {
  const { call, path, onChange } = props;
  const [cidr, setCidr] = useState('');
  const [note, setNote] = useState('');
  const act = useAction();
  const add = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const r = await call<{ cidr: string }>('POST', path, {
        body: note ? { cidr: cidr.trim(), note } : { cidr: cidr.trim() },
      });
      setCidr('');
      setNote('');
      onChange();
      return props.added(r.cidr);
    });
  };
  const remove = (entry: string) =>
    act.run(async () => {
      await call('DELETE', `${path}/${encodeURIComponent(entry)}`);
      onChange();
      return `Removed ${entry}.`;
    });
  return (
    <section className="card">
      <h2>IP whitelist</h2>
      <p className="muted small">{props.intro}</p>
      <ul className="plain">
        {props.ips.map((ip) => (
          <li key={ip.cidr} className="row between">
            <span>
              <code>{ip.cidr}</code> {ip.note && <span className="muted">{ip.note}</span>}
            </span>
            <button type="button" className="link" onClick={() => remove(ip.cidr)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={add} aria-label={props.label}>
        <input
          placeholder={props.placeholder}
          value={cidr}
          onChange={(e) => setCidr(e.target.value)}
          required
        />
        <input placeholder="note" value={note} onChange={(e) => setNote(e.target.value)} />
        <button type="submit" disabled={act.busy}>
          Add
        </button>
      </form>
      <ErrorNote error={act.error} />
      {act.done && <Ok>{act.done}</Ok>}
    </section>
  );
}
