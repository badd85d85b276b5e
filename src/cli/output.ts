// Where the CLI writes: results on stdout (tables, or JSON with --json),
// everything for humans only (progress, hints, errors) on stderr, so that
// `portcullis ports --json | jq` always sees clean output.
import type { Writable } from 'node:stream';

export interface Output {
  stdout: Writable;
  stderr: Writable;
  /** stderr is a terminal: progress bars are drawn only then */
  stderrTTY: boolean;
  print(line?: string): void;
  json(value: unknown): void;
  warn(line: string): void;
}

export function createOutput(stdout: Writable, stderr: Writable, stderrTTY: boolean): Output {
  return {
    stdout,
    stderr,
    stderrTTY,
    print: (line = '') => {
      stdout.write(`${line}\n`);
    },
    json: (value) => {
      stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    warn: (line) => {
      stderr.write(`${line}\n`);
    },
  };
}

export interface TableOptions {
  /** indexes of columns aligned right (numbers, sizes) */
  right?: number[];
}

/** Aligned columns separated by two spaces; the header row is printed as given. */
export function table(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const right = new Set(opts.right ?? []);
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => {
          const c = cell ?? '';
          if (i === r.length - 1 && !right.has(i)) return c;
          return right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Two columns, "key: value", for one object (plan show, customer show). */
export function keyValues(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w)} ${v}`).join('\n');
}
