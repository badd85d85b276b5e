// The web console in real Chromium (Debian's, through playwright-core):
// an admin signs in with the token, imports upstreams, creates a plan and a
// customer, whitelists an address, watches the live overview and kicks a live
// connection; the customer signs in to the portal (phone-sized, dark) and sees
// the proxy list; the admin bans them and the open portal shows the ban
// without a reload. Every page is screenshotted into test/artifacts/.
// The console is built from the current sources into a temp folder first.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.ts';
import type { LiveConnection } from '../../src/api/deps.ts';
import { eq, sql } from '../../src/store/orm.ts';
import { createRepos } from '../../src/store/repos/index.ts';
import { upstreams } from '../../src/store/schema.ts';
import { type Api, startApi } from '../api/harness.ts';
import { launchChromiumDirect } from '../helpers/browser.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const HOUR = 3_600_000;

describe('web console in Chromium', () => {
  const dist = mkdtempSync(join(tmpdir(), 'pc-web-dist-'));
  let api: Api;
  let base: string;
  let browser: Browser | undefined;
  let adminCtx: BrowserContext;
  let portalCtx: BrowserContext;
  let admin: Page;
  let portal: Page;
  let conns: LiveConnection[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildWeb(dist, true);
    api = await startApi({ webDir: dist, gatewayConnections: () => conns });
    // The live view's kick reaches "the gateway" as an event, as in a real process.
    api.live.subscribe((e) => {
      if (e.type === 'kick-conn') conns = conns.filter((c) => c.id !== e.connId);
    });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    browser = await launchChromiumDirect();
    adminCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    portalCtx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      colorScheme: 'dark',
    });
    admin = await adminCtx.newPage();
    portal = await portalCtx.newPage();
    for (const p of [admin, portal]) p.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    rmSync(dist, { recursive: true, force: true });
  });

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const text = (page: Page, t: string | RegExp) => page.getByText(t).first().waitFor();
  const go = async (label: string) => {
    await admin.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: label }).click();
    await admin.getByRole('heading', { level: 1 }).first().waitFor();
  };

  it('landing page links to the admin console and the portal', async () => {
    await admin.goto(`${base}/`);
    await text(admin, 'Admin console');
    await text(admin, 'Customer portal');
    await shot(admin, '00-landing');
  });

  it('admin sign-in: a wrong token shows the API message and code, the right one opens the overview', async () => {
    await admin.goto(`${base}/admin`);
    await admin.getByLabel('Admin token').fill('pca_not-a-real-token');
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await text(admin, 'unknown token');
    await text(admin, 'PC_ERR_UNAUTHORIZED');
    await shot(admin, '01-admin-signin-error');
    await admin.getByLabel('Admin token').fill(api.token);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: 'Overview' }).waitFor();
    await text(admin, 'No upstreams yet');
  });

  it('imports upstreams: malformed lines are listed with the code, a good list binds ports', async () => {
    await go('Upstreams & ports');
    const box = admin.getByRole('textbox').first();
    await box.fill('direct\nnot a proxy line\n');
    await admin.getByRole('button', { name: 'Import' }).click();
    await text(admin, 'PC_ERR_IMPORT_INVALID');
    await text(admin, /line 2:/);
    await box.fill('direct\nhttp://user:secret@192.0.2.10:3128\nsocks5://192.0.2.11:1080\n');
    await admin.getByRole('button', { name: 'Import' }).click();
    await text(admin, /Imported: 3 added/);
    // Health as the checker would record it: one fast, one down, one not checked yet.
    const rows = await createRepos(api.store.db).upstreams.list();
    await api.store.db
      .update(upstreams)
      .set({ health: 'up', latencyMs: 42 })
      .where(eq(upstreams.id, rows[0].id));
    await api.store.db
      .update(upstreams)
      .set({ health: 'down', failures: 3, lastError: 'connect ECONNREFUSED 192.0.2.10:3128' })
      .where(eq(upstreams.id, rows[1].id));
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await text(admin, 'ECONNREFUSED');
    await text(admin, '42 ms');
    assert.equal(await admin.locator('.portmap li').count(), 3);
    assert.equal(await admin.locator('.portmap li.cell-down').count(), 1);
    await shot(admin, '03-ports');
  });

  it('creates a plan in the UI; a duplicate shows PC_ERR_CONFLICT', async () => {
    await go('Plans');
    const form = admin.getByRole('form', { name: 'new plan' });
    await form.getByLabel('Name').fill('Gold');
    await form.getByLabel(/^Threads/).fill('20');
    await form.getByLabel('Requests/s').fill('50');
    await form.getByLabel(/^Bandwidth/).fill('2MB');
    await form.getByLabel(/^Quota \(/).fill('50GB');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await text(admin, 'Created plan Gold.');
    await admin.getByRole('cell', { name: 'Gold', exact: true }).waitFor();
    await text(admin, '50 GB');
    const plans = await api.req('GET', '/api/v1/plans/Gold');
    assert.equal(plans.json.threads, 20);
    assert.equal(plans.json.bandwidth, 2_000_000);
    assert.equal(plans.json.quotaBytes, 50_000_000_000);
    await form.getByLabel('Name').fill('Gold');
    await form.getByRole('button', { name: 'Create plan' }).click();
    await text(admin, 'PC_ERR_CONFLICT');
    await shot(admin, '04-plans');
  });

  it('creates a customer on the plan; the API key is shown once; search finds them', async () => {
    await go('Customers');
    const form = admin.getByRole('form', { name: 'new customer' });
    await form.getByLabel('Username').fill('erin');
    await form.locator('select[name="plan"]').selectOption('Gold');
    await form.getByLabel(/^Password/).fill('erin-pass-1');
    await form.getByRole('button', { name: 'Create customer' }).click();
    await text(admin, /Created erin on plan Gold/);
    await text(admin, /pck_/);
    await admin.getByLabel('search customers').fill('eri');
    await admin.getByRole('link', { name: 'erin' }).waitFor();
    await shot(admin, '05-customers');
    const c = await api.req('GET', '/api/v1/customers/erin');
    assert.equal(c.json.plan, 'Gold');
  });

  it('customer page: whitelist (a bad CIDR shows the field), usage chart', async () => {
    const erin = (await api.req('GET', '/api/v1/customers/erin')).json;
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    await createRepos(api.store.db).usage.add(
      [1, 2, 3, 5, 8, 12].map((n, i) => ({
        customerId: erin.id,
        hour: hour - (i + 1) * HOUR,
        bytesUp: n * 1_000_000,
        bytesDown: n * 9_000_000,
        connections: n,
        requests: n * 10,
      })),
    );
    await admin.getByRole('link', { name: 'erin' }).click();
    await admin.getByRole('heading', { name: /erin/ }).waitFor();
    const wl = admin.getByRole('form', { name: 'whitelist an address' });
    await wl.getByPlaceholder(/203\.0\.113\.7/).fill('10.1.2.3/8');
    await wl.getByRole('button', { name: 'Add' }).click();
    await text(admin, 'PC_ERR_VALIDATION');
    await text(admin, 'must be an IPv4/IPv6 address or CIDR block (host bits zero)');
    await wl.getByPlaceholder(/203\.0\.113\.7/).fill('203.0.113.7');
    await wl.getByRole('button', { name: 'Add' }).click();
    await text(admin, 'Whitelisted 203.0.113.7/32.');
    await text(admin, /310 MB in this range/);
    assert.ok((await admin.locator('.chart svg rect.bar-down').count()) >= 24);
    await shot(admin, '06-customer');
  });

  it('overview: live connection count, bandwidth, top customers and the port map update without reload', async () => {
    const since = new Date().toISOString();
    const conn = (id: string, bytesDown: number): LiveConnection => ({
      id,
      customerId: 1,
      username: 'erin',
      clientAddress: '198.51.100.4:50123',
      port: 4000,
      target: 'example.com:443',
      upstream: 'direct',
      bytesUp: bytesDown / 10,
      bytesDown,
      since,
    });
    // A full range: 1,000 bound ports with mixed health and latency for the map.
    const lines = Array.from(
      { length: 997 },
      (_, i) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}:8080`,
    );
    const imp = await api.req('POST', '/api/v1/upstreams/import', { text: `${lines.join('\n')}\n` });
    assert.equal(imp.status, 200, imp.body);
    await api.store.db.execute(
      sql`update upstreams set health = case when id % 23 = 0 then 'down' when id % 11 = 0 then 'unknown' else 'up' end,
          latency_ms = (id * 37) % 1400 where host like '198.18.%'`,
    );
    await go('Overview');
    await text(admin, 'Nobody is connected.');
    conns = [conn('c-1', 0), conn('c-2', 0)];
    await admin.locator('[data-testid="live-connections"]', { hasText: /^2$/ }).waitFor();
    conns = [conn('c-1', 4_000_000), conn('c-2', 6_000_000)];
    await admin.getByRole('cell', { name: 'erin' }).waitFor();
    await admin.locator('.live.on').waitFor();
    assert.equal(await admin.locator('.portmap li').count(), 1000);
    assert.ok((await admin.locator('.portmap li.cell-down').count()) > 40);
    await admin.locator('.stat strong', { hasText: /MB\/s/ }).first().waitFor();
    await shot(admin, '02-overview');
  });

  it('live connections: each row has a kick that closes it', async () => {
    await go('Connections');
    await admin.getByRole('button', { name: 'kick connection c-1' }).click();
    await text(admin, /Closed erin's connection to example.com:443/);
    await admin.getByRole('button', { name: 'kick connection c-1' }).waitFor({ state: 'detached' });
    await admin.getByRole('button', { name: 'kick connection c-2' }).waitFor();
    assert.deepEqual(
      conns.map((c) => c.id),
      ['c-2'],
    );
    await shot(admin, '07-connections');
  });

  it('lock-outs: an address and a username locked by failed sign-ins are listed and lifted', async () => {
    // Ten wrong admin tokens from one address lock it (the default rule).
    for (let i = 0; i < 10; i++)
      await api.req('GET', '/api/v1/plans', { token: `pca_wrong_${i}`, ip: '198.51.100.7' });
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '198.51.100.7' })).status, 429);
    await go('Lock-outs');
    const row = admin.getByRole('row').filter({ hasText: '198.51.100.7' });
    await row.getByRole('cell', { name: 'address', exact: true }).waitFor();
    await shot(admin, '07b-lockouts');
    await row.getByRole('button', { name: 'Lift' }).click();
    await text(admin, 'Lock-out of 198.51.100.7 lifted.');
    await row.waitFor({ state: 'detached' });
    assert.equal((await api.req('GET', '/api/v1/plans', { ip: '198.51.100.7' })).status, 200);

    // A username no customer has, locked by ten wrong passwords from ten addresses.
    for (let i = 0; i < 10; i++)
      await api.req('GET', '/api/v1/me', {
        token: null,
        headers: { authorization: `Basic ${Buffer.from(`ghost:wrong${i}`).toString('base64')}` },
        ip: `198.51.100.${20 + i}`,
      });
    await go('Overview');
    await go('Lock-outs');
    const user = admin.getByRole('row').filter({ hasText: 'ghost' });
    await user.getByRole('cell', { name: 'username', exact: true }).waitFor();
    await user.getByRole('button', { name: 'Lift' }).click();
    await text(admin, 'Lock-out of username ghost lifted.');
    await user.waitFor({ state: 'detached' });
    assert.ok(!(await api.live.authLocks()).has('u:ghost'));
  });

  it('audit log lists what the admin did', async () => {
    await go('Audit log');
    for (const action of [
      'upstream.import',
      'plan.create',
      'customer.create',
      'customer.ip.add',
      'connection.kick',
      'lockout.lift',
    ])
      await admin.getByRole('cell', { name: action, exact: true }).first().waitFor();
    await shot(admin, '08-audit');
  });

  it('portal (phone, dark): a wrong password shows the code; signed in, gauges, the proxy list in three formats, the self-service whitelist', async () => {
    await portal.goto(`${base}/portal`);
    await portal.getByLabel('Username').fill('erin');
    await portal.getByLabel('Password').fill('not-the-password');
    await portal.getByRole('button', { name: 'Sign in' }).click();
    await text(portal, 'wrong username or password');
    await text(portal, 'PC_ERR_UNAUTHORIZED');
    await shot(portal, '09-portal-signin-error');
    await portal.getByLabel('Password').fill('erin-pass-1');
    await portal.getByRole('button', { name: 'Sign in' }).click();
    await portal.getByRole('heading', { name: /Plan Gold/ }).waitFor();
    await text(portal, 'Quota used');
    await text(portal, 'Threads live');
    await text(portal, 'Time left');
    const list = portal.locator('[data-testid="proxy-list"]');
    // 4001 is down (and so are some of the range), so they are not offered.
    await list.filter({ hasText: 'proxy.test:4000' }).waitFor();
    const offered = ((await list.textContent()) ?? '').trim().split('\n');
    const down = await api.req('GET', '/api/v1/ports');
    const expected = down.json
      .filter((p: { health: string }) => p.health !== 'down')
      .map((p: { port: number }) => `proxy.test:${p.port}`);
    assert.deepEqual(offered, expected);
    assert.ok(!offered.includes('proxy.test:4001'));
    await portal.getByLabel('format').selectOption('user:pass@host:port');
    await list.filter({ hasText: 'erin:erin-pass-1@proxy.test:4000' }).waitFor();
    await portal.getByLabel('format').selectOption('host:port:user:pass');
    await list.filter({ hasText: 'proxy.test:4002:erin:erin-pass-1' }).waitFor();
    await text(portal, '203.0.113.7/32');
    await portal.locator('.live.on').waitFor();
    // the viewport is phone-sized and nothing overflows it sideways
    const overflow = (await portal.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone screen`);
    await shot(portal, '10-portal');
    // Self-service whitelist: a bad block shows the code; a good one is stored, then removed.
    const mine = portal.getByRole('form', { name: 'whitelist my address' });
    await mine.getByPlaceholder('your IP or CIDR').fill('198.51.100.1/24');
    await mine.getByRole('button', { name: 'Add' }).click();
    await text(portal, 'PC_ERR_VALIDATION');
    await mine.getByPlaceholder('your IP or CIDR').fill('198.51.100.0/24');
    await mine.getByRole('button', { name: 'Add' }).click();
    await text(portal, 'Whitelisted 198.51.100.0/24: connections from it need no password.');
    const cidrs = async () =>
      (await api.req('GET', '/api/v1/customers/erin')).json.ips.map((i: { cidr: string }) => i.cidr).sort();
    assert.deepEqual(await cidrs(), ['198.51.100.0/24', '203.0.113.7/32'].sort());
    const row = portal.locator('li', { hasText: '198.51.100.0/24' });
    await row.getByRole('button', { name: 'Remove' }).click();
    await text(portal, 'Removed 198.51.100.0/24.');
    assert.deepEqual(await cidrs(), ['203.0.113.7/32']);
  });

  it('admin bans the customer in the UI; the open portal shows the ban without a reload', async () => {
    await go('Customers');
    await admin.getByRole('link', { name: 'erin' }).click();
    const form = admin.getByRole('form', { name: 'ban customer' });
    await form.getByLabel('Reason').fill('chargeback');
    await form.getByRole('button', { name: 'Ban and kick' }).click();
    await text(admin, 'Banned erin; their connections were closed.');
    await text(admin, 'Banned: chargeback');
    await shot(admin, '11-customer-banned');

    const refusal = portal.locator('[data-testid="refusal"]');
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /Account banned/);
    assert.match((await refusal.textContent()) ?? '', /PC_ERR_BANNED/);
    assert.match((await refusal.textContent()) ?? '', /chargeback/);
    // the proxy list is fetched again and shows the API's refusal
    await portal.locator('.note.error', { hasText: 'PC_ERR_BANNED' }).nth(1).waitFor();
    await shot(portal, '12-portal-banned');
  });
});
