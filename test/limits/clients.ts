// Raw clients for the limits tests: they count every byte they send and
// receive on the wire, so metering can be compared with what a client sees,
// and they speak just enough HTTP/SOCKS5 to read a refusal's status or reply.
import net from 'node:net';

export interface Wire {
  socket: net.Socket;
  sent: number;
  received: number;
  /** everything received, when `keep` was asked for */
  data: Buffer[];
  closed: Promise<void>;
}

export function openWire(port: number, keep = true): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let closeResolve!: () => void;
    const w: Wire = {
      socket,
      sent: 0,
      received: 0,
      data: [],
      closed: new Promise<void>((r) => {
        closeResolve = r;
      }),
    };
    socket.on('data', (d: Buffer) => {
      w.received += d.length;
      if (keep) w.data.push(d);
    });
    socket.on('error', () => {});
    socket.on('close', () => closeResolve());
    socket.once('connect', () => resolve(w));
    socket.once('error', reject);
  });
}

export function send(w: Wire, bytes: string | Buffer): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  w.sent += b.length;
  w.socket.write(b);
}

export function text(w: Wire): string {
  return Buffer.concat(w.data).toString('latin1');
}

/** Waits until `cond` over the received text holds, or the socket closes, or `ms` pass. */
export async function until(w: Wire, cond: (s: string) => boolean, ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  let closed = false;
  w.closed.then(() => {
    closed = true;
  });
  while (Date.now() < end) {
    const s = text(w);
    if (cond(s) || closed) return s;
    await new Promise((r) => setTimeout(r, 10));
  }
  return text(w);
}

export const basic = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Status code of the first response head in `s` (0 when none yet). */
export function status(s: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(s);
  return m ? Number(m[1]) : 0;
}

export function reason(s: string): string | undefined {
  return /X-Portcullis-Reason: ([a-z_]+)/.exec(s)?.[1];
}

/** CONNECT through the gateway; resolves with the wire and the status of the answer. */
export async function connectTunnel(
  port: number,
  user: string,
  pass: string,
  target: string,
): Promise<{ w: Wire; status: number; head: string }> {
  const w = await openWire(port);
  send(
    w,
    `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: ${basic(user, pass)}\r\n\r\n`,
  );
  const head = await until(w, (s) => s.includes('\r\n\r\n'));
  return { w, status: status(head), head };
}

/** SOCKS5 CONNECT with username/password to 127.0.0.1:`dport`; resolves with the reply code (-1: none). */
export async function socks5Connect(
  port: number,
  user: string,
  pass: string,
  dport: number,
): Promise<{ w: Wire; reply: number }> {
  const w = await openWire(port);
  send(w, Buffer.from([5, 1, 2]));
  await until(w, () => w.received >= 2);
  const u = Buffer.from(user);
  const p = Buffer.from(pass);
  send(w, Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
  await until(w, () => w.received >= 4);
  send(w, Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, dport >> 8, dport & 255]));
  await until(w, () => w.received >= 14);
  const all = Buffer.concat(w.data);
  return { w, reply: all.length >= 6 ? all[5] : -1 };
}

export function close(w: Wire): Promise<void> {
  w.socket.destroy();
  return w.closed;
}

/** How many whole responses (Content-Length framed) `s` holds, from its start. */
export function responsesIn(s: string): number {
  let n = 0;
  let off = 0;
  for (;;) {
    const e = s.indexOf('\r\n\r\n', off);
    if (e < 0) return n;
    const head = s.slice(off, e);
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (s.length < e + 4 + len) return n;
    off = e + 4 + len;
    n++;
  }
}
