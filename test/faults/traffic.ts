// Steady traffic through an open tunnel to an echo server (kick-tunnels.ts),
// for the fault tests and the soak: a chunk every few milliseconds (a bounded
// number in flight), the bytes on the client's wire counted by the socket
// itself (what the gateway meters: the client leg, both ways), and a timeline
// of those counts so a test can say how many bytes moved in a window of time
// (e.g. the second before a kill).
import type net from 'node:net';
import type { Tunnel } from '../limits/kick-tunnels.ts';

export interface Flow {
  socket: net.Socket;
  /** bytes on the client's wire so far, both ways (the CONNECT exchange included) */
  bytes(): number;
  /** bytes that moved (both ways) between two performance.now() instants */
  movedBetween(from: number, to: number): number;
  /** true once the socket closed (by us or by the other side) */
  readonly closed: boolean;
  /** the echo came back intact so far (every byte received equals what was sent) */
  readonly intact: boolean;
  /** stops writing, waits for the echo of what is in flight (bounded), closes; exact wire counts */
  stop(): Promise<{ up: number; down: number }>;
}

export function startFlow(t: Tunnel, opts: { chunk?: number; everyMs?: number } = {}): Flow {
  const s = t.socket;
  const chunkSize = opts.chunk ?? 16 * 1024;
  const chunk = Buffer.alloc(chunkSize, 0x62);
  const base = s.bytesRead + s.bytesWritten; // the CONNECT exchange, counted too
  let payloadSent = 0;
  let payloadBack = 0;
  let closed = false;
  let intact = true;
  const samples: Array<[number, number]> = [[performance.now(), base]];
  const total = () => s.bytesRead + s.bytesWritten;
  s.on('data', (d: Buffer) => {
    payloadBack += d.length;
    if (intact && d.some((b) => b !== 0x62)) intact = false;
  });
  s.once('close', () => {
    closed = true;
  });
  const writer = setInterval(() => {
    if (closed || s.destroyed) return;
    // At most 4 chunks in flight: the rate follows what the path can carry.
    if (payloadSent - payloadBack >= 4 * chunkSize) return;
    payloadSent += chunk.length;
    s.write(chunk);
  }, opts.everyMs ?? 5);
  const sampler = setInterval(() => {
    if (!closed) samples.push([performance.now(), total()]);
  }, 20);

  function at(time: number): number {
    let v = samples[0][1];
    for (const [t0, b] of samples) {
      if (t0 > time) break;
      v = b;
    }
    return v;
  }

  return {
    socket: s,
    bytes: total,
    movedBetween: (from, to) => at(to) - at(from),
    get closed() {
      return closed;
    },
    get intact() {
      return intact;
    },
    async stop() {
      clearInterval(writer);
      for (let i = 0; i < 200 && !closed && payloadBack < payloadSent; i++)
        await new Promise((r) => setTimeout(r, 10));
      clearInterval(sampler);
      const out = { up: s.bytesWritten, down: s.bytesRead };
      s.destroy();
      return out;
    },
  };
}
