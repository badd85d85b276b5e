// PORTCULLIS_HANDSHAKES_PER_IP: one address holds at most N sockets that have
// not been admitted yet; its next sockets are closed unanswered, other
// addresses are served meanwhile, admitted connections do not count, and a
// whitelisted address is never refused. The header timeout is long here, so
// every held socket stays held until the test lets it go.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { eventually, type Harness, rawExchange, startHarness } from '../gateway/harness.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';

const CAP = 50;
let h: Harness;
let origin: Origin;
let port: number;
const auth = `Proxy-Authorization: Basic ${Buffer.from('hana:hs-pass').toString('base64')}\r\n`;

before(async () => {
  h = await startHarness({ PORTCULLIS_HANDSHAKES_PER_IP: String(CAP), PORTCULLIS_HEADER_TIMEOUT: '60s' });
  origin = await startOrigin();
  const plan = await h.addPlan({ threads: 500 });
  await h.addCustomer('hana', 'hs-pass', plan);
  await h.addCustomer('wanda', 'wl-pass', plan, ['127.0.0.4/32']);
  port = await h.addUpstream({ protocol: 'direct' });
});
after(async () => {
  await h.close();
  await origin.close();
});

interface Silent {
  socket: net.Socket;
  /** true once the gateway closed it */
  closed: boolean;
}

/** `n` sockets from `from` that connect and never send a byte. */
async function silent(n: number, from: string): Promise<Silent[]> {
  const all = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Silent>((resolve) => {
          const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
          const s: Silent = { socket, closed: false };
          socket.on('error', () => {});
          socket.on('close', () => {
            s.closed = true;
          });
          socket.once('connect', () => resolve(s));
        }),
    ),
  );
  return all;
}

/** A forward request for the origin from `from`: the answer's text, '' when closed unanswered. */
const get = async (from: string) =>
  (
    await rawExchange(
      port,
      [`GET ${origin.url}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${auth}\r\n`],
      10_000,
      from,
    )
  ).toString('latin1');

/** Opens a CONNECT tunnel from `from` and resolves once the gateway answered 200: admitted, held open. */
function tunnel(from: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
    s.on('error', reject);
    s.once('close', () => reject(new Error('closed before the answer')));
    s.once('connect', () => s.write(`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\n${auth}\r\n`));
    s.once('data', (d) =>
      /^HTTP\/1\.1 200 /.test(d.toString('latin1')) ? resolve(s) : reject(new Error(d.toString('latin1'))),
    );
  });
}

const closedCount = (xs: Silent[]) => xs.filter((x) => x.closed).length;

test(`one address holds at most ${CAP} sockets in handshake; the rest are closed unanswered, others are served`, async () => {
  const flood = await silent(CAP + 70, '127.0.0.3');
  await eventually(() => closedCount(flood) === 70, 10_000);
  assert.equal(h.gateway.openSockets, CAP, 'exactly the cap is held');

  assert.match(await get('127.0.0.1'), /^HTTP\/1\.1 200 /, 'another address is served');
  assert.equal(await get('127.0.0.3'), '', 'a valid request from the capped address is closed unanswered');

  // Ten of the held sockets go away: ten slots come back.
  for (const s of flood.filter((x) => !x.closed).slice(0, 10)) s.socket.destroy();
  await eventually(() => h.gateway.openSockets === CAP - 10);
  const answer = await get('127.0.0.3');
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.ok(answer.endsWith(ORIGIN_BODY));
  assert.equal(closedCount(flood), 80, 'none of the held sockets was closed by the gateway meanwhile');

  for (const s of flood) s.socket.destroy();
  await eventually(() => h.gateway.openSockets === 0);
});

test('admitted connections leave the count: an address with open tunnels still has every handshake slot', async () => {
  const tunnels: net.Socket[] = [];
  for (let i = 0; i < CAP + 10; i++) tunnels.push(await tunnel('127.0.0.5'));
  const waiting = await silent(CAP + 1, '127.0.0.5');
  await eventually(() => closedCount(waiting) === 1, 10_000);
  assert.equal(h.gateway.openSockets, 2 * CAP + 10, 'the tunnels and the cap of waiting sockets');
  for (const s of [...tunnels, ...waiting.map((w) => w.socket)]) s.destroy();
  await eventually(() => h.gateway.openSockets === 0 && h.gateway.connections().length === 0);
});

test("a customer's whitelisted address is never refused", async () => {
  const many = await silent(CAP + 30, '127.0.0.4');
  await eventually(() => h.gateway.openSockets === CAP + 30, 10_000);
  assert.equal(closedCount(many), 0);
  for (const s of many) s.socket.destroy();
  await eventually(() => h.gateway.openSockets === 0);
});
