// Upstream import: validate every line first, then one transaction under an
// advisory lock. Nothing is written when any line is malformed or when the
// new upstreams do not fit in the free ports. Upstreams already present keep
// their port (identity = keyed hash of protocol|host|port|user|pass), so a
// re-import is a no-op and the file may grow over time.
import {
  parseUpstreamList,
  type UpstreamSpec,
  upstreamDisplay,
  upstreamIdentityText,
} from '../../domain/upstream-line.ts';
import { PcError } from '../../errors.ts';
import { createRepos } from '../../store/repos/index.ts';
import type { UpstreamInsert } from '../../store/repos/upstreams.ts';
import type { ServiceContext } from './context.ts';

export interface ImportResult {
  added: number;
  kept: number;
  duplicates: { line: number; upstream: string; reason: string }[];
  bound: { port: number; upstream: string }[];
}

export function createUpstreamService(ctx: ServiceContext) {
  const { store, repos, cipher, config } = ctx;
  const { from, to } = config.gateway.ports;

  return {
    async import(text: string): Promise<ImportResult> {
      const parsed = parseUpstreamList(text);
      if (parsed.errors.length > 0)
        throw new PcError(
          'PC_ERR_IMPORT_INVALID',
          `${parsed.errors.length} malformed line(s); nothing was imported`,
          parsed.errors,
        );

      const duplicates: ImportResult['duplicates'] = [];
      const firstLine = new Map<string, number>();
      const fresh: { line: number; spec: UpstreamSpec; identity: string }[] = [];
      for (const { line, spec } of parsed.entries) {
        const identity = cipher.identity(upstreamIdentityText(spec));
        const seen = firstLine.get(identity);
        if (seen !== undefined) {
          duplicates.push({ line, upstream: upstreamDisplay(spec), reason: `repeats line ${seen}` });
          continue;
        }
        firstLine.set(identity, line);
        fresh.push({ line, spec, identity });
      }

      const result = await store.db.transaction(async (tx) => {
        const r = createRepos(tx);
        await r.upstreams.lockForImport();
        const existing = new Map(
          (await r.upstreams.byIdentities(fresh.map((f) => f.identity))).map((e) => [
            e.identity,
            e.boundPort,
          ]),
        );
        const toAdd = fresh.filter((f) => {
          const port = existing.get(f.identity);
          if (port === undefined) return true;
          duplicates.push({
            line: f.line,
            upstream: upstreamDisplay(f.spec),
            reason: `already bound to port ${port}`,
          });
          return false;
        });
        const used = new Set(await r.upstreams.boundPorts());
        const free: number[] = [];
        for (let p = from; p <= to && free.length < toAdd.length; p++) if (!used.has(p)) free.push(p);
        if (free.length < toAdd.length) {
          let freeTotal = 0;
          for (let p = from; p <= to; p++) if (!used.has(p)) freeTotal++;
          throw new PcError(
            'PC_ERR_PORT_RANGE_FULL',
            `port range ${from}-${to} has ${freeTotal} free port(s) but ${toAdd.length} new upstream(s) need one each; nothing was imported`,
            { free: freeTotal, needed: toAdd.length, range: `${from}-${to}` },
          );
        }
        const rows: UpstreamInsert[] = toAdd.map((f, i) => ({
          protocol: f.spec.protocol,
          host: f.spec.host,
          port: f.spec.port,
          usernameEnc: f.spec.username === null ? null : cipher.encrypt(f.spec.username),
          passwordEnc: f.spec.password === null ? null : cipher.encrypt(f.spec.password),
          identity: f.identity,
          boundPort: free[i],
        }));
        await r.upstreams.insertMany(rows);
        return {
          added: rows.length,
          kept: existing.size,
          bound: toAdd.map((f, i) => ({ port: free[i], upstream: upstreamDisplay(f.spec) })),
        };
      });
      duplicates.sort((a, b) => a.line - b.line);
      if (result.added > 0) await ctx.changes.publish({ type: 'upstreams' });
      return { ...result, duplicates };
    },

    async remove(id: number) {
      const row = await repos.upstreams.delete(id);
      if (!row) throw new PcError('PC_ERR_NOT_FOUND', `upstream ${id} does not exist`);
      await ctx.changes.publish({ type: 'upstreams' });
      return row;
    },

    decryptUser(usernameEnc: string | null): string | null {
      return usernameEnc === null ? null : cipher.decrypt(usernameEnc);
    },
  };
}

export type UpstreamService = ReturnType<typeof createUpstreamService>;
