// One error shape for every answer: {error: {code, message, reason?, details?, fields?}}.
// Low-level errors are translated here, once: ajv validation → 400 naming each
// field, Fastify body errors → 400/413, database unreachable → 503, unique
// violations that slipped past a service → 409, anything else → 500 (logged).
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS, type ErrorCode, isPcError } from '../../errors.ts';

export interface FieldProblem {
  field: string;
  problem: string;
}

export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message?: string,
  extra: { details?: unknown; fields?: FieldProblem[]; status?: number } = {},
) {
  const def = ERRORS[code];
  const error: Record<string, unknown> = { code, message: message ?? def.message, reason: def.reason };
  if (extra.fields) error.fields = extra.fields;
  if (extra.details !== undefined) error.details = extra.details;
  return reply
    .code(extra.status ?? def.status)
    .type('application/json; charset=utf-8')
    .send({ error });
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** One entry per bad field, in the caller's words ("threads", "limits.rps", "cidr"). */
export function ajvFields(errors: AjvError[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let problem = e.message ?? e.keyword;
    if (e.keyword === 'required') {
      field = [field, String(e.params.missingProperty)].filter(Boolean).join('.');
      problem = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      field = [field, String(e.params.additionalProperty)].filter(Boolean).join('.');
      problem = 'is not a known field';
    } else if (e.keyword === 'enum') {
      problem = `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    }
    const key = `${field}\0${problem}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field: field || 'body', problem });
  }
  return out;
}

const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const STORE_DOWN_TEXT =
  /connection terminated|connection timeout|timeout exceeded when trying to connect|query read timeout|connection error|not queryable|pglite is closed|database system is (starting up|shutting down)/i;

/** The reason text when `err` means "the database does not answer", else null. */
export function storeDownReason(err: unknown): string | null {
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 6; i++, e = e.cause as typeof e) {
    const msg = typeof e.message === 'string' ? e.message : '';
    if ((typeof e.code === 'string' && STORE_DOWN_CODES.has(e.code)) || STORE_DOWN_TEXT.test(msg))
      return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${msg || 'no answer'}`.slice(0, 200);
  }
  return null;
}

function hasCode(err: unknown, code: string): boolean {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 6; i++, e = e.cause as typeof e) if (e.code === code) return true;
  return false;
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      return sendError(reply, 'PC_ERR_VALIDATION', `invalid ${err.validationContext ?? 'request'}`, {
        fields: ajvFields(err.validation as unknown as AjvError[]),
      });
    }
    if (isPcError(err)) {
      const d = err.details as { fields?: FieldProblem[] } | undefined;
      if (err.code === 'PC_ERR_VALIDATION' && d?.fields)
        return sendError(reply, err.code, err.message, { fields: d.fields });
      return sendError(reply, err.code, err.message, { details: err.details });
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 'PC_ERR_PAYLOAD_TOO_LARGE', err.message);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 'PC_ERR_VALIDATION', err.message, {
          fields: [
            { field: 'content-type', problem: `unsupported: ${request.headers['content-type'] ?? 'none'}` },
          ],
        });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendError(reply, 'PC_ERR_VALIDATION', err.message, {
          fields: [{ field: 'body', problem: err.message }],
        });
    }
    if (err instanceof SyntaxError && err.statusCode === 400)
      return sendError(reply, 'PC_ERR_VALIDATION', 'body is not valid JSON', {
        fields: [{ field: 'body', problem: err.message }],
      });
    const down = storeDownReason(err);
    if (down) {
      request.log.warn({ code: 'PC_ERR_STORE_UNAVAILABLE', reason: down }, 'store unavailable');
      return sendError(reply, 'PC_ERR_STORE_UNAVAILABLE', `database is unavailable: ${down}`, {
        details: { reason: down },
      });
    }
    if (hasCode(err, '23505')) return sendError(reply, 'PC_ERR_CONFLICT');
    // Text the database cannot store (a NUL, an untranslatable character) is the caller's input.
    if (hasCode(err, '22021') || hasCode(err, '22P05'))
      return sendError(reply, 'PC_ERR_VALIDATION', 'text the database cannot store (e.g. a NUL character)');
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const code: ErrorCode =
        err.statusCode === 404
          ? 'PC_ERR_NOT_FOUND'
          : err.statusCode === 413
            ? 'PC_ERR_PAYLOAD_TOO_LARGE'
            : 'PC_ERR_VALIDATION';
      return sendError(reply, code, err.message, { status: err.statusCode });
    }
    request.log.error({ err, code: 'PC_ERR_INTERNAL' }, 'unhandled error');
    return sendError(reply, 'PC_ERR_INTERNAL');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'PC_ERR_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
}
