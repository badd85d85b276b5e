// First run: an admin token and the reference plans. Idempotent: a second run
// keeps every token and plan (and does not re-create plans the operator has
// deleted: the seed is remembered in `settings`).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Store } from './store/db.ts';
import { createRepos } from './store/repos/index.ts';
import type { PlanInsert } from './store/repos/plans.ts';
import { newSecret, sha256 } from './store/secrets.ts';

const GB = 1_000_000_000;
const MBps = 1_000_000;

/** Basic / Pro / Enterprise (issue 2): monthly quota, 30-day term. */
export const REFERENCE_PLANS: PlanInsert[] = [
  { name: 'Basic', threads: 10, rps: 20, bandwidth: 2 * MBps, quotaBytes: 1 * GB, priceCents: 1000 },
  { name: 'Pro', threads: 50, rps: 100, bandwidth: 10 * MBps, quotaBytes: 10 * GB, priceCents: 5000 },
  {
    name: 'Enterprise',
    threads: 200,
    rps: 500,
    bandwidth: 50 * MBps,
    quotaBytes: 100 * GB,
    priceCents: 20000,
  },
].map((p) => ({ ...p, quotaPeriod: 'month', durationDays: 30 }));

const SEEDED = 'bootstrap.plans_seeded';

export interface BootstrapResult {
  /** the generated admin token (plaintext), only on the run that created it: log it prominently */
  generatedToken?: string;
  /** where the plaintext token was written, when it was */
  tokenFile?: string;
  seededPlans: string[];
}

export async function bootstrap(opts: {
  config: Readonly<Config>;
  store: Store;
  log?: Logger;
}): Promise<BootstrapResult> {
  const { config, store, log } = opts;
  const result: BootstrapResult = { seededPlans: [] };
  const tokenFile = join(config.dataDir, 'admin-token');

  await store.db.transaction(async (tx) => {
    const repos = createRepos(tx);
    const tokens = await repos.adminTokens.list();
    if (config.adminToken) {
      // The configured token always works, also when others exist already.
      const hash = sha256(config.adminToken);
      if (!tokens.some((t) => t.tokenHash === hash)) {
        await repos.adminTokens.create({
          name: 'bootstrap (PORTCULLIS_ADMIN_TOKEN)',
          tokenHash: hash,
          prefix: config.adminToken.slice(0, 10),
          scopes: ['admin'],
        });
        log?.info(
          { event: 'admin_token_configured' },
          'admin token from PORTCULLIS_ADMIN_TOKEN stored (hash only)',
        );
      }
    } else if (tokens.length === 0) {
      const secret = newSecret('pca');
      await repos.adminTokens.create({
        name: 'bootstrap',
        tokenHash: secret.hash,
        prefix: secret.display,
        scopes: ['admin'],
      });
      result.generatedToken = secret.value;
    }

    if (await repos.settings.setIfMissing(SEEDED, { at: new Date().toISOString() })) {
      for (const p of REFERENCE_PLANS)
        if (await repos.plans.createIfMissing(p)) result.seededPlans.push(p.name);
    }
  });

  if (result.generatedToken) {
    mkdirSync(config.dataDir, { recursive: true });
    // A leftover file from an older data dir would hold a dead token; replace it.
    writeFileSync(tokenFile, `${result.generatedToken}\n`, { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
    result.tokenFile = tokenFile;
  } else if (config.adminToken && !existsSync(tokenFile)) {
    // The CLI reads DATA_DIR/admin-token; give it the configured token too.
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(tokenFile, `${config.adminToken}\n`, { mode: 0o600, flag: 'wx' });
    result.tokenFile = tokenFile;
  }
  if (result.seededPlans.length) log?.info({ plans: result.seededPlans }, 'seeded reference plans');
  return result;
}
