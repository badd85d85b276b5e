// Plan rules: names are unique, a plan in use cannot be deleted, and every
// change is published so gateways recompile the plan's customers within 1 s.
import { PcError } from '../../errors.ts';
import type { PlanInsert, PlanRow } from '../../store/repos/plans.ts';
import { isUniqueViolation, type ServiceContext } from './context.ts';

export type PlanInput = Omit<PlanInsert, 'id' | 'createdAt' | 'updatedAt'>;

export function createPlanService(ctx: ServiceContext) {
  const { repos } = ctx;

  async function get(name: string): Promise<PlanRow> {
    const plan = await repos.plans.byName(name);
    if (!plan) throw new PcError('PC_ERR_NOT_FOUND', `plan "${name}" does not exist`);
    return plan;
  }

  function checkCaps(p: Partial<PlanInput>) {
    if (p.threadsHardCap != null && p.threads != null && p.threadsHardCap < p.threads)
      throw new PcError('PC_ERR_VALIDATION', 'threadsHardCap must be at least threads', {
        fields: [{ field: 'threadsHardCap', problem: 'must be >= threads' }],
      });
  }

  return {
    get,
    list: () => repos.plans.list(),
    async create(input: PlanInput): Promise<PlanRow> {
      checkCaps(input);
      try {
        return await repos.plans.create(input);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new PcError('PC_ERR_CONFLICT', `plan "${input.name}" already exists`);
        throw err;
      }
    },
    async update(name: string, changes: Partial<PlanInput>): Promise<PlanRow> {
      const plan = await get(name);
      checkCaps({ ...plan, ...changes });
      let row: PlanRow | undefined;
      try {
        row = await repos.plans.update(plan.id, changes);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new PcError('PC_ERR_CONFLICT', `plan "${changes.name}" already exists`);
        throw err;
      }
      if (!row) throw new PcError('PC_ERR_NOT_FOUND', `plan "${name}" does not exist`);
      await ctx.changes.publish({ type: 'plan', planId: row.id });
      return row;
    },
    async remove(name: string): Promise<PlanRow> {
      const plan = await get(name);
      const users = await repos.plans.customerCount(plan.id);
      if (users > 0)
        throw new PcError(
          'PC_ERR_CONFLICT',
          `plan "${name}" is used by ${users} customer(s); move them first`,
          {
            customers: users,
          },
        );
      await repos.plans.delete(plan.id);
      await ctx.changes.publish({ type: 'plan', planId: plan.id });
      return plan;
    },
  };
}

export type PlanService = ReturnType<typeof createPlanService>;
