// The bench's data model and its Markdown rendering: one table per group of
// scenarios (systems as rows), a summary of Portcullis against the best peer
// per figure, the Portcullis-only section, and issue 3's reference figures and
// targets. Every figure is the median of its runs; the JSON keeps every run.

export type Metric =
  | 'fwd'
  | 'fwdClose'
  | 'connect'
  | 'socks'
  | 'mbps1'
  | 'mbps8'
  | 'latFwd50'
  | 'latFwd99'
  | 'latTun50'
  | 'latTun99'
  | 'idle';

export interface Run {
  value: number;
  errors: number;
  /** CPU seconds the system under test used during the run (process tree) */
  cpu?: number;
  /** operations completed (requests, tunnels, bytes for throughput) */
  ops?: number;
  /** the load generator's own CPU seconds */
  genCpu?: number;
  seconds?: number;
  note?: string;
}

export interface Cell {
  /** median of the runs */
  value: number;
  runs: Run[];
  errors: number;
  /** CPU microseconds per operation (per MB for throughput), over all runs */
  cpuPerOp?: number;
  note?: string;
}

export type Group = 'direct' | 'peer' | 'portcullis' | 'variant';

export interface Row {
  name: string;
  group: Group;
  cells: Partial<Record<Metric, Cell>>;
  /** why the row has no figures (peer missing, start failed) */
  missing?: string;
  note?: string;
}

export interface PortsFigures {
  runs: { ports: number; startMs: number; selfMs: number; rssKb: number; pssKb: number; steady: boolean }[];
  error?: string;
}

export interface ApiFigures {
  store?: string;
  importMs?: number[];
  runs: { rps: number; errors: number; p50Ms: number; p99Ms: number }[];
  error?: string;
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
  command: string;
  date: string;
  wallSeconds: number;
}

/** The uncounted 1 s steps a Node system ran before measuring, until its rate stopped rising. */
export interface Warmup {
  system: string;
  mode: 'http' | 'connect' | 'socks5';
  rates: number[];
}

export interface Results {
  machine: Machine;
  rows: Row[];
  ports: PortsFigures;
  api: ApiFigures;
  idleTunnels: number;
  /** requests a second of the fixed-rate latency runs */
  latencyRates: { fwd: number; tunnel: number };
  /** absent in results written before warm-up steps were recorded */
  warmups?: Warmup[];
}

interface Column {
  key: Metric;
  title: string;
  digits: number;
  /** higher is better (rates) or lower (latency, memory) */
  higher: boolean;
  unit: string;
}

export const COLUMNS: Record<Metric, Column> = {
  fwd: { key: 'fwd', title: 'forward HTTP keep-alive req/s', digits: 0, higher: true, unit: 'req/s' },
  fwdClose: {
    key: 'fwdClose',
    title: 'forward HTTP `Connection: close` req/s',
    digits: 0,
    higher: true,
    unit: 'req/s',
  },
  connect: { key: 'connect', title: 'CONNECT + 1 GET /s', digits: 0, higher: true, unit: '/s' },
  socks: { key: 'socks', title: 'SOCKS5 set-ups/s', digits: 0, higher: true, unit: '/s' },
  mbps1: { key: 'mbps1', title: 'MB/s 1 stream', digits: 0, higher: true, unit: 'MB/s' },
  mbps8: { key: 'mbps8', title: 'MB/s 8 streams', digits: 0, higher: true, unit: 'MB/s' },
  latFwd50: { key: 'latFwd50', title: 'forward GET p50 µs', digits: 0, higher: false, unit: 'µs' },
  latFwd99: { key: 'latFwd99', title: 'forward GET p99 µs', digits: 0, higher: false, unit: 'µs' },
  latTun50: { key: 'latTun50', title: 'tunnel + GET p50 µs', digits: 0, higher: false, unit: 'µs' },
  latTun99: { key: 'latTun99', title: 'tunnel + GET p99 µs', digits: 0, higher: false, unit: 'µs' },
  idle: { key: 'idle', title: 'KB / idle tunnel', digits: 1, higher: false, unit: 'KB' },
};

