// /api/internal/* answers only loopback and PORTCULLIS_INTERNAL_ALLOW. The
// allow-list is compiled once into a CidrMap; each request is one lookup.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CidrMap, parseCidr, parseIp } from '../../domain/cidr.ts';
import { PcError } from '../../errors.ts';

export function createInternalOnly(allow: readonly string[]) {
  const map = new CidrMap<true>();
  for (const text of allow) {
    const c = parseCidr(text);
    if (c) map.set(c, true);
  }
  return async function internalOnly(request: FastifyRequest, _reply: FastifyReply) {
    const ip = parseIp(request.ip);
    if (!ip || !map.lookup(ip))
      throw new PcError('PC_ERR_FORBIDDEN', `internal endpoints do not answer ${request.ip}`);
  };
}
