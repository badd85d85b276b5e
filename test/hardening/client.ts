// Real-socket HTTP calls and the operations of the served OpenAPI document,
// shared by the control-plane tests of test/hardening/.
import http from 'node:http';

export interface Op {
  method: string;
  /** OpenAPI path, e.g. /api/v1/customers/{username} */
  path: string;
  security: string[];
  hasBody: boolean;
  contentType: string | null;
}

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request over a real socket; an event stream is closed once its status (or first event) is known. */
export function call(
  port: number,
  method: string,
  path: string,
  o: {
    /** on an event stream, wait for the first event (else only the status) */
    firstEvent?: boolean;
    headers?: Record<string, string>;
    body?: string;
    host?: string;
    localAddress?: string;
    family?: number;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: o.host ?? '127.0.0.1',
        port,
        method,
        path,
        headers: {
          ...o.headers,
          ...(o.body !== undefined ? { 'content-length': Buffer.byteLength(o.body) } : {}),
        },
        localAddress: o.localAddress,
        family: o.family,
        agent: false,
      },
      (res) => {
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          // The status, and the first event (up to its blank line), then close.
          let text = '';
          const done = () => {
            resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers });
            req.destroy();
          };
          if (res.statusCode !== 200 || !o.firstEvent) return done();
          res.on('data', (d: Buffer) => {
            text += d.toString('utf8');
            if (/\n\n/.test(text.replace(/^:.*\n\n/gm, ''))) done();
          });
          return;
        }
        const parts: Buffer[] = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(parts).toString('utf8'),
            headers: res.headers,
          }),
        );
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Every operation of the OpenAPI document the app serves. */
export function operations(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Op[] {
  const out: Op[] = [];
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) {
      const content = (op.requestBody as { content?: Record<string, unknown> } | undefined)?.content;
      out.push({
        method: method.toUpperCase(),
        path,
        security: ((op.security as Record<string, unknown>[] | undefined) ?? []).flatMap((s) =>
          Object.keys(s),
        ),
        hasBody: content !== undefined,
        contentType: content ? Object.keys(content)[0] : null,
      });
    }
  return out;
}
