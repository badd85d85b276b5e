// Leak checks for the client tests: the TCP sockets THIS process holds open
// (its fds, matched by inode against /proc/net/tcp and tcp6), filtered by
// port. The gateway, the origin and Node clients (undici) share the test
// process, so a socket the gateway forgot to destroy — towards a client, an
// upstream peer or the origin — shows up here, CLOSE_WAIT included.
// Linux only, like the peers these tests drive.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { eventually, type Harness } from '../gateway/harness.ts';

export interface OpenSocket {
  local: number;
  remote: number;
  /** kernel TCP state, e.g. ESTABLISHED, CLOSE_WAIT */
  state: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

function ownInodes(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {}
  }
  return out;
}

/** Connected (non-listening) TCP sockets of this process. */
export function openSockets(): OpenSocket[] {
  const mine = ownInodes();
  const out: OpenSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !mine.has(f[9])) continue;
      const state = STATES[f[3]] ?? f[3];
      if (state === 'LISTEN') continue;
      out.push({
        local: Number.parseInt(f[1].split(':')[1], 16),
        remote: Number.parseInt(f[2].split(':')[1], 16),
        state,
      });
    }
  }
  return out;
}

export interface Watch {
  /** ports this process serves whose accepted sockets count (the gateway's bound ports) */
  served: Iterable<number>;
  /** ports this process dials whose outgoing sockets count (origin, upstream peers, gateway ports) */
  dialled: Iterable<number>;
}

/**
 * Sockets of this process accepted on a `served` port or connected to a
 * `dialled` one. The origin's own accepted sockets are left out on purpose:
 * a peer like squid may keep idle connections to the origin, and those are
 * squid's business, not a leak of ours.
 */
export function socketsOn(w: Watch): OpenSocket[] {
  const served = new Set(w.served);
  const dialled = new Set(w.dialled);
  return openSockets().filter((s) => served.has(s.local) || dialled.has(s.remote));
}

/**
 * Waits (bounded) until no such socket is open; fails listing what is left,
 * so a leak names its ports and TCP state.
 */
export async function expectNoSockets(w: Watch, ms = 3000): Promise<void> {
  const fixed = { served: [...w.served], dialled: [...w.dialled] };
  try {
    await eventually(() => socketsOn(fixed).length === 0, ms);
  } catch {
    const left = socketsOn(fixed)
      .map((s) => `${s.local}->${s.remote} ${s.state}`)
      .join(', ');
    throw new Error(
      `sockets still open after ${ms} ms (served ${fixed.served.join(',')}; dialled ${fixed.dialled.join(',')}): ${left}`,
    );
  }
}

/**
 * The after-each check of every client test: the gateway's live registry is
 * empty, it holds no client socket, the customers hold no thread, and this
 * process has no socket left on the watched ports.
 */
export async function expectQuiet(h: Harness, customerIds: number[], w: Watch): Promise<void> {
  await eventually(() => h.gateway.connections().length === 0, 3000).catch(() => {
    throw new Error(`live registry not empty: ${JSON.stringify(h.gateway.connections())}`);
  });
  await eventually(() => h.gateway.openSockets === 0, 3000).catch(() => {
    throw new Error(`gateway still holds ${h.gateway.openSockets} client socket(s)`);
  });
  for (const id of customerIds) {
    const n = await h.live.threads(id);
    if (n !== 0) throw new Error(`customer ${id} still holds ${n} thread(s)`);
  }
  await expectNoSockets(w);
}

/**
 * `n` distinct ports free right now: all are held open at once before any is
 * released, so the kernel cannot hand the same one out twice (calling
 * freePort() concurrently could).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  try {
    return await Promise.all(
      servers.map(
        (s) =>
          new Promise<number>((resolve, reject) => {
            s.once('error', reject);
            s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(null)))));
  }
}

/** Waits (bounded) until the gateway listens on every one of `ports`. */
export async function expectListening(h: Harness, ports: number[], ms = 5000): Promise<void> {
  await eventually(() => {
    const st = h.gateway.status();
    return ports.every((p) => st.get(p)?.state === 'listening');
  }, ms).catch(() => {
    throw new Error(
      `gateway not listening on all of ${ports.join(', ')}: ${JSON.stringify([...h.gateway.status()])}`,
    );
  });
}

/**
 * Runs every closer in order even when one fails (a failed gateway stop must
 * not leave squid running and the test process alive), then throws the first error.
 */
export async function closeAll(...closers: (() => Promise<unknown> | undefined)[]): Promise<void> {
  let first: unknown;
  for (const c of closers) {
    try {
      await c();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}