const LATENCY: Metric[] = ['latFwd50', 'latFwd99', 'latTun50', 'latTun99'];
const TABLES: { title: string; keys: Metric[]; intro: string }[] = [
  {
    title: 'Rates',
    keys: ['fwd', 'fwdClose', 'connect', 'socks'],
    intro:
      'Operations per second at full load. The `nginx direct` row is the load generator against the origin ' +
      'with no proxy: its ceiling for the same work (connect + GET + close for CONNECT, connect + close for SOCKS5).',
  },
  {
    title: 'Tunnel throughput',
    keys: ['mbps1', 'mbps8'],
    intro:
      'MB/s (10^6 bytes) of body through CONNECT tunnels (SOCKS5 for microsocks and dante), one stream and 8 at once.',
  },
  {
    title: 'Latency at a fixed rate',
    keys: LATENCY,
    intro: '',
  },
  {
    title: 'Idle tunnels',
    keys: ['idle'],
    intro: '',
  },
];

/** The reference figures of issue 3 (2 cores, loopback, nginx origin). */
const ISSUE: { row: string; key: Metric; value: number }[] = [
  { row: 'squid', key: 'fwd', value: 17_700 },
  { row: 'squid', key: 'connect', value: 7_650 },
  { row: 'squid', key: 'mbps1', value: 855 },
  { row: 'squid', key: 'idle', value: 24 },
  { row: 'microsocks', key: 'socks', value: 10_500 },
  { row: 'proxy-chain', key: 'fwd', value: 7_100 },
  { row: 'proxy-chain', key: 'connect', value: 5_300 },
];

/** Portcullis must reach these multiples of the reference row (idle: an absolute ceiling). */
const TARGETS: { key: Metric; ref: string; factor: number; label: string }[] = [
  { key: 'fwd', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'connect', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'mbps1', ref: 'squid', factor: 1, label: '>= 1.0x squid' },
  { key: 'socks', ref: 'microsocks', factor: 0.8, label: '>= 0.8x microsocks' },
];
const IDLE_CEILING_KB = 8;

export const PORTCULLIS = 'portcullis + auth';
export const LIMITS_ON = 'portcullis + auth, limits on';
export const CHAIN = 'portcullis -> squid + basic auth';
export const SQUID_AUTH = 'squid + basic auth';
export const DIRECT = 'nginx direct (no proxy)';

