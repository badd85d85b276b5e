// One entry to reach a target through a port's upstream. Chained upstreams
// resolve names remotely, so only literal IP targets can be checked here;
// direct egress resolves and checks the resolved address (upstream/direct.ts).
import type net from 'node:net';
import { PcError } from '../errors.ts';
import { directTunnel } from './upstream/direct.ts';
import { httpTunnel } from './upstream/http.ts';
import type { DialContext, Route } from './upstream/route.ts';
import { socks5Tunnel } from './upstream/socks5.ts';

export function dialTunnel(route: Route, host: string, port: number, ctx: DialContext): Promise<net.Socket> {
  switch (route.target.protocol) {
    case 'direct':
      return directTunnel(host, port, ctx);
    case 'http':
      if (!ctx.guard.allowedText(host, port)) return forbidden(host, port);
      return httpTunnel(route, host, port, ctx);
    case 'socks5':
      if (!ctx.guard.allowedText(host, port)) return forbidden(host, port);
      return socks5Tunnel(route, host, port, ctx);
  }
}

function forbidden(host: string, port: number): Promise<never> {
  return Promise.reject(new PcError('PC_ERR_TARGET_FORBIDDEN', `target ${host}:${port} is not allowed`));
}
