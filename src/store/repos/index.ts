// The repositories over one database handle or transaction.
import { createAdminTokensRepo } from './admin-tokens.ts';
import { createCustomersRepo } from './customers.ts';
import { createAuditRepo, createSecurityEventsRepo } from './events.ts';
import { createPlansRepo } from './plans.ts';
import { createSessionsRepo } from './sessions.ts';
import { createSettingsRepo } from './settings.ts';
import type { Q } from './types.ts';
import { createUpstreamsRepo } from './upstreams.ts';
import { createUsageRepo } from './usage.ts';

export function createRepos(db: Q) {
  return {
    plans: createPlansRepo(db),
    customers: createCustomersRepo(db),
    upstreams: createUpstreamsRepo(db),
    adminTokens: createAdminTokensRepo(db),
    audit: createAuditRepo(db),
    securityEvents: createSecurityEventsRepo(db),
    usage: createUsageRepo(db),
    settings: createSettingsRepo(db),
    sessions: createSessionsRepo(db),
  };
}

export type Repos = ReturnType<typeof createRepos>;
export type { Q } from './types.ts';