const fmt = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function median(xs: number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Half the range of the runs as a share of the median: "±4%". */
function spread(c: Cell): string {
  if (c.runs.length < 2 || !c.value) return '';
  const vs = c.runs.map((r) => r.value);
  return `±${(((Math.max(...vs) - Math.min(...vs)) / 2 / Math.abs(c.value)) * 100).toFixed(0)}%`;
}

/** The best peer for a metric: highest rate, lowest latency or memory. Latency compares added latency. */
function bestPeer(rows: Row[], key: Metric): { row: Row; cell: Cell } | undefined {
  const col = COLUMNS[key];
  let best: { row: Row; cell: Cell } | undefined;
  for (const row of rows) {
    const cell = row.cells[key];
    if (row.group !== 'peer' || !cell || Number.isNaN(cell.value)) continue;
    if (!best || (col.higher ? cell.value > best.cell.value : cell.value < best.cell.value))
      best = { row, cell };
  }
  return best;
}

function added(rows: Row[], key: Metric, value: number): number | undefined {
  const base = rows.find((r) => r.group === 'direct')?.cells[key];
  return base ? value - base.value : undefined;
}

function ratioText(mine: number, ref: number): string {
  if (!(ref > 0) || !(mine >= 0)) return 'n/a';
  return `${(mine / ref).toFixed(2)}x`;
}

function errorMark(c: Cell): string {
  return c.errors ? ' !' : '';
}

/** A signed difference: "+1,588" or "−4,356". */
function signed(v: number, digits: number): string {
  return `${v < 0 ? '−' : '+'}${fmt(Math.abs(v), digits)}`;
}

function cellText(rows: Row[], row: Row, key: Metric): string {
  const c = row.cells[key];
  if (!c) return '—';
  const col = COLUMNS[key];
  if (LATENCY.includes(key) && row.group !== 'direct') {
    const plus = added(rows, key, c.value);
    return `${fmt(c.value, 0)}${plus === undefined ? '' : ` (${signed(plus, 0)})`}${errorMark(c)}`;
  }
  return `${fmt(c.value, col.digits)}${errorMark(c)}`;
}

/** Latency p50 and p99 come from the same runs: their notes are said once, under this name. */
const NOTE_LABEL: Partial<Record<Metric, string>> = {
  latFwd50: 'forward GET',
  latFwd99: 'forward GET',
  latTun50: 'tunnel + GET',
  latTun99: 'tunnel + GET',
};

function notesOf(row: Row, keys: Metric[]): string {
  const parts = [
    row.missing,
    row.note,
    ...keys.flatMap((k) => {
      const c = row.cells[k];
      if (!c) return [];
      const what = [c.errors ? `${c.errors} errors` : '', c.note ?? ''].filter(Boolean);
      return what.length ? [`${NOTE_LABEL[k] ?? COLUMNS[k].title}: ${what.join(', ')}`] : [];
    }),
  ];
  return [...new Set(parts.filter(Boolean))].join('; ');
}

export interface SummaryLine {
  metric: Metric;
  figure: string;
  higherIsBetter: boolean;
  /** Portcullis' figure (added latency for latency figures) */
  portcullis?: number;
  portcullisErrors?: number;
  bestPeer?: string;
  best?: number;
  bestErrors?: number;
  /** Portcullis / best peer; undefined when the best peer's figure is not above 0 */
  ratio?: number;
  portcullisSpread?: string;
  bestSpread?: string;
  portcullisCpuPerOp?: number;
  bestCpuPerOp?: number;
  /** nginx direct: the load generator's ceiling on the same work */
  direct?: number;
  /** the generator's CPU on the direct row, in cores (median over runs) */
  generatorCpu?: number;
}

/** Per figure: Portcullis, the best peer, their ratio, and the generator's ceiling. */
export function summarize(rows: Row[]): SummaryLine[] {
  const pc = rows.find((x) => x.name === PORTCULLIS);
  const direct = rows.find((x) => x.group === 'direct');
  const out: SummaryLine[] = [];
  for (const col of Object.values(COLUMNS)) {
    const mine = pc?.cells[col.key];
    const best = bestPeer(rows, col.key);
    if (!mine && !best) continue;
    const lat = LATENCY.includes(col.key);
    const mineV = mine ? (lat ? added(rows, col.key, mine.value) : mine.value) : undefined;
    const bestV = best ? (lat ? added(rows, col.key, best.cell.value) : best.cell.value) : undefined;
    const d = direct?.cells[col.key];
    const genRuns = d?.runs.filter((x) => x.genCpu !== undefined && x.seconds) ?? [];
    out.push({
      metric: col.key,
      figure: `${col.title}${lat ? ' (added)' : ''}`,
      higherIsBetter: col.higher,
      portcullis: mineV,
      portcullisErrors: mine?.errors,
      bestPeer: best?.row.name,
      best: bestV,
      bestErrors: best?.cell.errors,
      ratio:
        mineV !== undefined && bestV !== undefined && bestV > 0 && mineV >= 0 ? mineV / bestV : undefined,
      portcullisSpread: mine ? spread(mine) || undefined : undefined,
      bestSpread: best ? spread(best.cell) || undefined : undefined,
      portcullisCpuPerOp: mine?.cpuPerOp,
      bestCpuPerOp: best?.cell.cpuPerOp,
      direct: d?.value,
      generatorCpu: genRuns.length ? median(genRuns.map((x) => x.genCpu! / x.seconds!)) : undefined,
    });
  }
  return out;
}

export function render(r: Results): string {
  const { rows, machine: m } = r;
  const byName = new Map(rows.map((x) => [x.name, x]));
  const pc = byName.get(PORTCULLIS);
  const out: string[] = [];
  out.push('# Portcullis bench: gateway vs. peers', '');
  out.push(`${m.date} · ${m.cpus} CPUs (${m.cpuModel}) · Linux ${m.kernel} · Node ${m.node}  `);
  out.push(
    `load average at start ${m.loadStart}, at end ${m.loadEnd} (other work on the machine skews figures)  `,
  );
  out.push(`\`${m.command}\`, ${(m.wallSeconds / 60).toFixed(1)} min wall time  `);
  out.push(`${m.versions}  `, `${m.settings}`, '');
  out.push(
    'Every figure is the median of its runs; systems alternate within each scenario. ' +
      'Ratios are Portcullis / best peer: above 1 is better for rates, below 1 is better for latency and memory. ' +
      'A trailing `!` marks a figure with errors (see notes). How to read this on a noisy machine: bench/README.md.',
    '',
  );

  // Summary
  out.push('## Portcullis against the best peer', '');
  out.push(
    '| figure | Portcullis | best peer | Portcullis / best | spread (Portcullis, peer) | CPU µs/op Portcullis / peer | nginx direct (generator ceiling) | generator CPU |',
  );
  out.push('|---|---:|---|---:|---|---|---:|---:|');
  for (const x of summarize(rows)) {
    const col = COLUMNS[x.metric];
    const lat = LATENCY.includes(x.metric);
    const shown = (v: number | undefined, errors: number | undefined) =>
      v === undefined ? '—' : `${lat ? signed(v, col.digits) : fmt(v, col.digits)}${errors ? ' !' : ''}`;
    const cpu =
      x.portcullisCpuPerOp !== undefined && x.bestCpuPerOp !== undefined
        ? `${fmt(x.portcullisCpuPerOp, 1)} / ${fmt(x.bestCpuPerOp, 1)}${x.metric.startsWith('mbps') ? ' per MB' : ''}`
        : '—';
    out.push(
      `| ${x.figure} | ${shown(x.portcullis, x.portcullisErrors)} | ${
        x.bestPeer ? `${x.bestPeer}: ${shown(x.best, x.bestErrors)}` : '—'
      } | ${x.ratio === undefined ? (x.portcullis !== undefined && x.best !== undefined ? 'n/a' : '—') : `${x.ratio.toFixed(2)}x`} | ${
        x.portcullisSpread ?? '—'
      }, ${x.bestSpread ?? '—'} | ${cpu} | ${x.direct === undefined ? '—' : fmt(x.direct, col.digits)} | ${
        x.generatorCpu === undefined ? '—' : `${(x.generatorCpu * 100).toFixed(0)}% of a core`
      } |`,
    );
  }
  out.push('');

  for (const t of TABLES) {
    const present = rows.filter(
      (x) => t.keys.some((k) => x.cells[k]) || (x.missing && x.group !== 'variant'),
    );
    if (!present.length) continue;
    out.push(`## ${t.title}`, '');
    if (t.title === 'Latency at a fixed rate')
      out.push(
        `Open loop at a fixed rate, well below every system's saturation: ${r.latencyRates.fwd} forward GETs/s ` +
          `over kept-alive connections, and ${r.latencyRates.tunnel} new tunnels/s each carrying one GET (CONNECT ` +
          'for HTTP proxies, SOCKS5 for microsocks and dante, a plain TCP connection for `nginx direct`). Time ' +
          'runs from when the request was due to its last byte. In brackets: added latency, the figure minus ' +
          '`nginx direct` doing the same work without a proxy.',
        '',
      );
    else if (t.title === 'Idle tunnels')
      out.push(
        `Growth of the proxy's memory divided by ${r.idleTunnels} idle tunnels, in KiB: PSS of its process ` +
          'and children; for Node systems the larger of that and V8 heap + external growth.',
        '',
      );
    else out.push(t.intro, '');
    out.push(`| system | ${t.keys.map((k) => COLUMNS[k].title).join(' | ')} | notes |`);
    out.push(`|---|${t.keys.map(() => '---:').join('|')}|---|`);
    for (const row of present)
      out.push(
        `| ${row.name} | ${t.keys.map((k) => cellText(rows, row, k)).join(' | ')} | ${notesOf(row, t.keys)} |`,
      );
    out.push('');
  }

  out.push(...portcullisOnly(r));

  out.push('## Against the figures in issue 3', '');
  out.push('| peer | figure | issue 3 | here | here / issue |', '|---|---|---:|---:|---:|');
  for (const ref of ISSUE) {
    const col = COLUMNS[ref.key];
    const here = byName.get(ref.row)?.cells[ref.key];
    out.push(
      `| ${ref.row} | ${col.title} | ${fmt(ref.value, col.digits)} | ${here ? fmt(here.value, col.digits) : '—'} | ${
        here ? `${(here.value / ref.value).toFixed(2)}x` : '—'
      } |`,
    );
  }
  out.push('', '## Portcullis targets (issue 3, authentication on)', '');
  if (!pc || pc.missing) {
    out.push(`Not measured: ${pc?.missing ?? 'no Portcullis row'}.`, '');
  } else {
    out.push('| figure | target | Portcullis | reference | verdict |', '|---|---|---:|---:|---|');
    for (const t of TARGETS) {
      const col = COLUMNS[t.key];
      const mine = pc.cells[t.key];
      const ref = byName.get(t.ref)?.cells[t.key];
      const ok = mine && ref ? mine.value >= ref.value * t.factor && !mine.errors : undefined;
      out.push(
        `| ${col.title} | ${t.label} | ${mine ? fmt(mine.value, 0) : '—'} | ${ref ? fmt(ref.value, 0) : '—'} | ${
          ok === undefined ? '—' : ok ? 'met' : 'MISSED'
        } |`,
      );
    }
    const idle = pc.cells.idle;
    const idleOk = idle ? idle.value <= IDLE_CEILING_KB && !idle.errors : undefined;
    out.push(
      `| KB / idle tunnel | <= ${IDLE_CEILING_KB} KB at ${r.idleTunnels} | ${idle ? fmt(idle.value, 1) : '—'} | — | ${
        idleOk === undefined ? '—' : idleOk ? 'met' : 'MISSED'
      } |`,
      '',
    );
  }
  return out.join('\n');
}

function portcullisOnly(r: Results): string[] {
  const byName = new Map(r.rows.map((x) => [x.name, x]));
  const out: string[] = ['## Portcullis only', ''];
  const off = byName.get(PORTCULLIS);
  const on = byName.get(LIMITS_ON);
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;

  out.push(
    '### Enforcement on vs off',
    '',
    'One gateway process, same port: the limit-free customer (off) and a customer whose plan has every limit ' +
      'of issue 4 configured, none reachable (on: requests/s, bandwidth, per-connection bandwidth, per-IP ' +
      'connections and requests/s, quota). Runs alternate with every other system.',
    '',
  );
  if (off && on && !on.missing) {
    out.push(
      '| workload | off | on | change | CPU µs/op off | CPU µs/op on | change |',
      '|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const k of ['fwd', 'connect'] as const) {
      const a = off.cells[k];
      const b = on.cells[k];
      if (!a || !b) continue;
      const cpu =
        a.cpuPerOp !== undefined && b.cpuPerOp !== undefined
          ? `${fmt(a.cpuPerOp, 1)} | ${fmt(b.cpuPerOp, 1)} | ${pct(b.cpuPerOp, a.cpuPerOp)}`
          : '— | — | —';
      out.push(
        `| ${COLUMNS[k].title} | ${fmt(a.value, 0)}${errorMark(a)} | ${fmt(b.value, 0)}${errorMark(b)} | ${pct(b.value, a.value)} | ${cpu} |`,
      );
    }
  } else out.push(`Not measured: ${on?.missing ?? off?.missing ?? 'Portcullis not in this run'}.`);
  out.push('');

  const chain = byName.get(CHAIN);
  const squid = byName.get(SQUID_AUTH);
  out.push(
    '### Chained through an upstream: Portcullis -> squid vs squid alone',
    '',
    'A Portcullis port bound to an HTTP upstream (the `squid + basic auth` instance, credentials stored ' +
      'encrypted as an import would) against a client talking to that squid directly with its credentials.',
    '',
  );
  if (chain && squid && !chain.missing && !squid.missing) {
    out.push('| figure | squid alone | Portcullis -> squid | ratio |', '|---|---:|---:|---:|');
    for (const k of ['fwd', 'connect', 'latFwd50', 'latFwd99'] as const) {
      const a = squid.cells[k];
      const b = chain.cells[k];
      if (!a || !b) continue;
      out.push(
        `| ${COLUMNS[k].title} | ${fmt(a.value, 0)}${errorMark(a)} | ${fmt(b.value, 0)}${errorMark(b)} | ${ratioText(b.value, a.value)} |`,
      );
    }
  } else
    out.push(`Not measured: ${chain?.missing ?? squid?.missing ?? 'Portcullis or squid not in this run'}.`);
  out.push('');

  out.push(
    '### Bound ports: start-up and memory',
    '',
    '`portcullis up --role gateway` over a seeded PGlite data directory (bootstrap done), with one and with ' +
      'many `direct` upstreams, each on its own port. Start-up: spawn to the "portcullis started" log line ' +
      '(logged once every port is bound); every port was then checked to accept. "Own" is the figure the ' +
      'process logs (store open to gateway started). Memory once steady.',
    '',
  );
  if (r.ports.runs.length) {
    out.push(
      '| ports | start-up s | own start-up s | RSS MiB | PSS MiB | runs |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    const sizes = [...new Set(r.ports.runs.map((x) => x.ports))].sort((a, b) => a - b);
    const med = sizes.map((n) => {
      const rs = r.ports.runs.filter((x) => x.ports === n);
      return {
        n,
        start: median(rs.map((x) => x.startMs)) / 1000,
        self: median(rs.map((x) => x.selfMs)) / 1000,
        rss: median(rs.map((x) => x.rssKb)) / 1024,
        pss: median(rs.map((x) => x.pssKb)) / 1024,
        count: rs.length,
        moving: rs.filter((x) => !x.steady).length,
      };
    });
    for (const x of med)
      out.push(
        `| ${fmt(x.n, 0)} | ${x.start.toFixed(2)} | ${x.self.toFixed(2)} | ${x.rss.toFixed(0)}${x.moving ? ' ~' : ''} | ${x.pss.toFixed(0)}${x.moving ? ' ~' : ''} | ${x.count} |`,
      );
    if (med.some((x) => x.moving))
      out.push(
        '',
        '`~`: memory was still moving when read (the wait for it to settle ran out); compare with care.',
      );
    if (med.length === 2) {
      const [a, b] = med;
      out.push(
        '',
        `${fmt(b.n, 0)} ports vs ${a.n}: start-up ${pct(b.start, a.start)}, RSS ${(b.rss - a.rss).toFixed(1)} MiB ` +
          `(${(((b.rss - a.rss) * 1024) / (b.n - a.n)).toFixed(1)} KiB per port).`,
      );
    }
  }
  if (r.ports.error) out.push(`Not measured: ${r.ports.error}.`);
  out.push('');

  out.push(
    '### `/api/proxies.php` with 10,000 customers',
    '',
    'API process with 10,000 customers and 1,000 imported upstreams (each answer lists 1,000 lines); wrk, ' +
      "2 threads, 32 connections, rotating over 1,000 customers' API keys.",
    '',
  );
  if (r.api.runs.length) {
    const a = r.api;
    out.push(
      '| store | requests/s | p50 ms | p99 ms | errors | import 1,000 lines ms |',
      '|---|---:|---:|---:|---:|---:|',
    );
    out.push(
      `| ${a.store ?? '?'} | ${fmt(median(a.runs.map((x) => x.rps)), 1)} | ${median(a.runs.map((x) => x.p50Ms)).toFixed(1)} | ${median(
        a.runs.map((x) => x.p99Ms),
      ).toFixed(1)} | ${a.runs.reduce((s, x) => s + x.errors, 0)} | ${
        a.importMs?.length ? fmt(median(a.importMs), 0) : '—'
      } |`,
    );
  }
  if (r.api.error) out.push(`Not measured: ${r.api.error}.`);
  out.push('');

  if (r.warmups?.length) {
    const what = {
      http: 'forward HTTP, a new connection per request, req/s',
      connect: 'CONNECT + 1 GET /s',
      socks5: 'SOCKS5 set-ups/s',
    };
    out.push(
      '### Warm-up',
      '',
      'Node systems, before anything is counted: 1 s steps of each protocol until the rate stops rising ' +
        '(at least 20 steps, then until three in a row stay below 1.05x the best so far). The first step is what a freshly started process serves; ' +
        'the rest is V8 compiling the hot code and the heap growing.',
      '',
      '| system | workload | first 1 s | best | steps (rate per 1 s) |',
      '|---|---|---:|---:|---|',
    );
    for (const w of r.warmups) {
      out.push(
        `| ${w.system} | ${what[w.mode]} | ${fmt(w.rates[0], 0)} | ${fmt(Math.max(...w.rates), 0)} | ${w.rates
          .map((x) => fmt(x, 0))
          .join(', ')} |`,
      );
    }
    out.push('');
  }
  return out;
}
