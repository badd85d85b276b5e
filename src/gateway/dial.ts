// One entry to reach a target through a port's upstream. Every target is
// first judged as text (literal addresses in any spelling, localhost names:
// egress.ts hostAsIp); chained upstreams resolve other names remotely, so
// that is all we can check for them; direct egress then resolves and checks
// the resolved address (upstream/direct.ts).
import type net from 'node:net';
import { PcError } from '../errors.ts';
import { directTunnel } from './upstream/direct.ts';
import { httpTunnel } from './upstream/http.ts';
import type { DialContext, Route } from './upstream/route.ts';
import { socks5Tunnel } from './upstream/socks5.ts';

export function dialTunnel(route: Route, host: string, port: number, ctx: DialContext): Promise<net.Socket> {
  if (!ctx.guard.allowedText(host, port)) return forbidden(host, port);
  switch (route.target.protocol) {
    case 'direct':
      return directTunnel(host, port, ctx);
    case 'http':
      return httpTunnel(route, host, port, ctx);
    case 'socks5':
      return socks5Tunnel(route, host, port, ctx);
  }
}

function forbidden(host: string, port: number): Promise<never> {
  return Promise.reject(new PcError('PC_ERR_TARGET_FORBIDDEN', `target ${host}:${port} is not allowed`));
}
