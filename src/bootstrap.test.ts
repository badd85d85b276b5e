import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestStore, type TestStore } from '../test/helpers/store.ts';
import { bootstrap } from './bootstrap.ts';
import { loadConfig } from './config.ts';
import { createRepos } from './store/repos/index.ts';
import { sha256 } from './store/secrets.ts';

describe('bootstrap (first run)', () => {
  let store: TestStore;
  let dir: string;
  before(async () => {
    store = await openTestStore();
    dir = mkdtempSync(join(tmpdir(), 'pc-boot-'));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates a token once (hash stored, plaintext in admin-token 0600) and seeds three plans; idempotent', async () => {
    const config = loadConfig({ PORTCULLIS_DATA_DIR: dir });
    const first = await bootstrap({ config, store });
    assert.match(first.generatedToken!, /^pca_/);
    assert.deepEqual(first.seededPlans, ['Basic', 'Pro', 'Enterprise']);
    const file = join(dir, 'admin-token');
    assert.equal(readFileSync(file, 'utf8').trim(), first.generatedToken);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const repos = createRepos(store.db);
    const tokens = await repos.adminTokens.list();
    assert.equal(tokens.length, 1);
    assert.equal(tokens[0].tokenHash, sha256(first.generatedToken!));
    assert.deepEqual(tokens[0].scopes, ['admin']);

    // Second run: keeps everything, prints nothing, and does not resurrect a deleted seed plan.
    const pro = await repos.plans.byName('Pro');
    await repos.plans.delete(pro!.id);
    const second = await bootstrap({ config, store });
    assert.equal(second.generatedToken, undefined);
    assert.deepEqual(second.seededPlans, []);
    assert.equal((await repos.adminTokens.list()).length, 1);
    assert.deepEqual(
      (await repos.plans.list()).map((p) => p.name),
      ['Basic', 'Enterprise'],
    );
    assert.equal(readFileSync(file, 'utf8').trim(), first.generatedToken);
  });

  it('PORTCULLIS_ADMIN_TOKEN is stored as a hash and works alongside existing tokens', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'pc-boot-'));
    try {
      writeFileSync(join(dir2, 'admin-token'), 'keep-me\n');
      const config = loadConfig({
        PORTCULLIS_DATA_DIR: dir2,
        PORTCULLIS_ADMIN_TOKEN: 'operator-chosen-token-123',
      });
      const r = await bootstrap({ config, store });
      assert.equal(r.generatedToken, undefined);
      const t = await createRepos(store.db).adminTokens.byHash(sha256('operator-chosen-token-123'));
      assert.ok(t);
      assert.equal(readFileSync(join(dir2, 'admin-token'), 'utf8'), 'keep-me\n');
      await bootstrap({ config, store });
      const all = await createRepos(store.db).adminTokens.list();
      assert.equal(all.filter((x) => x.tokenHash === sha256('operator-chosen-token-123')).length, 1);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
