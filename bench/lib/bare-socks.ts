// A bare Node SOCKS5 relay for bench/socks-floor.ts: what Node itself costs
// per set-up, with none of Portcullis (no policies, admission, limits,
// registry, timeouts or egress guard). It assumes well-behaved clients (each
// message in one read, an IPv4 CONNECT) and checks one username/password by
// comparison; it is a measuring stick, not a proxy to run.
//
//   node bench/lib/bare-socks.ts PORT USER PASS   (PORT 0: any; prints {"port":N})
import net from 'node:net';

const [portArg = '0', user = 'bench', pass = 'bench-pass.1'] = process.argv.slice(2);

const server = net.createServer({ noDelay: true }, (c) => {
  c.on('error', () => {});
  let stage = 0;
  c.on('data', function handshake(b: Buffer) {
    if (stage === 0) {
      stage = 1;
      c.write(Buffer.from([5, 2]));
    } else if (stage === 1) {
      const ul = b[1];
      const pl = b[2 + ul];
      const ok =
        b.toString('latin1', 2, 2 + ul) === user && b.toString('latin1', 3 + ul, 3 + ul + pl) === pass;
      if (!ok) return void c.end(Buffer.from([1, 1]));
      stage = 2;
      c.write(Buffer.from([1, 0]));
    } else {
      c.pause();
      c.removeListener('data', handshake);
      const up = net.connect(
        { host: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port: b.readUInt16BE(8), noDelay: true },
        () => {
          c.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          c.on('data', (d: Buffer) => {
            if (!up.write(d)) c.pause();
          });
          up.on('data', (d: Buffer) => {
            if (!c.write(d)) up.pause();
          });
          up.on('drain', () => c.resume());
          c.on('drain', () => up.resume());
          c.resume();
        },
      );
      up.on('error', () => c.destroy());
      up.on('close', () => c.destroy());
      c.on('close', () => up.destroy());
    }
  });
});
// SO_REUSEPORT: socks-floor.ts starts two of these on one port, one per core.
server.listen({ port: Number(portArg), host: '127.0.0.1', reusePort: true }, () =>
  console.log(JSON.stringify({ port: (server.address() as net.AddressInfo).port })),
);
