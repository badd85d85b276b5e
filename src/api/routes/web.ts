// The web console: the `vite build` output (web/dist) served at `/`.
// index.html for `/` and the console's own paths (/admin..., /portal...;
// client-side routes), never no-cache'd: a new build shows on the next load.
// /assets/* are content-hashed by Vite, so they are cached for a year
// (immutable), sent gzip-compressed when the browser accepts it. Routes are
// explicit, so /api, /healthz, /readyz and /metrics are never shadowed; an
// unknown path keeps the API's JSON 404. When web/dist is missing the console
// paths answer 503 with a page saying to run `npm run build`.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json', '.txt']);
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** Content-Security-Policy of the console: everything from this origin, nothing inline. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portcullis: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The web console is not built</h1>
<p>The API is running, but <code>web/dist</code> does not exist. Build the console with</p>
<pre>npm run build</pre>
<p>and reload this page (<code>npm ci</code> and <code>npm start</code> build it for you).
The API itself answers under <a href="/api/docs">/api/docs</a>.</p>
</body></html>
`;

interface Cached {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | null;
}

export async function webRoutes(app: FastifyInstance, opts: { dir: string }) {
  const dir = opts.dir;
  const cache = new Map<string, Cached>();

  async function load(path: string): Promise<Cached | null> {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await readFile(path);
    const entry = {
      mtimeMs: st.mtimeMs,
      body,
      gzip: COMPRESSIBLE.has(extname(path)) && body.length > 1024 ? gzipSync(body) : null,
    };
    if (cache.size > 500) cache.clear();
    cache.set(path, entry);
    return entry;
  }

  function send(request: FastifyRequest, reply: FastifyReply, file: Cached, type: string) {
    reply.type(type).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
    if (file.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      reply.header('content-encoding', 'gzip');
      return reply.send(file.gzip);
    }
    return reply.send(file.body);
  }

  async function index(request: FastifyRequest, reply: FastifyReply) {
    const file = await load(join(dir, 'index.html'));
    reply.header('cache-control', 'no-cache').header('referrer-policy', 'no-referrer');
    if (!file) return reply.code(503).type(TYPES['.html']).send(NOT_BUILT);
    reply.header('content-security-policy', CONSOLE_CSP).header('x-frame-options', 'DENY');
    return send(request, reply, file, TYPES['.html']);
  }

  const hide = { schema: { hide: true } };
  for (const path of ['/', '/admin', '/admin/*', '/portal', '/portal/*']) app.get(path, hide, index);

  app.get<{ Params: { '*': string } }>('/assets/*', hide, async (request, reply) => {
    const name = request.params['*'];
    const type = TYPES[extname(name)];
    const file = ASSET_NAME.test(name) && type ? await load(join(dir, 'assets', name)) : null;
    if (!file)
      return reply
        .code(404)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(existsSync(dir) ? `no asset ${name}\n` : 'web console not built: run `npm run build`\n');
    reply.header('cache-control', 'public, max-age=31536000, immutable');
    return send(request, reply, file, type);
  });

  app.get('/favicon.svg', hide, async (request, reply) => {
    const file = await load(join(dir, 'favicon.svg'));
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('no favicon\n');
    reply.header('cache-control', 'public, max-age=86400');
    return send(request, reply, file, TYPES['.svg']);
  });
}
