// Plans: list, create, edit (the same form), delete (refused while in use).
import { type FormEvent, useState } from 'react';
import { ApiError } from '../api.ts';
import { bytes, parseBytes, rate } from '../format.ts';
import type { Plan } from '../types.ts';
import { ErrorNote, Ok, useAction, useLoad } from '../ui.tsx';
import type { PageProps } from './AdminApp.tsx';

const EMPTY = {
  name: '',
  threads: '10',
  rps: '20',
  bandwidth: '',
  quota: '',
  quotaPeriod: 'month',
  durationDays: '30',
  strikeMode: 'hard',
};
type Form = typeof EMPTY;

function fromPlan(p: Plan): Form {
  const b = (n: number | null) => (n === null ? '' : String(n));
  return {
    name: p.name,
    threads: String(p.threads),
    rps: String(p.rps),
    bandwidth: b(p.bandwidth),
    quota: b(p.quotaBytes),
    quotaPeriod: p.quotaPeriod,
    durationDays: b(p.durationDays),
    strikeMode: p.strikeMode,
  };
}

function toBody(f: Form) {
  const num = (field: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n))
      throw new ApiError(0, 'PC_ERR_VALIDATION', `${field} must be a whole number`, [
        { field, problem: 'must be a whole number' },
      ]);
    return n;
  };
  const size = (field: string, v: string) => {
    const n = parseBytes(v);
    if (Number.isNaN(n))
      throw new ApiError(0, 'PC_ERR_VALIDATION', `${field}: write a size like 10GB or 500MB`, [
        { field, problem: 'must be a size like 10GB' },
      ]);
    return n;
  };
  return {
    name: f.name.trim(),
    threads: num('threads', f.threads),
    rps: num('rps', f.rps),
    bandwidth: size('bandwidth', f.bandwidth),
    quotaBytes: size('quotaBytes', f.quota),
    quotaPeriod: f.quotaPeriod,
    durationDays: f.durationDays ? num('durationDays', f.durationDays) : null,
    strikeMode: f.strikeMode,
  };
}

export function Plans({ call }: PageProps) {
  const plans = useLoad(() => call<Plan[]>('GET', '/api/v1/plans'), []);
  const [form, setForm] = useState<Form>(EMPTY);
  const [editing, setEditing] = useState<string | null>(null);
  const act = useAction();
  const set = (k: keyof Form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    act.run(async () => {
      const body = toBody(form);
      if (editing) await call('PATCH', `/api/v1/plans/${encodeURIComponent(editing)}`, { body });
      else await call('POST', '/api/v1/plans', { body });
      setForm(EMPTY);
      setEditing(null);
      plans.reload();
      return editing ? `Saved plan ${body.name}.` : `Created plan ${body.name}.`;
    });
  };
  return (
    <>
      <h1>Plans</h1>
      <section className="card">
        <h2>{editing ? `Edit ${editing}` : 'New plan'}</h2>
        <form className="form-grid" onSubmit={submit} aria-label={editing ? 'edit plan' : 'new plan'}>
          <label>
            Name
            <input name="name" value={form.name} onChange={set('name')} required />
          </label>
          <label>
            Threads <span className="muted small">(concurrent connections)</span>
            <input
              name="threads"
              inputMode="numeric"
              value={form.threads}
              onChange={set('threads')}
              required
            />
          </label>
          <label>
            Requests/s
            <input name="rps" inputMode="numeric" value={form.rps} onChange={set('rps')} required />
          </label>
          <label>
            Bandwidth, bytes/s <span className="muted small">(e.g. 1MB; empty: unlimited)</span>
            <input name="bandwidth" value={form.bandwidth} onChange={set('bandwidth')} />
          </label>
          <label>
            Quota <span className="muted small">(e.g. 10GB; empty: unlimited)</span>
            <input name="quota" value={form.quota} onChange={set('quota')} />
          </label>
          <label>
            Quota period
            <select name="quotaPeriod" value={form.quotaPeriod} onChange={set('quotaPeriod')}>
              <option value="month">calendar month</option>
              <option value="month_from_start">month from start</option>
              <option value="week">week</option>
              <option value="day">day</option>
              <option value="none">none (lifetime)</option>
            </select>
          </label>
          <label>
            Duration, days
            <input
              name="durationDays"
              inputMode="numeric"
              value={form.durationDays}
              onChange={set('durationDays')}
            />
          </label>
          <label>
            Thread limit
            <select name="strikeMode" value={form.strikeMode} onChange={set('strikeMode')}>
              <option value="hard">hard: refuse above threads</option>
              <option value="soft">soft: strike rule</option>
            </select>
          </label>
          <div className="form-actions">
            <button type="submit" className="primary" disabled={act.busy}>
              {editing ? 'Save plan' : 'Create plan'}
            </button>
            {editing && (
              <button
                type="button"
                onClick={() => {
                  setEditing(null);
                  setForm(EMPTY);
                }}
              >
                Cancel
              </button>
            )}
          </div>
        </form>
        <ErrorNote error={act.error} />
        {act.done && <Ok>{act.done}</Ok>}
      </section>
      <section className="card">
        <ErrorNote error={plans.error} />
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Threads</th>
                <th className="num">Req/s</th>
                <th className="num">Bandwidth</th>
                <th className="num">Quota</th>
                <th>Period</th>
                <th className="num">Days</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {plans.data?.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td className="num">
                    {p.threads}
                    {p.strikeMode === 'soft' ? ' (soft)' : ''}
                  </td>
                  <td className="num">{p.rps}</td>
                  <td className="num">{rate(p.bandwidth)}</td>
                  <td className="num">{bytes(p.quotaBytes)}</td>
                  <td>{p.quotaPeriod}</td>
                  <td className="num">{p.durationDays ?? '—'}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="link"
                      onClick={() => {
                        setEditing(p.name);
                        setForm(fromPlan(p));
                        window.scrollTo(0, 0);
                      }}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="link danger"
                      onClick={() =>
                        act.run(async () => {
                          await call('DELETE', `/api/v1/plans/${encodeURIComponent(p.name)}`);
                          plans.reload();
                          return `Deleted plan ${p.name}.`;
                        })
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
