// Issue 7 item 4, SSRF: through every proxy protocol (HTTP forward, CONNECT,
// SOCKS5 with an IPv4, IPv6 or name target), a customer asking for the host
// itself, private networks, link-local (cloud metadata), CGNAT, IPv6 local
// ranges, IPv4-mapped IPv6, numeric spellings of loopback, names that resolve
// to loopback, or the control plane's own ports gets PC_ERR_TARGET_FORBIDDEN
// (HTTP 403 target_forbidden, SOCKS5 0x02) by default, and no connection
// reaches the service behind. PORTCULLIS_EGRESS_ALLOW opens the ranges, never
// the platform's own ports. A chained upstream gets the same refusals before
// it is asked anything. (src/gateway/egress.test.ts covers the guard's rules
// one address at a time; this file proves them on the wire.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { type Sink, startSink } from '../fuzz/sink.ts';
import { type Harness, rawExchange, startHarness } from '../gateway/harness.ts';

/** A service bound to every address (like a database on 0.0.0.0) that counts who reached it. */
interface Inside {
  port: number;
  accepted: number;
  close(): Promise<void>;
}

function startInside(): Promise<Inside> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    const inside: Inside = {
      port: 0,
      accepted: 0,
      close: () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy();
          srv.close(() => r());
        }),
    };
    const srv = net.createServer((s) => {
      inside.accepted++;
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      s.once('data', () =>
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ninside\n'),
      );
    });
    srv.listen(0, '::', () => {
      inside.port = (srv.address() as net.AddressInfo).port;
      resolve(inside);
    });
  });
}

const AUTH = `Proxy-Authorization: Basic ${Buffer.from('eve:pw').toString('base64')}\r\n`;

/** HTTP forward: status code and reason of the gateway's answer. */
async function viaForward(port: number, authority: string): Promise<{ status: number; text: string }> {
  const r = (
    await rawExchange(port, [
      `GET http://${authority}/ HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n${AUTH}\r\n`,
    ])
  ).toString('latin1');
  return { status: Number(r.slice(9, 12)), text: r };
}

/** CONNECT, then one request inside the tunnel when it opens. */
async function viaConnect(port: number, authority: string): Promise<{ status: number; text: string }> {
  const r = (
    await rawExchange(port, [
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${AUTH}\r\n`,
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    ])
  ).toString('latin1');
  return { status: Number(r.slice(9, 12)), text: r };
}

type Socks5Target = { atyp: 1 | 3 | 4; host: string };

/** The SOCKS5 target encoding a client would choose for this host text. */
function socksTarget(host: string): Socks5Target {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (net.isIPv4(bare)) return { atyp: 1, host: bare };
  if (net.isIPv6(bare)) return { atyp: 4, host: bare };
  return { atyp: 3, host: bare };
}

function encodeAddr(t: Socks5Target): Buffer {
  if (t.atyp === 1) return Buffer.from(t.host.split('.').map(Number));
  if (t.atyp === 3) return Buffer.concat([Buffer.from([t.host.length]), Buffer.from(t.host, 'latin1')]);
  // IPv6: the URL parser's canonical text (hex groups, at most one "::"), expanded to 16 bytes.
  const text = new URL(`http://[${t.host}]/`).hostname.slice(1, -1);
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const b = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(Number.parseInt(groups[i], 16), i * 2);
  return b;
}

/** SOCKS5 with RFC 1929 credentials: the reply code (0 = granted) and what came after it. */
function viaSocks5(port: number, t: Socks5Target, dstPort: number): Promise<{ rep: number; rest: string }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let stage = 0;
    const done = (rep: number) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ rep, rest: buf.subarray(10).toString('latin1') });
    };
    const timer = setTimeout(() => done(-1), 5000);
    s.on('error', () => {});
    s.on('close', () => done(stage === 3 && buf.length >= 2 ? buf[1] : -1));
    s.on('connect', () => s.write(Buffer.from([5, 1, 2])));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2);
        stage = 1;
        s.write(Buffer.from([1, 3, ...Buffer.from('eve'), 2, ...Buffer.from('pw')]));
      }
      if (stage === 1 && buf.length >= 2) {
        if (buf[1] !== 0) return done(-2);
        buf = buf.subarray(2);
        stage = 2;
        const port16 = Buffer.from([dstPort >> 8, dstPort & 255]);
        s.write(Buffer.concat([Buffer.from([5, 1, 0, t.atyp]), encodeAddr(t), port16]));
      }
      if (stage === 2 && buf.length >= 10) {
        stage = 3;
        if (buf[1] !== 0) return done(buf[1]);
        s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      }
    });
  });
}

