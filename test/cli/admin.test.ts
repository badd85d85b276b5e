// The CLI against a real API on loopback: plans, customers, whitelist, usage,
// kick, ban and tokens, in human output and --json, and the refusals a user
// meets (bad units, unknown plan or customer, duplicates, invalid CIDR, scope).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Api, startApi } from '../api/harness.ts';
import { cli } from './run.ts';

let api: Api;
let env: Record<string, string>;

before(async () => {
  api = await startApi();
  const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
  env = { PORTCULLIS_URL: url, PORTCULLIS_TOKEN: api.token };
});

after(async () => {
  await api?.close();
});

const run = (...args: string[]) => cli(args, env);
const json = async (...args: string[]) => {
  const r = await run(...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test('plan add takes human units and sends bytes, bytes/s, days and cents', async () => {
  const r = await run(
    'plan',
    'add',
    'Gold',
    '--threads',
    '50',
    '--rps',
    '20',
    '--bandwidth',
    '1MB/s',
    '--quota',
    '10GB',
    '--days',
    '30',
    '--price',
    '9.99',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /plan Gold created/);
  assert.match(r.stdout, /bandwidth: +1\.00 MB\/s/);
  assert.match(r.stdout, /quota: +10\.0 GB per month/);
  const plan = await json('plan', 'show', 'Gold');
  assert.equal(plan.threads, 50);
  assert.equal(plan.rps, 20);
  assert.equal(plan.bandwidth, 1_000_000);
  assert.equal(plan.quotaBytes, 10_000_000_000);
  assert.equal(plan.durationDays, 30);
  assert.equal(plan.priceCents, 999);
});

test('plan list: aligned table, and --json is the API answer', async () => {
  const r = await run('plan', 'list');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^NAME +THREADS +RPS +BANDWIDTH +QUOTA +PERIOD +DAYS +PRICE$/);
  const pro = lines.find((l) => l.startsWith('Pro '));
  assert.ok(pro, r.stdout);
  assert.match(pro, /10\.0 GB/);
  // Columns line up: every row's PRICE ends where the header's does.
  assert.ok(
    lines.every((l) => l.length === lines[0].length),
    r.stdout,
  );
  const list = await json('plan', 'list');
  assert.ok(Array.isArray(list));
  assert.deepEqual(
    ['Basic', 'Pro', 'Enterprise'].filter((n) => list.some((p: { name: string }) => p.name === n)),
    ['Basic', 'Pro', 'Enterprise'],
  );
});

test('plan set changes limits; "unlimited" clears one', async () => {
  assert.equal(
    (await run('plan', 'add', 'Silver', '--threads', '5', '--rps', '5', '--quota', '1GB')).code,
    0,
  );
  const r = await run('plan', 'set', 'Silver', '--threads', '8', '--quota', 'unlimited', '--period', 'day');
  assert.equal(r.code, 0, r.stderr);
  const plan = await json('plan', 'show', 'Silver');
  assert.equal(plan.threads, 8);
  assert.equal(plan.quotaBytes, null);
  assert.equal(plan.quotaPeriod, 'day');
});

test('a bad unit exits 2 naming the flag and an example, and creates nothing', async () => {
  const r = await run('plan', 'add', 'Broken', '--threads', '5', '--rps', '5', '--quota', '10XB');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--quota expects a size .*got "10XB" \(example: --quota 10GB\)/);
  assert.equal(r.stdout, '');
  const bw = await run('plan', 'add', 'Broken', '--threads', '5', '--rps', '5', '--bandwidth', 'fast');
  assert.equal(bw.code, 2);
  assert.match(bw.stderr, /--bandwidth expects a rate/);
  const plans: { name: string }[] = await json('plan', 'list');
  assert.ok(!plans.some((p) => p.name === 'Broken'));
});

test('the API refusing a value is shown with the field, exit 1', async () => {
  const r = await run('plan', 'add', 'Zero', '--threads', '0', '--rps', '5');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .* \(PC_ERR_VALIDATION\)$/m);
  assert.match(r.stderr, /^ {2}threads: must be >= 1$/m);
});

