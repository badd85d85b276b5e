// Response heads from an upstream or origin: only what framing needs (status,
// Content-Length, chunked, persistence). The head bytes are relayed as
// received; we never rebuild a response.

export interface ResponseHead {
  status: number;
  minor: number;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;

/** Parses buf[from, end) (end = index of CRLFCRLF). Null when malformed. */
export function parseResponseHead(buf: Buffer, from: number, end: number): ResponseHead | null {
  const text = buf.toString('latin1', from, end);
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) return null;
  const head: ResponseHead = {
    status: Number(m[2]),
    minor: Number(m[1]),
    contentLength: -1,
    chunked: false,
    keepAlive: m[1] === '1',
  };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const nameLen = colon;
    if (nameLen !== 10 && nameLen !== 14 && nameLen !== 17) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return null;
      head.contentLength = Number(value);
    } else if (name === 'transfer-encoding') {
      if (value.endsWith('chunked')) head.chunked = true;
    } else if (name === 'connection') {
      if (/(^|,)\s*close\s*(,|$)/.test(value)) head.keepAlive = false;
      else if (/(^|,)\s*keep-alive\s*(,|$)/.test(value)) head.keepAlive = true;
    }
  }
  if (head.chunked) head.contentLength = -1;
  return head;
}

/** True when the response to `method` with this status carries no body (RFC 9112 §6.3). */
export function bodyless(method: string, status: number): boolean {
  return method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304;
}