/** Names from /etc/hosts that point at loopback, besides localhost (e.g. the machine's own name). */
function hostsFileLoopbackNames(): string[] {
  try {
    return readFileSync('/etc/hosts', 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
      .filter((f) => f.length > 1 && (f[0].startsWith('127.') || f[0] === '::1'))
      .flatMap((f) => f.slice(1))
      .filter((n) => n !== 'localhost' && /^[a-z0-9.-]+$/i.test(n) && !n.includes('..'))
      .slice(0, 2);
  } catch {
    return [];
  }
}

/** This machine's own non-loopback addresses (a service on 0.0.0.0 answers there too). */
function ownAddresses(): { v4: string[]; v6: string[] } {
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal);
  return {
    v4: all.filter((a) => a!.family === 'IPv4').map((a) => a!.address),
    v6: all.filter((a) => a!.family === 'IPv6' && !a!.address.startsWith('fe80')).map((a) => a!.address),
  };
}

const bracket = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);

/**
 * Every spelling of "the inside" a customer might try, with what it is.
 * `remote`: a name only DNS can map, which a chained upstream resolves on its
 * side (the gateway cannot judge it there; direct egress resolves and judges).
 */
function hostileTargets(): { what: string; host: string; remote?: boolean }[] {
  const own = ownAddresses();
  return [
    { what: 'loopback', host: '127.0.0.1' },
    { what: 'loopback /8', host: '127.8.9.10' },
    { what: 'IPv6 loopback', host: '[::1]' },
    { what: 'unspecified (reaches the host)', host: '0.0.0.0' },
    { what: 'IPv6 unspecified', host: '[::]' },
    { what: 'IPv4-mapped IPv6, dotted', host: '[::ffff:127.0.0.1]' },
    { what: 'IPv4-mapped IPv6, hex', host: '[::ffff:7f00:1]' },
    { what: 'IPv4-mapped IPv6, expanded', host: '[0:0:0:0:0:ffff:7f00:1]' },
    { what: 'loopback as one decimal number', host: '2130706433' },
    { what: 'loopback in hex parts', host: '0x7f.1' },
    { what: 'loopback, short form', host: '127.1' },
    { what: 'loopback in octal', host: '0177.0.0.1' },
    { what: 'loopback as one hex number', host: '0x7f000001' },
    { what: 'name resolving to loopback', host: 'localhost' },
    { what: 'subdomain of localhost (RFC 6761)', host: 'api.localhost' },
    ...hostsFileLoopbackNames().map((n) => ({ what: `/etc/hosts name ${n}`, host: n, remote: true })),
    { what: 'RFC 1918 10/8', host: '10.1.2.3' },
    { what: 'RFC 1918 172.16/12', host: '172.16.5.4' },
    { what: 'RFC 1918 192.168/16', host: '192.168.1.1' },
    { what: 'IPv4-mapped RFC 1918', host: '[::ffff:10.0.0.1]' },
    { what: 'cloud metadata (link-local)', host: '169.254.169.254' },
    { what: 'metadata as a decimal number', host: '2852039166' },
    { what: 'IPv4-mapped metadata', host: '[::ffff:169.254.169.254]' },
    { what: 'CGNAT 100.64/10', host: '100.64.0.1' },
    { what: 'CGNAT, top of the range', host: '100.127.255.254' },
    { what: 'IPv6 unique local fc00::/7', host: '[fd12:3456::1]' },
    { what: 'IPv6 link-local fe80::/10', host: '[fe80::1]' },
    ...own.v4.map((a) => ({ what: `this host's address ${a}`, host: a })),
    ...own.v6.map((a) => ({ what: `this host's address ${a}`, host: `[${a}]` })),
  ];
}

