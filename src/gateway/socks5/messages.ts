// SOCKS5 client messages (RFC 1928 §3-§6, RFC 1929 §2) as incremental
// parsers over the bytes read so far: null means "need more".
import { PcError, SOCKS } from '../../errors.ts';

type Parsed<T> = { value: T; used: number } | null;

/** VER NMETHODS METHODS... -> the offered methods */
export function parseGreeting(buf: Buffer): Parsed<Buffer> {
  if (buf.length < 2) return null;
  if (buf[0] !== 5) throw new PcError('PC_ERR_BAD_REQUEST', 'not SOCKS5');
  const n = buf[1];
  if (buf.length < 2 + n) return null;
  return { value: buf.subarray(2, 2 + n), used: 2 + n };
}

/** RFC 1929: VER ULEN UNAME PLEN PASSWD */
export function parseUserPass(buf: Buffer): Parsed<{ username: string; password: string }> {
  if (buf.length < 2) return null;
  if (buf[0] !== 1) throw new PcError('PC_ERR_BAD_REQUEST', 'bad RFC 1929 version');
  const ulen = buf[1];
  if (buf.length < 3 + ulen) return null;
  const plen = buf[2 + ulen];
  if (buf.length < 3 + ulen + plen) return null;
  return {
    value: {
      username: buf.toString('utf8', 2, 2 + ulen),
      password: buf.toString('utf8', 3 + ulen, 3 + ulen + plen),
    },
    used: 3 + ulen + plen,
  };
}

export interface Socks5Request {
  /** 0 for an address type we do not know (the caller answers 0x08) */
  atyp: number;
  cmd: number;
  host: string;
  port: number;
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT; an unknown ATYP yields atyp 0 (reply 0x08; the rest is unparseable). */
export function parseRequest(buf: Buffer): Parsed<Socks5Request> {
  if (buf.length < 5) return null;
  if (buf[0] !== 5) throw new PcError('PC_ERR_BAD_REQUEST', 'not SOCKS5');
  const atyp = buf[3];
  let host: string;
  let at: number;
  if (atyp === 1) {
    if (buf.length < 10) return null;
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
    at = 8;
  } else if (atyp === 3) {
    const len = buf[4];
    if (buf.length < 7 + len) return null;
    if (len === 0) throw new PcError('PC_ERR_BAD_REQUEST', 'empty target name');
    host = buf.toString('latin1', 5, 5 + len);
    at = 5 + len;
  } else if (atyp === 4) {
    if (buf.length < 22) return null;
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(4 + i * 2).toString(16));
    host = groups.join(':');
    at = 20;
  } else return { value: { atyp: 0, cmd: buf[1], host: '', port: 0 }, used: buf.length };
  return { value: { atyp, cmd: buf[1], host, port: buf.readUInt16BE(at) }, used: at + 2 };
}

const BND = [1, 0, 0, 0, 0, 0, 0];

/** VER REP RSV ATYP BND.ADDR BND.PORT with 0.0.0.0:0: clients ignore the bound address of a CONNECT. */
export function reply(rep: number): Buffer {
  return Buffer.from([5, rep, 0, ...BND]);
}

export const REPLY_OK = reply(SOCKS.SUCCEEDED);
export const NO_ACCEPTABLE = Buffer.from([5, 0xff]);