test('unknown plan shows, and duplicate plans, are clear errors', async () => {
  const show = await run('plan', 'show', 'Nope');
  assert.equal(show.code, 1);
  assert.match(show.stderr, /Nope.*\(PC_ERR_NOT_FOUND\)/);
  const dup = await run('plan', 'add', 'Pro', '--threads', '1', '--rps', '1');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /\(PC_ERR_CONFLICT\)/);
});

test('customer add prints the generated password and API key once; --json carries them', async () => {
  const r = await run('customer', 'add', 'alice', '--plan', 'Pro');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /customer alice created/);
  assert.match(r.stdout, /^plan: +Pro$/m);
  assert.match(r.stdout, /^password: +\S{6,}$/m);
  assert.match(r.stdout, /^API key: +pck_\S+$/m);
  assert.match(r.stdout, /shown once/);
  const c = await json(
    'customer',
    'add',
    'bob',
    '--plan',
    'Basic',
    '--password',
    's3cret-pw',
    '--expires',
    '2030-01-31',
  );
  assert.equal(c.username, 'bob');
  assert.equal(c.expiresAt, '2030-01-31T00:00:00.000Z');
  assert.match(c.apiKey, /^pck_/);
  assert.equal(c.password, undefined);
});

test('duplicate customer and unknown plan or customer: the API message and code, exit 1', async () => {
  assert.equal((await run('customer', 'add', 'carol', '--plan', 'Basic')).code, 0);
  const dup = await run('customer', 'add', 'carol', '--plan', 'Basic');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /^error: customer "carol" already exists \(PC_ERR_CONFLICT\)$/m);
  const noPlan = await run('customer', 'add', 'dave', '--plan', 'Platinum');
  assert.equal(noPlan.code, 1);
  assert.match(noPlan.stderr, /Platinum.*\(PC_ERR_NOT_FOUND\)/);
  for (const args of [
    ['customer', 'show', 'nobody'],
    ['usage', 'nobody'],
    ['kick', 'nobody'],
    ['ban', 'nobody'],
  ]) {
    const r = await run(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /nobody.*\(PC_ERR_NOT_FOUND\)/, args.join(' '));
  }
  const missingPlan = await run('customer', 'add', 'erin');
  assert.equal(missingPlan.code, 2);
  assert.match(missingPlan.stderr, /--plan is required \(example: --plan Pro\)/);
});

test('customer list, show and set', async () => {
  assert.equal((await run('customer', 'add', 'frank', '--plan', 'Basic')).code, 0);
  const set = await run(
    'customer',
    'set',
    'frank',
    '--plan',
    'Enterprise',
    '--expires',
    '30d',
    '--status',
    'disabled',
  );
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /customer frank updated/);
  const c = await json('customer', 'show', 'frank');
  assert.equal(c.plan, 'Enterprise');
  assert.equal(c.status, 'disabled');
  const days = (Date.parse(c.expiresAt) - Date.now()) / 86_400_000;
  assert.ok(days > 29.9 && days <= 30, String(days));
  const list = await run('customer', 'list', '--plan', 'Enterprise');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^USERNAME +PLAN +STATUS +EXPIRES +IPS$/m);
  assert.match(list.stdout, /^frank +Enterprise +disabled /m);
  assert.doesNotMatch(list.stdout, /^alice /m);
  const page = await json('customer', 'list', '--limit', '1');
  assert.equal(page.items.length, 1);
  assert.ok(page.total >= 2);
  const key = await json('customer', 'set', 'frank', '--new-api-key');
  assert.match(key.apiKey, /^pck_/);
  const nothing = await run('customer', 'set', 'frank');
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);
});

