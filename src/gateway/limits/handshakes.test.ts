import assert from 'node:assert/strict';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { createHandshakes } from './handshakes.ts';

// The counting needs only a socket's identity and address: plain objects stand
// in; test/hardening/handshakes.test.ts drives the cap with real sockets.
const socket = (ip: string) => ({ remoteAddress: ip }) as net.Socket;

function setUp(max: number, exempt: (ip: string) => boolean = () => false) {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  let now = 0;
  const hs = createHandshakes({ max, exempt, log: pino(out), now: () => now });
  return { hs, lines, tick: (ms: number) => (now += ms) };
}

test('an address past the cap is refused; others and a freed slot are not', () => {
  const { hs } = setUp(2);
  const a = [socket('10.0.0.1'), socket('10.0.0.1'), socket('10.0.0.1')];
  assert.equal(hs.enter(a[0], 4000), true);
  assert.equal(hs.enter(a[1], 4000), true);
  assert.equal(hs.enter(a[2], 4000), false, 'third from the same address');
  assert.equal(hs.enter(socket('10.0.0.2'), 4000), true, 'another address has its own count');
  assert.equal(hs.size, 3);
  hs.leave(a[0]);
  hs.leave(a[0]);
  assert.equal(hs.size, 2, 'leave is idempotent');
  hs.leave(a[2]);
  assert.equal(hs.size, 2, 'a refused socket was never counted');
  assert.equal(hs.enter(a[2], 4000), true, 'the freed slot is taken');
  assert.equal(hs.enter(socket('10.0.0.1'), 4000), false);
});

test('a whitelisted address is never refused; 0 means no cap', () => {
  const { hs } = setUp(1, (ip) => ip === '10.0.0.9');
  for (let i = 0; i < 5; i++) assert.equal(hs.enter(socket('10.0.0.9'), 4000), true);
  assert.equal(hs.size, 5);
  const off = setUp(0).hs;
  for (let i = 0; i < 1000; i++) assert.equal(off.enter(socket('10.0.0.1'), 4000), true);
  assert.equal(off.size, 0, 'nothing counted without a cap');
});

test('refusals are logged with the catalog code at most once a second, with the count since the last line', () => {
  const { hs, lines, tick } = setUp(1);
  hs.enter(socket('10.0.0.1'), 4001);
  for (let i = 0; i < 5; i++) hs.enter(socket('10.0.0.1'), 4001);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].code, 'PC_ERR_IP_LIMITED');
  assert.equal(lines[0].client, '10.0.0.1');
  assert.equal(lines[0].port, 4001);
  assert.equal(lines[0].refusals, 1);
  tick(1000);
  hs.enter(socket('10.0.0.1'), 4001);
  assert.equal(lines.length, 2);
  assert.equal(lines[1].refusals, 5, 'the four unlogged refusals and this one');
});
