// Chromium (the Debian "chromium" binary, driven by playwright-core) loading
// pages through a bound port: with credentials, which Chromium only ever sends
// after a 407 challenge (so a load proves the Proxy-Authenticate path), over
// HTTPS through CONNECT, and with no credentials from a whitelisted IP.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Harness, startHarness } from '../gateway/harness.ts';
import { launchChromium } from '../helpers/browser.ts';
import { ORIGIN_BODY, type Origin, startOrigin } from '../helpers/origin.ts';
import { startTlsOrigin, TLS_BODY, type TlsOrigin } from './origins.ts';
import { closeAll, expectQuiet } from './sockets.ts';

const PAGE_TIMEOUT_MS = 10_000;

describe('real clients: Chromium through a bound port', () => {
  let h: Harness;
  let origin: Origin;
  let tls: TlsOrigin;
  let port: number;
  let plan: number;
  const customers: number[] = [];
  let browser: Browser | undefined;

  before(async () => {
    h = await startHarness();
    origin = await startOrigin();
    tls = await startTlsOrigin();
    plan = await h.addPlan({ threads: 20 });
    customers.push(await h.addCustomer('alice', 's3cret', plan));
    port = await h.addUpstream({ protocol: 'direct' });
  });
  afterEach(async () => {
    // Chromium keeps its proxy connections open until it exits.
    await browser?.close();
    browser = undefined;
    await expectQuiet(h, customers, { served: [port], dialled: [port, origin.port, tls.port] });
  });
  after(() =>
    closeAll(
      () => browser?.close(),
      () => h?.close(),
      () => origin?.close(),
      () => tls?.close(),
    ),
  );

  test('no credentials and no whitelist: Chromium gets the 407 and loads nothing', async () => {
    browser = await launchChromium({ server: `http://127.0.0.1:${port}` });
    const page = await browser.newPage();
    // Without credentials to offer, Chromium gives up on the challenge.
    await assert.rejects(
      page.goto(`${origin.url}/`, { timeout: PAGE_TIMEOUT_MS }),
      /ERR_INVALID_AUTH_CREDENTIALS/,
    );
  });

  test('credentials answer the 407 challenge: an HTTP page, its fetch(), and an HTTPS page over CONNECT load', async () => {
    browser = await launchChromium({
      server: `http://127.0.0.1:${port}`,
      username: 'alice',
      password: 's3cret',
    });
    const page = await browser.newPage();
    const res = await page.goto(`${origin.url}/`, { timeout: PAGE_TIMEOUT_MS });
    assert.equal(res?.status(), 200);
    assert.equal(await res!.text(), ORIGIN_BODY);
    // The page's own fetch() goes through Chromium's network stack and the same proxy.
    const size = await page.evaluate(
      async () => (await (await fetch('/bytes/20000')).arrayBuffer()).byteLength,
    );
    assert.equal(size, 20000);
    // HTTPS through CONNECT; the origin's certificate is self-signed for this
    // run (ignored here), the tunnel is what is under test.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const tlsPage = await context.newPage();
    const tlsRes = await tlsPage.goto(`${tls.url}/`, { timeout: PAGE_TIMEOUT_MS });
    assert.equal(tlsRes?.status(), 200);
    assert.equal(await tlsRes!.text(), TLS_BODY);
  });

  test('whitelisted client IP: Chromium without credentials loads the page', async () => {
    customers.push(await h.addCustomer('office', 'unused-pass-1', plan, ['127.0.0.1/32']));
    browser = await launchChromium({ server: `http://127.0.0.1:${port}` });
    const page = await browser.newPage();
    const res = await page.goto(`${origin.url}/`, { timeout: PAGE_TIMEOUT_MS });
    assert.equal(res?.status(), 200);
    assert.equal(await res!.text(), ORIGIN_BODY);
  });
});