test('customer ip add and rm, IPv4 and IPv6; an invalid CIDR exits 2', async () => {
  assert.equal((await run('customer', 'add', 'gina', '--plan', 'Basic')).code, 0);
  const v4 = await run('customer', 'ip', 'add', 'gina', '203.0.113.7');
  assert.equal(v4.code, 0, v4.stderr);
  assert.match(v4.stdout, /203\.0\.113\.7\/32 whitelisted for gina/);
  const v6 = await json('customer', 'ip', 'add', 'gina', '2001:db8::/48', '--note', 'office');
  assert.equal(v6.cidr, '2001:db8::/48');
  const show = await run('customer', 'show', 'gina');
  assert.match(show.stdout, /whitelisted IPs: +203\.0\.113\.7\/32, 2001:db8::\/48 \(office\)/);
  const rm = await run('customer', 'ip', 'rm', 'gina', '2001:db8::/48');
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(
    (await json('customer', 'show', 'gina')).ips.map((i: { cidr: string }) => i.cidr),
    ['203.0.113.7/32'],
  );
  for (const bad of ['10.0.0.1/8', '300.1.1.1', 'not-an-ip', '2001:db8::/129']) {
    const r = await run('customer', 'ip', 'add', 'gina', bad);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /CIDR expects an IP address or a block/, bad);
  }
  const taken = await run('customer', 'ip', 'add', 'alice', '203.0.113.7');
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /\(PC_ERR_CONFLICT\)/);
  const gone = await run('customer', 'ip', 'rm', 'gina', '198.51.100.0/24');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /\(PC_ERR_NOT_FOUND\)/);
});

test('usage: human summary and the raw answer', async () => {
  assert.equal((await run('customer', 'add', 'hugo', '--plan', 'Pro')).code, 0);
  const r = await run('usage', 'hugo');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^used: +0 B of 10\.0 GB \(0\.0%\)$/m);
  assert.match(r.stdout, /^threads live: +0$/m);
  const u = await json('usage', 'hugo');
  assert.equal(u.bytesUp, 0);
  assert.equal(u.bytesDown, 0);
  assert.equal(u.quotaBytes, 10_000_000_000);
  assert.equal(u.threadsLive, 0);
});

test('kick, ban --for 1h and unban', async () => {
  assert.equal((await run('customer', 'add', 'ivan', '--plan', 'Pro')).code, 0);
  const kick = await run('kick', 'ivan');
  assert.equal(kick.code, 0, kick.stderr);
  assert.match(kick.stdout, /kicked ivan/);
  const ban = await run('ban', 'ivan', '--for', '1h', '--reason', 'abuse report');
  assert.equal(ban.code, 0, ban.stderr);
  assert.match(ban.stdout, /banned ivan until /);
  const c = await json('customer', 'show', 'ivan');
  assert.equal(c.status, 'banned');
  assert.equal(c.banReason, 'abuse report');
  const left = (Date.parse(c.bannedUntil) - Date.now()) / 1000;
  assert.ok(left > 3500 && left <= 3600, String(left));
  const list = await run('customer', 'list', '--status', 'banned');
  assert.match(list.stdout, /^ivan +Pro +banned for (59m|1h)/m);
  const bad = await run('ban', 'ivan', '--for', '1y');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--for expects a duration .*\(example: --for 1h\)/);
  const unban = await run('unban', 'ivan');
  assert.equal(unban.code, 0, unban.stderr);
  assert.equal((await json('customer', 'show', 'ivan')).status, 'active');
});

test('tokens: add with a scope, a read token cannot write (403 shown), list, rm', async () => {
  const t = await json('token', 'add', 'reporting', '--scope', 'read');
  assert.match(t.token, /^pca_/);
  assert.deepEqual(t.scopes, ['read']);
  const asReader = { ...env, PORTCULLIS_TOKEN: t.token };
  assert.equal((await cli(['plan', 'list'], asReader)).code, 0);
  const write = await cli(['plan', 'add', 'Nope', '--threads', '1', '--rps', '1'], asReader);
  assert.equal(write.code, 1);
  assert.match(write.stderr, /\(PC_ERR_FORBIDDEN\)/);
  assert.match(write.stderr, /lacks the scope/);
  const list = await run('token', 'list');
  assert.match(list.stdout, /^ +\d+ +reporting +pca_\S+… +read /m);
  const rm = await run('token', 'rm', String(t.id));
  assert.equal(rm.code, 0, rm.stderr);
  const revoked = await cli(['plan', 'list'], asReader);
  assert.equal(revoked.code, 1);
  assert.match(revoked.stderr, /\(PC_ERR_UNAUTHORIZED\)/);
});

