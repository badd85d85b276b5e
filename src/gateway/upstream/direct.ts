// Direct egress: the gateway itself connects to the target. The name is
// resolved here and the resolved address is what the egress guard checks and
// what we connect to, so a DNS answer cannot change between check and use
// (DNS rebinding).
import { lookup } from 'node:dns/promises';
import type net from 'node:net';
import { parseIp } from '../../domain/cidr.ts';
import { fromErrno, PcError } from '../../errors.ts';
import { connectTcp } from './net.ts';
import type { DialContext } from './route.ts';

export async function directTunnel(host: string, port: number, ctx: DialContext): Promise<net.Socket> {
  let ip = parseIp(host);
  let address = host;
  if (!ip) {
    try {
      address = (await lookup(host)).address;
    } catch (e) {
      throw new PcError(fromErrno(e as NodeJS.ErrnoException, false), `target ${host} not found`);
    }
    ip = parseIp(address);
  }
  if (!ip || !ctx.guard.allowed(ip, port)) {
    throw new PcError('PC_ERR_TARGET_FORBIDDEN', `target ${host}:${port} is not allowed`);
  }
  return connectTcp(address, port, ctx.connectTimeoutMs, false, ctx.track, ctx.recycle);
}
