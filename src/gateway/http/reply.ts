// Refusals on the HTTP path: the catalog's status, a one-line body naming the
// code, and X-Portcullis-Reason so curl users, logs and the dashboard all
// see the same reason. Built once per code, then written as a ready Buffer.
import { ERRORS, type ErrorCode } from '../../errors.ts';

const TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const cache = new Map<ErrorCode, Buffer>();

export function buildReply(code: ErrorCode, detail?: string): Buffer {
  const e = ERRORS[code];
  const body = `${code} (${e.reason}): ${detail ?? e.message}\n`;
  const head =
    `HTTP/1.1 ${e.status} ${TEXT[e.status] ?? 'Error'}\r\n` +
    (e.status === 407 ? 'Proxy-Authenticate: Basic realm="portcullis"\r\n' : '') +
    `X-Portcullis-Reason: ${e.reason}\r\n` +
    `X-Portcullis-Code: ${code}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  return Buffer.from(head + body, 'utf8');
}

/** The reply for `code`; with `detail` (e.g. the upstream's own failure) built fresh. */
export function replyFor(code: ErrorCode, detail?: string): Buffer {
  if (detail) return buildReply(code, detail.replace(/[\r\n]/g, ' '));
  let b = cache.get(code);
  if (!b) {
    b = buildReply(code);
    cache.set(code, b);
  }
  return b;
}
