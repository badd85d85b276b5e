// Every accepted socket starts here: error handler, no Nagle, the header
// deadline, and the first byte decides the protocol (0x05 SOCKS5, 0x04
// SOCKS4/4a, anything else HTTP). The first chunk is handed back with
// unshift so each protocol reads its handshake from the start.
import type net from 'node:net';
import type { GatewayContext } from './context.ts';
import { serveHttp } from './http/session.ts';
import { serveSocks4 } from './socks4.ts';
import { serveSocks5 } from './socks5/serve.ts';

export function onConnection(g: GatewayContext, client: net.Socket, port: number): void {
  g.sockets.add(client);
  client.once('close', () => g.sockets.delete(client));
  // Errors (ECONNRESET, EPIPE) are followed by 'close', where cleanup lives.
  client.on('error', () => {});
  client.setNoDelay(true);
  client.setTimeout(g.headerTimeoutMs);
  client.once('timeout', () => client.destroy());
  client.once('data', (first: Buffer) => {
    client.pause();
    client.removeAllListeners('timeout');
    client.unshift(first);
    const b = first[0];
    if (b === 0x05) serveSocks5(g, client, port);
    else if (b === 0x04) serveSocks4(g, client, port);
    else serveHttp(g, client, port);
  });
}