describe('SSRF: the egress guard on the wire', () => {
  let h: Harness;
  let inside: Inside;
  let sink: Sink;
  let api: Inside;
  let direct: number;
  let chained: number;

  before(async () => {
    inside = await startInside();
    api = await startInside();
    sink = await startSink();
    // PORTCULLIS_EGRESS_ALLOW empty: the default a fresh install runs with.
    h = await startHarness({ PORTCULLIS_EGRESS_ALLOW: '', PORTCULLIS_API_PORT: String(api.port) });
    const plan = await h.addPlan({ threads: 50 });
    await h.addCustomer('eve', 'pw', plan);
    direct = await h.addUpstream({ protocol: 'direct' });
    chained = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: sink.port });
  });
  after(async () => {
    await h.close();
    await inside.close();
    await api.close();
    await sink.close();
  });

  for (const { what, host, remote } of hostileTargets()) {
    test(`refused by default: ${what} (${host})`, async () => {
      const authority = `${bracket(host)}:${inside.port}`;
      sink.asked.length = 0;
      const paths = remote
        ? ([['direct', direct]] as const)
        : ([
            ['direct', direct],
            ['chained', chained],
          ] as const);
      for (const [via, port] of paths) {
        const f = await viaForward(port, authority);
        assert.equal(f.status, 403, `${via} HTTP forward: ${f.text.slice(0, 60)}`);
        assert.match(f.text, /X-Portcullis-Reason: target_forbidden/);
        const c = await viaConnect(port, authority);
        assert.equal(c.status, 403, `${via} CONNECT: ${c.text.slice(0, 60)}`);
        assert.match(c.text, /X-Portcullis-Reason: target_forbidden/);
        const s = await viaSocks5(port, socksTarget(host), inside.port);
        assert.equal(s.rep, 0x02, `${via} SOCKS5 (ATYP ${socksTarget(host).atyp}) reply`);
        // A name is also tried as ATYP 3 when it is an address (socks5h clients send text).
        if (socksTarget(host).atyp !== 3) {
          const n = await viaSocks5(port, { atyp: 3, host: host.replace(/^\[|\]$/g, '') }, inside.port);
          assert.equal(n.rep, 0x02, `${via} SOCKS5 ATYP 3 "${host}" reply`);
        }
      }
      assert.equal(inside.accepted, 0, 'nothing reached the service inside');
      assert.deepEqual(sink.asked, [], 'the chained upstream was never asked');
    });
  }

  test("the control plane's API port and the gateway's own ports, by any local address", async () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '[::ffff:127.0.0.1]', '2130706433']) {
      for (const p of [api.port, direct, chained]) {
        const f = await viaForward(direct, `${host}:${p}`);
        assert.equal(f.status, 403, `${host}:${p}`);
        assert.match(f.text, /target_forbidden/);
        assert.equal((await viaSocks5(direct, socksTarget(host), p)).rep, 0x02);
      }
    }
    assert.equal(api.accepted, 0, 'the API was never reached');
  });
});

describe('SSRF: PORTCULLIS_EGRESS_ALLOW opens ranges, never the platform ports', () => {
  let h: Harness;
  let inside: Inside;
  let sink: Sink;
  let api: Inside;
  let direct: number;
  let chained: number;
  const own = ownAddresses();

  before(async () => {
    inside = await startInside();
    api = await startInside();
    sink = await startSink();
    const allow = [
      '127.0.0.0/8',
      '::1',
      '10.0.0.0/8',
      '169.254.0.0/16',
      '100.64.0.0/10',
      'fc00::/7',
      'fe80::/10',
    ];
    h = await startHarness({
      PORTCULLIS_EGRESS_ALLOW: [...allow, ...own.v4, ...own.v6].join(','),
      PORTCULLIS_API_PORT: String(api.port),
    });
    const plan = await h.addPlan({ threads: 50 });
    await h.addCustomer('eve', 'pw', plan);
    direct = await h.addUpstream({ protocol: 'direct' });
    chained = await h.addUpstream({ protocol: 'http', host: '127.0.0.1', port: sink.port });
  });
  after(async () => {
    await h.close();
    await inside.close();
    await api.close();
    await sink.close();
  });

  test('allowed loopback spellings and own addresses reach the service (direct egress)', async () => {
    const hosts = [
      '127.0.0.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '2130706433',
      'localhost',
      ...own.v4,
      ...own.v6.map((a) => `[${a}]`),
    ];
    for (const host of hosts) {
      const before = inside.accepted;
      const f = await viaForward(direct, `${host}:${inside.port}`);
      assert.equal(f.status, 200, `forward ${host}: ${f.text.slice(0, 80)}`);
      assert.match(f.text, /inside\n$/);
      const c = await viaConnect(direct, `${host}:${inside.port}`);
      assert.equal(c.status, 200, `CONNECT ${host}`);
      assert.match(c.text, /inside\n$/);
      const s = await viaSocks5(direct, socksTarget(host), inside.port);
      assert.equal(s.rep, 0, `SOCKS5 ${host}`);
      assert.match(s.rest, /inside\n$/);
      assert.equal(inside.accepted, before + 3);
    }
  });

  test('allowed private, link-local and CGNAT targets go to a chained upstream (no packet leaves loopback)', async () => {
    for (const host of ['10.1.2.3', '169.254.169.254', '100.64.0.1', '[fd12::1]', '[fe80::1]', '0x7f.1']) {
      sink.asked.length = 0;
      const f = await viaForward(chained, `${host}:80`);
      assert.equal(f.status, 200, `forward ${host}: ${f.text.slice(0, 80)}`);
      const c = await viaConnect(chained, `${host}:443`);
      assert.equal(c.status, 200, `CONNECT ${host}`);
      assert.deepEqual(sink.asked, [`http://${host}:80/`, `${host}:443`]);
    }
  });

  test('the API port and the gateway ports stay refused even inside an allowed range', async () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost', ...own.v4]) {
      for (const p of [api.port, direct, chained]) {
        const f = await viaForward(direct, `${host}:${p}`);
        assert.equal(f.status, 403, `${host}:${p}`);
        assert.match(f.text, /target_forbidden/);
        const c = await viaConnect(chained, `${host}:${p}`);
        assert.equal(c.status, 403, `chained ${host}:${p}`);
      }
    }
    assert.equal(api.accepted, 0);
  });
});
