// The process logger's options (src/up.ts). A failed database query surfaces
// as drizzle's DrizzleQueryError, whose message, stack and `params` hold the
// query's parameters: password hashes, API key and token hashes, encrypted
// upstream credentials. Logged errors keep the query text and the database's
// own error (the cause), never the parameters.
import pino, { type LoggerOptions } from 'pino';

const PARAMS = /\nparams: [\s\S]*?(?=\n {4}at |$)/;
const REDACTED = '\nparams: [redacted]';

/** The error as it may be logged: query parameters taken out, along the cause chain. */
export function redactError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error) || depth > 5) return err;
  const e = err as Error & { params?: unknown; query?: unknown };
  const cause = redactError(e.cause, depth + 1);
  if (!('params' in e) && !PARAMS.test(e.message) && cause === e.cause) return err;
  const copy = new Error(e.message.replace(PARAMS, REDACTED), cause === undefined ? undefined : { cause });
  copy.name = e.name;
  copy.stack = e.stack?.replace(PARAMS, REDACTED);
  for (const [k, v] of Object.entries(e))
    if (k !== 'params' && k !== 'cause') (copy as unknown as Record<string, unknown>)[k] = v;
  return copy;
}

export function logOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: { err: (e: unknown) => pino.stdSerializers.err(redactError(e) as Error) },
  };
}
