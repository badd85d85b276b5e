// upstream import FILE and ports: load the proxy list and see what each local
// port forwards to. Import sends the file as-is (text/plain); the API parses
// it, so the CLI and the dashboard refuse the same lines with the same words.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { IMPORT_LIMIT } from '../../api/limits.ts';
import { table } from '../output.ts';
import { createProgress, noProgress, type Progress } from '../progress.ts';
import { CliError, type Command } from '../spec.ts';
import { listOf } from './plan.ts';

/** Uploads at least this big get a progress bar (when stderr is a terminal). */
export const PROGRESS_MIN_BYTES = 256 * 1024;
const CHUNK = 64 * 1024;

interface Bound {
  port: number;
  upstream: string;
}

interface Duplicate {
  line: number;
  upstream: string;
  reason: string;
}

interface ImportResult {
  added: number;
  kept: number;
  /** repeated lines of the file, and lines already bound (those also count in `kept`) */
  duplicates?: Duplicate[];
  bound?: Bound[];
}

/** Lines that repeat an earlier line of the same file (not the ones kept from an earlier import). */
export function repeatedLines(r: ImportResult): Duplicate[] {
  return (r.duplicates ?? []).filter((d) => !/^already bound/.test(d.reason));
}

interface Port {
  port: number;
  upstream?: string;
  protocol?: string;
  health?: string;
  latencyMs?: number | null;
  failures?: number;
  lastError?: string | null;
  /** gateway listener state; null when no gateway runs in the API's process */
  listener?: string | null;
  listenerError?: string | null;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The body as a stream that reports how much of it fetch has pulled (sent). */
export function countingBody(data: Buffer, progress: Progress): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        progress.update(data.length);
        // Everything is on its way; the server now parses and binds.
        progress.status('binding ports...');
        controller.close();
        return;
      }
      const end = Math.min(offset + CHUNK, data.length);
      controller.enqueue(data.subarray(offset, end));
      offset = end;
      progress.update(offset);
    },
  });
}

/** "4000-4002, 4005" from [4000, 4001, 4002, 4005]. */
export function portRanges(ports: number[]): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i];
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1) i++;
    parts.push(start === sorted[i] ? String(start) : `${start}-${sorted[i]}`);
  }
  return parts.join(', ');
}

export const upstreamCommands: Command[] = [
  {
    name: 'upstream import',
    summary: 'import a proxy list (proxy.txt); each new upstream is bound to the next free port',
    args: [{ name: 'FILE', help: 'path of the list, or - for stdin' }],
    examples: ['portcullis upstream import proxy.txt', 'cat proxy.txt | portcullis upstream import -'],
    notes: [
      'One upstream a line: host:port, host:port:user:pass, user:pass@host:port, http://user:pass@host:port, socks5://user:pass@host:port, or direct. # starts a comment.',
      'Upstreams already imported keep their ports. A malformed line refuses the whole file (nothing is half-imported); each bad line is reported with its number.',
    ],
    async run({ args, json, out, api }) {
      const file = args[0];
      let data: Buffer;
      try {
        data = file === '-' ? await readAll(process.stdin) : await readFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliError(
          `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        );
      }
      // The API refuses a list over its limit as soon as it sees the length; a
      // client still uploading would then see a reset, not the answer.
      if (data.length > IMPORT_LIMIT)
        throw new CliError(
          `${file === '-' ? 'the list' : file} is ${data.length} bytes, over the API's import limit of ${IMPORT_LIMIT} bytes (PC_ERR_PAYLOAD_TOO_LARGE)\n` +
            '  import it in parts (known upstreams keep their ports)',
        );
      const progress =
        out.stderrTTY && data.length >= PROGRESS_MIN_BYTES
          ? createProgress(out.stderr, data.length, 'uploading')
          : noProgress;
      let r: ImportResult;
      try {
        r = await api.request<ImportResult>('POST', '/api/v1/upstreams/import', {
          body: progress === noProgress ? data.toString('utf8') : countingBody(data, progress),
          contentType: 'text/plain; charset=utf-8',
          timeoutMs: 10 * 60_000,
        });
      } finally {
        progress.done();
      }
      if (json) return out.json(r);
      const repeated = repeatedLines(r);
      out.print(`added ${r.added}, kept ${r.kept}, duplicates ${repeated.length}`);
      for (const d of repeated.slice(0, 20))
        out.print(`  line ${d.line}: ${d.upstream} ${d.reason} (skipped)`);
      if (repeated.length > 20) out.print(`  ... ${repeated.length - 20} more (see --json)`);
      const bound = r.bound ?? [];
      if (bound.length === 0) return;
      if (bound.length <= 20) {
        out.print(
          table(
            ['PORT', 'UPSTREAM'],
            bound.map((b) => [String(b.port), b.upstream]),
          ),
        );
      } else {
        out.print(`bound ports ${portRanges(bound.map((b) => b.port))}; list them with \`portcullis ports\``);
      }
    },
  },
  {
    name: 'ports',
    summary: 'every bound port with its upstream and health',
    flags: {
      health: {
        kind: 'string',
        value: 'STATE',
        help: 'only ports whose upstream is in this state',
        choices: ['up', 'down', 'unknown'],
      },
    },
    examples: ['portcullis ports', 'portcullis ports --health down', 'portcullis ports --json'],
    async run({ flags, json, out, api }) {
      const data = await api.request('GET', '/api/v1/ports');
      let list = listOf<Port>(data);
      if (flags.health) list = list.filter((p) => p.health === flags.health);
      if (json) return out.json(flags.health || !Array.isArray(data) ? list : data);
      if (list.length === 0)
        return out.print('no ports bound; import upstreams with `portcullis upstream import FILE`');
      const hasListener = list.some((p) => p.listener != null);
      const head = ['PORT', 'UPSTREAM', 'HEALTH', 'LATENCY', ...(hasListener ? ['LISTENER'] : [])];
      const rows = list.map((p) => [
        String(p.port),
        p.upstream ?? '-',
        p.health === 'down' && p.lastError ? `down (${p.lastError})` : (p.health ?? '-'),
        p.latencyMs == null ? '-' : `${p.latencyMs} ms`,
        ...(hasListener
          ? [p.listenerError ? `${p.listener} (${p.listenerError})` : (p.listener ?? '-')]
          : []),
      ]);
      out.print(table(head, rows, { right: [0, 3] }));
      const down = list.filter((p) => p.health === 'down').length;
      out.warn(`${list.length} ports${down ? `, ${down} down` : ''}`);
    },
  },
];
