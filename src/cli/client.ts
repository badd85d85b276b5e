// The CLI's only way to the system: HTTP to the API with global fetch. Where
// the API lives and which token to send come from flags, then the environment
// (config.ts cliEnv), then DATA_DIR/admin-token, the file `portcullis up`
// writes on first run. Failures become three errors with a clear story:
// ApiError (the API said no), UnreachableError (nobody answered), CliError
// (no token to send).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './spec.ts';

export interface ClientEnv {
  url: string | undefined;
  token: string | undefined;
  dataDir: string;
  apiPort: number;
}

export interface ClientOptions {
  env: ClientEnv;
  /** --url */
  url?: string;
  /** --token */
  token?: string;
  /** --api-key (customer commands) */
  apiKey?: string;
}

export type RawBody = string | Uint8Array | ReadableStream<Uint8Array>;

export interface RequestOptions {
  /** JSON body */
  json?: unknown;
  /** raw body (text or a stream) with its content type */
  body?: RawBody;
  contentType?: string;
  /** admin: bearer admin token; customer: bearer API key; none */
  auth?: 'admin' | 'customer' | 'none';
  timeoutMs?: number;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  fields?: unknown;
  details?: unknown;
}

/** The API answered with an error: `{error: {code, message, fields?, details?}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: unknown;
  readonly details: unknown;
  readonly url: string;
  constructor(status: number, body: ApiErrorBody, url: string) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.fields = body.fields;
    this.details = body.details;
    this.url = url;
  }
}

export class UnreachableError extends Error {
  readonly url: string;
  constructor(url: string, reason: string) {
    super(
      `cannot reach the Portcullis API at ${url} (${reason}).\n` +
        '  Is `portcullis up` running there? Point the CLI elsewhere with --url or PORTCULLIS_URL.',
    );
    this.name = 'UnreachableError';
    this.url = url;
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<T>;
}

export function baseUrlOf(opts: ClientOptions): string {
  const url = opts.url || opts.env.url || `http://127.0.0.1:${opts.env.apiPort}`;
  return url.replace(/\/+$/, '');
}

/** The admin token: --token, PORTCULLIS_TOKEN, then DATA_DIR/admin-token. */
export function resolveToken(opts: ClientOptions): string {
  const given = opts.token || opts.env.token;
  if (given) return given.trim();
  const file = join(opts.env.dataDir, 'admin-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
    throw new CliError(`the token file ${file} is empty`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by you' : code;
    throw new CliError(
      `no admin token: --token and PORTCULLIS_TOKEN are not set, and ${file} ${why}.\n` +
        '  `portcullis up` prints the token on its first run and stores it in DATA_DIR/admin-token;\n' +
        '  run the CLI on that machine (PORTCULLIS_DATA_DIR=<dir>), or export PORTCULLIS_TOKEN=<token>.',
    );
  }
}

export function createClient(opts: ClientOptions): ApiClient {
  const baseUrl = baseUrlOf(opts);
  let token: string | undefined;
  return {
    baseUrl,
    async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9' };
      const auth = ro.auth ?? 'admin';
      if (auth === 'admin') {
        token ??= resolveToken(opts);
        headers.authorization = `Bearer ${token}`;
      } else if (auth === 'customer') {
        if (!opts.apiKey) throw new CliError('no API key: pass --api-key');
        headers.authorization = `Bearer ${opts.apiKey}`;
      }
      let body: RawBody | undefined;
      if (ro.json !== undefined) {
        body = JSON.stringify(ro.json);
        headers['content-type'] = 'application/json';
      } else if (ro.body !== undefined) {
        body = ro.body;
        headers['content-type'] = ro.contentType ?? 'application/octet-stream';
      }
      const url = `${baseUrl}${path}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(ro.timeoutMs ?? 30_000),
          // Required by undici for stream bodies (upstream import progress).
          ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (e) {
        throw new UnreachableError(baseUrl, reasonOf(e, ro.timeoutMs ?? 30_000));
      }
      const text = await res.text();
      const isJson = (res.headers.get('content-type') ?? '').includes('json');
      // An empty answer (204) reads as null, so callers need not special-case it.
      let data: unknown = text === '' ? null : text;
      if (isJson && text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
      if (!res.ok) {
        const err = (data as { error?: ApiErrorBody } | null)?.error;
        throw new ApiError(
          res.status,
          err && typeof err === 'object' && err.message
            ? err
            : {
                code: `HTTP_${res.status}`,
                message: typeof data === 'string' && data ? data.slice(0, 200) : res.statusText,
              },
          url,
        );
      }
      return data as T;
    },
  };
}

function reasonOf(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}
