// A chained HTTP upstream on loopback that records what it is asked for and
// answers 200: what a proxy behind the gateway would see, without anything
// leaving the machine. CONNECT gets "200 Connection established", then one
// short HTTP answer to whatever comes through the tunnel; any other request
// a short answer; then the connection closes.
import net from 'node:net';

export interface Sink {
  port: number;
  /** request targets in arrival order (CONNECT authority, or the absolute URI), unless started with record: false */
  asked: string[];
  /** how many requests arrived */
  count: number;
  close(): Promise<void>;
}

const ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsink\n';

export function startSink(opts: { record?: boolean } = {}): Promise<Sink> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    const sink: Sink = {
      port: 0,
      asked: [],
      count: 0,
      close: () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    };
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.setTimeout(5000, () => s.destroy());
      let buf = '';
      const onHead = (d: Buffer): void => {
        buf += d.toString('latin1');
        if (buf.indexOf('\r\n\r\n') < 0) {
          if (buf.length > 64 * 1024) s.destroy();
          return;
        }
        s.removeListener('data', onHead);
        const [method, target] = buf.split(' ');
        sink.count++;
        if (opts.record !== false) sink.asked.push(target);
        if (method === 'CONNECT') {
          s.write('HTTP/1.1 200 Connection established\r\n\r\n');
          s.once('data', () => s.end(ANSWER)); // what follows is the tunnel's
        } else s.end(ANSWER);
        s.resume();
      };
      s.on('data', onHead);
    });
    srv.listen(0, '127.0.0.1', () => {
      sink.port = (srv.address() as net.AddressInfo).port;
      resolve(sink);
    });
  });
}
