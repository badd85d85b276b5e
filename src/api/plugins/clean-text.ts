// Text PostgreSQL cannot store: U+0000 (22021 in text, 22P05 in jsonb) and a
// lone UTF-16 surrogate (valid JSON escape, refused by jsonb with 22P02, and
// silently turned into U+FFFD in text). Both surfaced as 500s, after earlier
// writes of the same request had happened (a ban applied, its audit row
// refused). Refused here instead, before validation, with a 400 naming each
// field: JSON bodies (nested), query parameters and path parameters. The error
// handler also maps 22021/22P05 to 400, for anything that gets past.
import type { FastifyInstance } from 'fastify';
import type { FieldProblem } from './errors.ts';
import { sendError } from './errors.ts';

const PROBLEM = 'must not contain the NUL character (\\u0000) or a lone UTF-16 surrogate';

function storable(s: string): boolean {
  return !s.includes('\u0000') && s.isWellFormed();
}

function scan(v: unknown, path: string, out: FieldProblem[]): void {
  if (out.length >= 20) return;
  if (typeof v === 'string') {
    if (!storable(v)) out.push({ field: path || 'body', problem: PROBLEM });
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) scan(v[i], path ? `${path}.${i}` : String(i), out);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (!storable(k)) out.push({ field: path || 'body', problem: `keys ${PROBLEM}` });
      scan(x, path ? `${path}.${k}` : k, out);
    }
  }
}

export function registerCleanText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const fields: FieldProblem[] = [];
    scan(request.params, '', fields);
    scan(request.query, '', fields);
    if (typeof request.body === 'object') scan(request.body, '', fields);
    if (fields.length > 0)
      return sendError(
        reply,
        'PC_ERR_VALIDATION',
        'text must not contain NUL characters or lone surrogates',
        { fields },
      );
  });
}