test('unknown commands and flags exit 2 with the nearest suggestion; --help exits 0', async () => {
  const cmd = await run('custmer', 'list');
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command "custmer"; did you mean "customer"\?/);
  const flag = await run('ban', 'ivan', '--fro', '1h');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag --fro for "ban"; did you mean --for\?/);
  const help = await run('ban', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: portcullis ban NAME \[flags\]/);
  assert.match(help.stdout, /--for DURATION +ban length, e\.g\. 30m, 1h, 7d/);
  assert.match(help.stdout, /Examples:\n {2}portcullis ban alice --for 1h/);
});

test('lockouts lists credential lock-outs; unlock-address and unlock-username lift them', async () => {
  const none = await run('lockouts');
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /no credential lock-outs in force/);
  // Ten wrong admin tokens from one address lock it (the default rule).
  for (let i = 0; i < 10; i++)
    await api.req('GET', '/api/v1/plans', { token: `pca_wrong_${i}`, ip: '192.0.2.77' });
  const list = await run('lockouts');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /SCOPE +KEY +UNTIL/);
  assert.match(list.stdout, /address +192\.0\.2\.77 +\d{4}-/);
  assert.equal((await json('lockouts'))[0].key, '192.0.2.77');

  const lift = await run('unlock-address', '192.0.2.77');
  assert.equal(lift.code, 0, lift.stderr);
  assert.match(lift.stdout, /unlocked 192\.0\.2\.77 \(locked until /);
  assert.equal((await api.req('GET', '/api/v1/plans', { ip: '192.0.2.77' })).status, 200);
  const again = await run('unlock-address', '192.0.2.77');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no credential lock-out in force for 192\.0\.2\.77/);
  const bad = await run('unlock-address', 'localhost');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not an IP address/);

  // Ten wrong passwords for a username no customer has lock the username.
  for (let i = 0; i < 10; i++)
    await api.req('GET', '/api/v1/me', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from(`ghost:wrong${i}`).toString('base64')}` },
      ip: `192.0.2.${100 + i}`,
    });
  assert.match((await run('lockouts')).stdout, /username +ghost +\d{4}-/);
  const user = await run('unlock-username', 'ghost');
  assert.equal(user.code, 0, user.stderr);
  assert.match(user.stdout, /unlocked username ghost \(locked until /);
  const gone = await run('unlock-username', 'ghost');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /no credential lock-out in force for username ghost/);
});

test('unlock lifts a strike lock-out; connections says when no gateway runs in the API process', async () => {
  assert.equal((await run('customer', 'add', 'judy', '--plan', 'Pro')).code, 0);
  const c = await json('customer', 'show', 'judy');
  await api.live.setLockout(c.id, Date.now() + 3_600_000);
  const locked = await run('usage', 'judy');
  assert.match(locked.stdout, /locked out: +until /);
  const unlock = await run('unlock', 'judy');
  assert.equal(unlock.code, 0, unlock.stderr);
  assert.match(unlock.stdout, /unlocked judy/);
  assert.equal((await api.live.lockedUntil(c.id)) > Date.now(), false);
  const missing = await run('unlock', 'nobody');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /PC_ERR_NOT_FOUND/);

  const conns = await run('connections', '--customer', 'judy');
  assert.equal(conns.code, 0, conns.stderr);
  assert.match(conns.stdout, /no gateway runs in the API process/);
  const raw = await json('connections');
  assert.equal(raw.scope, 'none');
  const bad = await run('connections', '--port', 'http');
  assert.equal(bad.code, 2);
});
