// A change published while the gateway reads its policies at start must not
// be lost: the core subscribes before it reads, and applies what arrived after
// the read. The store is real; the only thing added is a gate that holds the
// first full read of customers after it has read, so the test can create a
// customer and publish the event in that window deterministically.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { createGatewayCore } from '../../src/gateway/core.ts';
import { createIpSlots } from '../../src/gateway/limits/ip-slots.ts';
import type { GatewaySource } from '../../src/gateway/source.ts';
import { storeSource } from '../../src/gateway/store-source.ts';
import { createMemoryLive } from '../../src/live/memory.ts';
import { customers, plans, upstreams } from '../../src/store/schema.ts';
import { createCipher, hashPassword } from '../../src/store/secrets.ts';
import { startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { openTestStore } from '../helpers/store.ts';
import { curl } from './harness.ts';

test('a customer created while the gateway loads its policies is served once it has started', async () => {
  const store = await openTestStore();
  const origin = await startOrigin();
  const live = createMemoryLive();
  const [plan] = await store.db.insert(plans).values({ name: 'p', threads: 5, rps: 0 }).returning();
  const port = await freePort();
  await store.db
    .insert(upstreams)
    .values({ protocol: 'direct', host: '', port: 0, identity: 'direct', boundPort: port });

  const real = storeSource(store, createCipher(randomBytes(32)));
  let readDone: () => void = () => {};
  const read = new Promise<void>((r) => {
    readDone = r;
  });
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let held = false;
  const source: GatewaySource = {
    ...real,
    async customers(ids) {
      const rows = await real.customers(ids);
      if (ids === undefined && !held) {
        held = true;
        readDone();
        await gate;
      }
      return rows;
    },
  };
  const core = createGatewayCore({
    config: loadConfig({
      PORTCULLIS_GATEWAY_HOST: '127.0.0.1',
      PORTCULLIS_EGRESS_ALLOW: '127.0.0.0/8',
      PORTCULLIS_LOG_LEVEL: 'silent',
    }),
    source,
    live,
    log: pino({ level: 'silent' }),
    ipSlots: createIpSlots(),
    health: null,
  });
  try {
    const started = core.start();
    await read; // the full read is done: the new customer is not in it
    const [row] = await store.db
      .insert(customers)
      .values({
        username: 'late',
        passwordHash: await hashPassword('late-pass'),
        apiKeyHash: randomBytes(16).toString('hex'),
        apiKeyPrefix: 'pck_test',
        planId: plan.id,
      })
      .returning({ id: customers.id });
    await live.publish({ type: 'customer', customerId: row.id });
    release();
    await started;
    const r = await curl(['-x', `http://late:late-pass@127.0.0.1:${port}`, `${origin.url}/`]);
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.code, 200, `the late customer is admitted (got ${r.code})`);
  } finally {
    await core.stop({ drainTimeoutSec: 0 });
    await live.close();
    await origin.close();
    await store.close();
  }
});
