// TIME_WAIT sockets under loopback load. Every tunnel set-up closes two TCP
// connections (client -> proxy, proxy -> origin), and the side that closes
// first keeps the connection in TIME_WAIT for 60 s. A 3 s run at 4,000
// set-ups/s leaves ~24,000 of them; by the fourth run tens of thousands are
// held, and every connect() then searches longer for a free ephemeral port
// (inet_hash_connect walks ports held in TIME_WAIT). Measured on this machine
// (2026-11-24): squid's CONNECT rate fell from ~4,000 to ~2,500/s over eight
// runs and Portcullis' with it, so a figure depended on what ran in the minute
// before it. Capping the table (net.ipv4.tcp_max_tw_buckets) keeps every run
// in the same state: the kernel closes connections beyond the cap at once
// instead of holding them. The cap is set for the run and restored after.
import { readFileSync, writeFileSync } from 'node:fs';

const SYSCTL = '/proc/sys/net/ipv4/tcp_max_tw_buckets';

export interface TimeWaitCap {
  /** what the run records about it, for the results' settings line */
  note: string;
  restore(): void;
}

/** Sets the cap to `max` when this process may (root); `max` 0 leaves the system alone. */
export function capTimeWait(max: number): TimeWaitCap {
  let before: string;
  try {
    before = readFileSync(SYSCTL, 'utf8').trim();
  } catch {
    return { note: 'TIME_WAIT not capped (no net.ipv4.tcp_max_tw_buckets here)', restore: () => {} };
  }
  if (max <= 0)
    return { note: `TIME_WAIT not capped (--time-wait 0; system cap ${before})`, restore: () => {} };
  try {
    writeFileSync(SYSCTL, String(max));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'not allowed';
    return {
      note: `TIME_WAIT not capped (${why}: run as root to cap it; system cap ${before})`,
      restore: () => {},
    };
  }
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      writeFileSync(SYSCTL, before);
    } catch {}
  };
  // Ctrl-C and errors end the bench through process exit: put the system back then too.
  process.once('exit', restore);
  return {
    note: `TIME_WAIT capped at ${max.toLocaleString('en-US')} sockets for the run (system value ${before}, restored after)`,
    restore,
  };
}
