// Every accepted socket starts here: error handler, the cap on handshakes per
// address (limits/handshakes.ts), no Nagle, the header deadline, and the
// first byte decides the protocol (0x05 SOCKS5, 0x04 SOCKS4/4a, anything
// else HTTP). HTTP and SOCKS5 get the first chunk as an argument; SOCKS4
// reads it back from the stream (unshift).
import type net from 'node:net';
import type { GatewayContext } from './context.ts';
import { serveHttp } from './http/session.ts';
import { serveSocks4 } from './socks4.ts';
import { serveSocks5 } from './socks5/serve.ts';

export function onConnection(g: GatewayContext, client: net.Socket, port: number): void {
  // Errors (ECONNRESET, EPIPE) are followed by 'close', where cleanup lives.
  client.on('error', () => {});
  if (!g.handshakes.enter(client, port)) {
    client.destroy();
    return;
  }
  g.sockets.add(client);
  client.once('close', () => {
    g.sockets.delete(client);
    g.handshakes.leave(client);
  });
  client.setNoDelay(true);
  client.setTimeout(g.headerTimeoutMs);
  client.once('timeout', () => client.destroy());
  client.once('data', (first: Buffer) => {
    client.removeAllListeners('timeout');
    const b = first[0];
    // HTTP and SOCKS5 take the chunk as their first bytes while the socket
    // keeps flowing; SOCKS4 reads it back from the stream.
    if (b === 0x05) serveSocks5(g, client, port, first);
    else if (b === 0x04) {
      client.pause();
      client.unshift(first);
      serveSocks4(g, client, port);
    } else serveHttp(g, client, port, first);
  });
}
