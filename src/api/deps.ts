// What route modules receive from buildApp: services, auth hooks and helpers.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ConnInfo } from '../domain/connection.ts';
import type { AuthGuard } from '../security/auth-guard.ts';
import type { createAdminAuth, createCustomerAuth } from './plugins/auth.ts';
import type { ServiceContext } from './services/context.ts';
import type { CustomerService } from './services/customers.ts';
import type { PlanService } from './services/plans.ts';
import type { UpstreamService } from './services/upstream-import.ts';
import type { UsageService } from './services/usage.ts';

export type GatewayStatus = () => Map<number, { state: string; error?: string }>;

export type LiveConnection = ConnInfo;
/** Every gateway thread's live connections (a promise when worker threads must be asked). */
export type GatewayConnections = () => LiveConnection[] | Promise<LiveConnection[]>;

export interface RouteDeps {
  ctx: ServiceContext;
  log: Logger;
  plans: PlanService;
  customers: CustomerService;
  upstreams: UpstreamService;
  usage: UsageService;
  /** this process's credential lock-out guard: unlock() lifts a lock-out here at once and everywhere */
  authGuard: AuthGuard;
  adminAuth: ReturnType<typeof createAdminAuth>;
  customerAuth: ReturnType<typeof createCustomerAuth>;
  gatewayStatus?: GatewayStatus;
  /** live connections of the gateway in this process (the live view) */
  gatewayConnections?: GatewayConnections;
  /** Records who changed what, from where. */
  audit(request: FastifyRequest, action: string, target: string | null, detail?: unknown): Promise<void>;
}
