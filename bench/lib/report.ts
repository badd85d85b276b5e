// Renders bench results as markdown: absolute figures, ratios against squid
// (HTTP columns, memory) and microsocks (SOCKS5), the issue's reference figures,
// and Portcullis' targets from issue 3.
export type Metric = 'fwd' | 'connect' | 'tunnel' | 'socks' | 'idle';

export interface Cell {
  value: number;
  errors: number;
  note?: string;
}

export interface Row {
  name: string;
  cells: Partial<Record<Metric, Cell>>;
  /** why the row has no figures (peer missing, hook not wired, start failed) */
  missing?: string;
  note?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  kernel: string;
  node: string;
  loadStart: string;
  loadEnd: string;
  versions: string;
  settings: string;
  date: string;
  seconds: number;
}

const COLUMNS: { key: Metric; title: string; digits: number }[] = [
  { key: 'fwd', title: 'forward HTTP req/s', digits: 0 },
  { key: 'connect', title: 'CONNECT + 1 GET /s', digits: 0 },
  { key: 'tunnel', title: 'MB/s one tunnel', digits: 0 },
  { key: 'socks', title: 'SOCKS5 set-ups/s', digits: 0 },
  { key: 'idle', title: 'KB / idle tunnel', digits: 1 },
];

/** The reference figures of issue 3 (2 cores, loopback, nginx origin). */
const ISSUE: { row: string; key: Metric; value: number }[] = [
  { row: 'squid', key: 'fwd', value: 17_700 },
  { row: 'squid', key: 'connect', value: 7_650 },
  { row: 'squid', key: 'tunnel', value: 855 },
  { row: 'squid', key: 'idle', value: 24 },
  { row: 'microsocks', key: 'socks', value: 10_500 },
  { row: 'proxy-chain', key: 'fwd', value: 7_100 },
  { row: 'proxy-chain', key: 'connect', value: 5_300 },
];

/** Portcullis must reach these multiples of the reference row (idle: an absolute ceiling). */
const TARGETS: { key: Metric; ref: string; factor: number; label: string }[] = [
  { key: 'fwd', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'connect', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'tunnel', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'socks', ref: 'microsocks', factor: 0.8, label: '>= 0.8x microsocks' },
];
const IDLE_CEILING_KB = 8;

const fmt = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function refFor(key: Metric): string {
  return key === 'socks' ? 'microsocks' : 'squid';
}

export function render(rows: Row[], m: Machine, idleTunnels: number): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const out: string[] = [];
  out.push('# Portcullis bench: gateway vs. peers', '');
  out.push(`${m.date} · ${m.cpus} CPUs (${m.cpuModel}) · Linux ${m.kernel} · Node ${m.node}`);
  out.push(
    `load average at start ${m.loadStart}, at end ${m.loadEnd} (other work on the machine skews figures)`,
  );
  out.push(`${m.versions}`, `${m.settings}`, '');
  out.push(
    `Ratios in brackets: against **squid** for HTTP columns and memory, against **microsocks** for SOCKS5. ` +
      `Memory is the growth of the proxy's PSS (its process and children) divided by ${idleTunnels} idle ` +
      'tunnels, in KiB; the notes give the main process VmRSS growth too. ' +
      'A trailing `!` marks a figure with errors (see notes).',
    '',
  );
  out.push(`| proxy | ${COLUMNS.map((c) => c.title).join(' | ')} | notes |`);
  out.push(`|---|${COLUMNS.map(() => '---:').join('|')}|---|`);
  for (const r of rows) {
    const cells = COLUMNS.map((c) => {
      const cell = r.cells[c.key];
      if (!cell) return '—';
      const ref = byName.get(refFor(c.key))?.cells[c.key];
      const ratio =
        ref && ref.value > 0 && r.name !== refFor(c.key) ? ` (${(cell.value / ref.value).toFixed(2)}x)` : '';
      return `${fmt(cell.value, c.digits)}${ratio}${cell.errors ? ' !' : ''}`;
    });
    const notes = [
      r.missing,
      r.note,
      ...COLUMNS.flatMap((c) => {
        const cell = r.cells[c.key];
        if (!cell) return [];
        const parts = [cell.errors ? `${cell.errors} errors` : '', cell.note ?? ''].filter(Boolean);
        return parts.length ? [`${c.key}: ${parts.join(', ')}`] : [];
      }),
    ].filter(Boolean);
    out.push(`| ${r.name} | ${cells.join(' | ')} | ${notes.join('; ')} |`);
  }

  out.push('', '## Against the figures in issue 3', '');
  out.push('| peer | metric | issue 3 | here | here / issue |', '|---|---|---:|---:|---:|');
  for (const ref of ISSUE) {
    const col = COLUMNS.find((c) => c.key === ref.key)!;
    const here = byName.get(ref.row)?.cells[ref.key];
    const hereText = here ? fmt(here.value, col.digits) : '—';
    const ratio = here ? `${(here.value / ref.value).toFixed(2)}x` : '—';
    out.push(`| ${ref.row} | ${col.title} | ${fmt(ref.value, col.digits)} | ${hereText} | ${ratio} |`);
  }

  const pc = rows.find((r) => r.name.startsWith('portcullis'));
  out.push('', '## Portcullis targets (issue 3, authentication on)', '');
  if (!pc || pc.missing) {
    out.push(`Not measured: ${pc?.missing ?? 'no Portcullis row'}.`);
  } else {
    out.push('| metric | target | Portcullis | reference | verdict |', '|---|---|---:|---:|---|');
    for (const t of TARGETS) {
      const col = COLUMNS.find((c) => c.key === t.key)!;
      const mine = pc.cells[t.key];
      const ref = byName.get(t.ref)?.cells[t.key];
      const ok = mine && ref ? mine.value >= ref.value * t.factor && !mine.errors : undefined;
      out.push(
        `| ${col.title} | ${t.label} | ${mine ? fmt(mine.value, 0) : '—'} | ${ref ? fmt(ref.value, 0) : '—'} | ${ok === undefined ? '—' : ok ? 'met' : 'MISSED'} |`,
      );
    }
    const idle = pc.cells.idle;
    const idleOk = idle ? idle.value <= IDLE_CEILING_KB && !idle.errors : undefined;
    out.push(
      `| KB / idle tunnel | <= ${IDLE_CEILING_KB} KB at ${idleTunnels} | ${idle ? fmt(idle.value, 1) : '—'} | — | ${idleOk === undefined ? '—' : idleOk ? 'met' : 'MISSED'} |`,
    );
  }
  return out.join('\n') + '\n';
}
