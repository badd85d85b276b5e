import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { eq } from '../../src/store/orm.ts';
import { upstreams } from '../../src/store/schema.ts';
import { startOrigin } from '../helpers/origin.ts';
import { freePort } from '../helpers/peers.ts';
import { curl, eventually, startHarness } from './harness.ts';

test('port pool: binds on import, unbinds on removal, reports and retries a busy port', async () => {
  const h = await startHarness();
  const origin = await startOrigin();
  const blocker = net.createServer();
  try {
    const plan = await h.addPlan();
    await h.addCustomer('ivy', 'pw', plan);
    const a = await h.addUpstream({ protocol: 'direct' });
    assert.deepEqual(h.gateway.status().get(a), { state: 'listening' });
    assert.equal((await curl(['-x', `http://ivy:pw@127.0.0.1:${a}`, `${origin.url}/`])).code, 200);

    // A port someone else holds: failed with the errno, then bound once it is free.
    const busy = await freePort();
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', () => r()));
    await h.addUpstream({ protocol: 'direct', boundPort: busy });
    const st = h.gateway.status().get(busy);
    assert.equal(st?.state, 'failed');
    assert.equal(st?.error, 'EADDRINUSE');
    await new Promise<void>((r) => blocker.close(() => r()));
    await eventually(() => h.gateway.status().get(busy)?.state === 'listening', 5000);
    assert.equal((await curl(['-x', `http://ivy:pw@127.0.0.1:${busy}`, `${origin.url}/`])).code, 200);

    // Removal unbinds without a restart.
    await h.store.db.delete(upstreams).where(eq(upstreams.boundPort, a));
    await h.live.publish({ type: 'upstreams' });
    await eventually(() => !h.gateway.status().has(a));
    const r = await curl(['-x', `http://ivy:pw@127.0.0.1:${a}`, `${origin.url}/`]);
    assert.notEqual(r.exit, 0);

    // reload() (SIGHUP) keeps what is bound.
    await h.gateway.reload();
    assert.equal(h.gateway.status().get(busy)?.state, 'listening');
  } finally {
    if (blocker.listening) blocker.close();
    await h.close();
    await origin.close();
  }
});
