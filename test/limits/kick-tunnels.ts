// Helpers of the thread/strike/kick tests: raw CONNECT tunnels held open
// through a gateway port (the answer's status code, the live socket), an echo
// target on loopback, and a wait for a socket's close.
import net from 'node:net';

export interface Tunnel {
  status: number;
  /** the first line and headers of the gateway's answer */
  head: string;
  socket: net.Socket;
  closed: Promise<void>;
}

/** CONNECT through `port` (host 127.0.0.1 or `host`) with Basic credentials; resolves on the answer head. */
export function openTunnel(
  port: number,
  user: string,
  pass: string,
  target: string,
  host = '127.0.0.1',
  ms = 5000,
): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no CONNECT answer from port ${port} in ${ms} ms`));
    }, ms);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      if (!buf.includes('\r\n\r\n')) reject(new Error(`port ${port} closed before answering: ${buf}`));
    });
    socket.on('connect', () => {
      const auth = Buffer.from(`${user}:${pass}`).toString('base64');
      socket.write(
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`,
      );
    });
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const head = buf.slice(0, end);
      resolve({ status: Number(head.split(' ')[1]), head, socket, closed });
    };
    socket.on('data', onData);
  });
}

/** Sends `text` through an open tunnel and resolves with the echo. */
export function echo(t: Tunnel, text: string, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of ${text}`)), ms);
    const on = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        clearTimeout(timer);
        t.socket.off('data', on);
        resolve(got);
      }
    };
    t.socket.on('data', on);
    t.socket.write(text);
  });
}

export interface EchoServer {
  port: number;
  target: string;
  /** sockets accepted and still open */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export async function startEcho(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    target: `127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Resolves true when every promise settles within `ms`, false otherwise. */
export async function within(ms: number, ps: Promise<unknown>[]): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([Promise.all(ps).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
