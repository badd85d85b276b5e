// Data dir read-only or full at start-up. The tests run as root here, so
// chmod would not stop a write: the data dir is a small tmpfs of the test's
// own, remounted read-only, or filled to the last byte. Where mounting is not
// permitted (an unprivileged CI container), those cases are skipped with the
// reason; the file-where-the-directory-should-be case needs no mount and
// always runs.
//
// Promised (docs/reliability.md, "Faults"): `portcullis up` stops at once
// with exit status 73 and `PC_ERR_DATA_DIR` naming the path and the reason
// (read-only, no space, not a directory); it writes nothing (every file in
// the data dir is byte-for-byte unchanged); with PostgreSQL a first run on a
// read-only data dir creates no admin token it cannot show; once the dir is
// writable again the same data starts as before.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { EXIT_DATA_DIR } from '../../src/up.ts';
import { freePorts } from '../clients/sockets.ts';
import { openTestStore, type TestStore } from '../helpers/store.ts';
import { spawnUp, startUp, stopUp } from '../helpers/up.ts';

const root = mkdtempSync(join(tmpdir(), 'pc-datadir-'));
const mounts: string[] = [];
let pgStore: TestStore | undefined;
let base: Record<string, string>;

function mount(dir: string, opts: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'pipe' });
    mounts.push(dir);
    return null;
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e).trim();
  }
}
const remount = (dir: string, mode: 'ro' | 'rw') =>
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });

/** Can this process mount a tmpfs? null when it can, else why not. */
function mountBlocked(): string | null {
  const probe = join(root, 'probe');
  mkdirSync(probe);
  const err = mount(probe, 'size=1m');
  if (err === null) {
    execFileSync('umount', [probe]);
    mounts.pop();
  }
  return err === null ? null : `cannot mount a tmpfs here (${err}); chmod does not stop root`;
}

/** path -> sha256 of every file under `dir` (except `skip`) */
function snapshot(dir: string, skip = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === skip) continue;
      if (e.isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** Writes until the file system has not one byte left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

async function refusedStart(env: Record<string, string>, dir: string, why: RegExp): Promise<void> {
  const c = spawnUp(env);
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 60_000);
  const code = await c.exited;
  clearTimeout(timer);
  assert.equal(code, EXIT_DATA_DIR, c.out());
  assert.ok(c.out().includes(`data dir ${dir} `), `the message names the path: ${c.out()}`);
  assert.match(c.out(), why);
  assert.match(c.out(), /PC_ERR_DATA_DIR/);
  assert.doesNotMatch(c.out(), /\n\s+at /, 'no stack trace');
}

async function envFor(dir: string): Promise<Record<string, string>> {
  const [api, gw] = await freePorts(2);
  return {
    ...base,
    PORTCULLIS_DATA_DIR: dir,
    PORTCULLIS_API_PORT: String(api),
    PORTCULLIS_PORTS: `${gw}-${gw}`,
  };
}

async function api(env: Record<string, string>, method: string, path: string, body?: unknown) {
  const token = readFileSync(join(env.PORTCULLIS_DATA_DIR, 'admin-token'), 'utf8').trim();
  const r = await fetch(`http://127.0.0.1:${env.PORTCULLIS_API_PORT}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, text: await r.text() };
}

before(async () => {
  base = {
    PORTCULLIS_API_HOST: '127.0.0.1',
    PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
    PORTCULLIS_LOG_LEVEL: 'info',
  };
  if (process.env.DATABASE_URL) {
    pgStore = await openTestStore('postgres');
    base.DATABASE_URL = pgStore.url!;
  }
});

after(async () => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {}
  }
  await pgStore?.close();
  rmSync(root, { recursive: true, force: true });
});

test('a file where the data dir should be: exit 73 naming the path', async () => {
  const file = join(root, 'not-a-dir');
  writeFileSync(file, 'precious\n');
  await refusedStart(await envFor(file), file, /not a directory/);
  assert.equal(readFileSync(file, 'utf8'), 'precious\n', 'the file is untouched');
  const nested = join(file, 'data');
  await refusedStart(await envFor(nested), nested, /not a directory|ENOTDIR/);
});

describe('data dir on a file system of its own', () => {
  const blocked = process.getuid?.() === 0 ? mountBlocked() : 'not root: mounting needs privileges';
  const dir = join(root, 'mnt');
  let env: Record<string, string>;

  before(async () => {
    if (blocked) return;
    mkdirSync(dir);
    // Room for the embedded database (about 40 MiB) and its 64 MiB minimum free.
    const err = mount(dir, 'size=256m,mode=0755');
    if (err) throw new Error(err);
    env = await envFor(dir);
    // First run: the token, a customer, a graceful stop.
    const up = await startUp(env);
    try {
      assert.equal(
        (
          await api(env, 'POST', '/api/v1/customers', {
            username: 'dora',
            password: 'pw-dora',
            plan: 'Basic',
          })
        ).status,
        201,
      );
    } finally {
      assert.equal(await stopUp(up), 0);
    }
  });

  test('read-only, then full, then nearly full: exit 73 each time, nothing written; the same data starts again', {
    skip: blocked ?? false,
  }, async (t) => {
    const before = snapshot(dir);
    remount(dir, 'ro');
    try {
      await refusedStart(env, dir, /read-only/);
    } finally {
      remount(dir, 'rw');
    }
    assert.deepEqual(snapshot(dir), before, 'read-only: every file unchanged');

    const filler = join(dir, 'filler');
    fill(filler);
    try {
      await refusedStart(env, dir, /no space left/);
      assert.deepEqual(snapshot(dir, filler), before, 'full: every file unchanged');
    } finally {
      rmSync(filler, { force: true });
    }

    if (!env.DATABASE_URL) {
      // Room for a file, not for the embedded database to grow.
      const st = statfsSync(dir);
      const fd = openSync(filler, 'w');
      writeSync(fd, Buffer.alloc(Math.max(0, st.bavail * st.bsize - 16 * 1024 * 1024)));
      closeSync(fd);
      try {
        await refusedStart(env, dir, /MiB free, the embedded database needs at least 64 MiB/);
        assert.deepEqual(snapshot(dir, filler), before, 'nearly full: every file unchanged');
      } finally {
        rmSync(filler, { force: true });
      }
    }

    const up = await startUp(env);
    try {
      const r = await api(env, 'GET', '/api/v1/customers/dora');
      assert.equal(r.status, 200, r.text);
      t.diagnostic('started again on the same data: the customer and the admin token are there');
    } finally {
      assert.equal(await stopUp(up), 0);
    }
  });

  test('first run on a read-only data dir: exit 73 before anything is created', {
    skip: blocked ?? false,
  }, async () => {
    const fresh = join(root, 'fresh');
    mkdirSync(fresh);
    if (mount(fresh, 'size=1m,ro')) throw new Error('mount failed');
    const secret = randomBytes(16).toString('hex');
    let db: TestStore | undefined;
    try {
      const e: Record<string, string> = { ...(await envFor(fresh)), PORTCULLIS_SECRET: secret };
      if (e.DATABASE_URL) {
        // A database of its own, so "no admin token" means this run made none.
        db = await openTestStore('postgres');
        e.DATABASE_URL = db.url!;
      }
      await refusedStart(e, fresh, /read-only/);
      if (db) {
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        try {
          const r = await c.query('select count(*)::int as n from admin_tokens');
          assert.equal(r.rows[0].n, 0, 'no admin token created that nobody could see');
        } finally {
          await c.end();
        }
      }
    } finally {
      await db?.close();
    }
  });
});
