// Builds the web console (web/ → web/dist) with Vite.
//   node scripts/build-web.ts            build now
//   node scripts/build-web.ts --if-stale build only when web/dist is missing or
//                                        older than a source file (npm prestart)
// Tests call buildWeb(outDir) to build the current sources into a temp folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '../web');
export const WEB_DIST = join(WEB_DIR, 'dist');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

/** True when web/dist/index.html is missing or older than web/src, web/public, index.html or the config. */
export function webStale(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts'].map((p) => join(WEB_DIR, p));
  return sources.some((p) => existsSync(p) && newest(p) > built);
}

/** Builds into `outDir` (default web/dist); answers the time taken in ms. */
export async function buildWeb(outDir = WEB_DIST, quiet = false): Promise<number> {
  const started = performance.now();
  const { build } = await import('vite');
  await build({
    configFile: join(WEB_DIR, 'vite.config.ts'),
    logLevel: quiet ? 'error' : 'info',
    build: { outDir, emptyOutDir: true },
  });
  return Math.round(performance.now() - started);
}

if (import.meta.main) {
  if (process.argv.includes('--if-stale') && !webStale()) {
    console.log('web console: web/dist is up to date');
  } else {
    const ms = await buildWeb();
    console.log(`web console: built web/dist in ${ms} ms`);
  }
}
