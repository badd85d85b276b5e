// A one-line progress bar on stderr for long uploads (upstream import of big
// lists). Drawn only when stderr is a terminal, redrawn at most every 100 ms,
// and erased when done so the result lines stay clean.
import type { Writable } from 'node:stream';
import { formatBytes } from '../domain/units.ts';

export interface Progress {
  update(done: number): void;
  /** replaces the bar with a status line, e.g. "binding ports..." */
  status(text: string): void;
  done(): void;
}

export function renderBar(done: number, total: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}  ${formatBytes(done)} / ${formatBytes(total)}`;
}

export function createProgress(
  stream: Writable,
  total: number,
  label: string,
  now = () => Date.now(),
): Progress {
  let last = 0;
  const draw = (text: string) => stream.write(`\r\x1b[2K${text}`);
  return {
    update(done) {
      const t = now();
      if (t - last < 100 && done < total) return;
      last = t;
      draw(`${label} ${renderBar(done, total)}`);
    },
    status(text) {
      draw(`${label} ${text}`);
    },
    done() {
      stream.write('\r\x1b[2K');
    },
  };
}

/** A progress that draws nothing (stderr is a pipe, or the file is small). */
export const noProgress: Progress = { update() {}, status() {}, done() {} };
