// ajv coerces the text of a path or query parameter to a number before it
// checks it, and "1e309", "-1e309" or "Infinity" become ±Infinity, which its
// range checks skip (they only run on finite numbers): the value passed
// validation and failed in the database as a 500. Refused here instead, right
// after validation, with the same 400 naming each field. (JSON bodies are not
// affected: a number there is checked as a number, and a non-finite one fails
// "must be integer".)
import type { FastifyInstance } from 'fastify';
import type { FieldProblem } from './errors.ts';
import { sendError } from './errors.ts';

function scan(v: unknown, out: FieldProblem[]): void {
  if (v === null || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    const values = Array.isArray(x) ? x : [x];
    if (values.some((n) => typeof n === 'number' && !Number.isFinite(n)))
      out.push({ field: k, problem: 'must be a finite number' });
  }
}

export function registerFiniteNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', async (request, reply) => {
    const fields: FieldProblem[] = [];
    scan(request.params, fields);
    scan(request.query, fields);
    if (fields.length > 0) return sendError(reply, 'PC_ERR_VALIDATION', 'invalid request', { fields });
  });
}
