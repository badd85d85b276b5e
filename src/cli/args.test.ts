import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandArgs, resolveCommand } from './args.ts';
import { COMMANDS } from './index.ts';
import { UsageError } from './spec.ts';

const cmd = (argv: string[]) => {
  const r = resolveCommand(COMMANDS, argv);
  assert.equal(r.kind, 'command');
  return r;
};

test('resolves the longest command name, leaving the rest for flags', () => {
  const r = cmd(['customer', 'ip', 'add', 'alice', '10.0.0.0/8']);
  assert.equal(r.kind === 'command' && r.command.name, 'customer ip add');
  assert.deepEqual(r.rest, ['alice', '10.0.0.0/8']);
});

test('a group alone resolves as a group', () => {
  const r = resolveCommand(COMMANDS, ['customer', 'ip']);
  assert.deepEqual(r, { kind: 'group', group: 'customer ip', rest: [] });
});

test('unknown words get the nearest command', () => {
  assert.throws(
    () => resolveCommand(COMMANDS, ['plann', 'list']),
    /unknown command "plann"; did you mean "plan"\?/,
  );
  assert.throws(() => resolveCommand(COMMANDS, ['customer', 'shw', 'x']), /did you mean "customer show"\?/);
  assert.throws(
    () => resolveCommand(COMMANDS, ['frobnicate']),
    (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.doesNotMatch(e.message, /did you mean/);
      return true;
    },
  );
});

test('plan add: human units become bytes, bytes/s and cents', () => {
  const r = cmd(['plan', 'add', 'Pro']);
  const p = parseCommandArgs(r.kind === 'command' ? r.command : (undefined as never), [
    'Pro',
    '--threads',
    '50',
    '--rps=20',
    '--bandwidth',
    '1MB/s',
    '--quota',
    '10GB',
    '--days',
    '30',
    '--price',
    '$9.5',
    '--strike-window',
    '15m',
    '--json',
  ]);
  assert.deepEqual(p.args, ['Pro']);
  assert.equal(p.json, true);
  assert.deepEqual(p.flags, {
    threads: 50,
    rps: 20,
    bandwidth: 1e6,
    quota: 10e9,
    days: 30,
    price: 950,
    'strike-window': 900,
  });
});

test('bad units, unknown flags, missing values and arguments are usage errors naming the flag', () => {
  const plan = COMMANDS.find((c) => c.name === 'plan add')!;
  const base = ['P', '--threads', '1', '--rps', '1'];
  assert.throws(
    () => parseCommandArgs(plan, [...base, '--quota', '10XB']),
    /--quota expects a size.*got "10XB".*--quota 10GB/,
  );
  assert.throws(
    () => parseCommandArgs(plan, [...base, '--bandwidth', 'fast']),
    /--bandwidth expects a rate.*1MB\/s/,
  );
  assert.throws(
    () => parseCommandArgs(plan, ['P', '--threads', 'ten', '--rps', '1']),
    /--threads expects a whole number/,
  );
  assert.throws(
    () => parseCommandArgs(plan, [...base, '--period', 'year']),
    /--period expects one of none, day/,
  );
  assert.throws(
    () => parseCommandArgs(plan, [...base, '--qouta', '1GB']),
    /unknown flag --qouta.*did you mean --quota\?/,
  );
  assert.throws(
    () => parseCommandArgs(plan, [...base, '--quota']),
    /--quota needs a value \(example: --quota 10GB\)/,
  );
  assert.throws(() => parseCommandArgs(plan, ['P', '--rps', '1']), /--threads is required/);
  assert.throws(() => parseCommandArgs(plan, ['--threads', '1', '--rps', '1']), /missing NAME/);
  assert.throws(() => parseCommandArgs(plan, [...base, 'extra']), /unexpected argument "extra"/);
  assert.throws(() => parseCommandArgs(plan, [...base, '--json=yes']), /--json takes no value/);
});

test('--help wins over missing arguments', () => {
  const plan = COMMANDS.find((c) => c.name === 'plan add')!;
  assert.equal(parseCommandArgs(plan, ['--help']).help, true);
  assert.equal(parseCommandArgs(plan, ['-h']).help, true);
});

test('ban --for takes a duration; unlimited clears a size', () => {
  const ban = COMMANDS.find((c) => c.name === 'ban')!;
  assert.equal(parseCommandArgs(ban, ['a', '--for', '1h']).flags.for, 3600);
  assert.throws(() => parseCommandArgs(ban, ['a', '--for', '1y']), /--for expects a duration.*--for 1h/);
  const plan = COMMANDS.find((c) => c.name === 'plan add')!;
  assert.equal(
    parseCommandArgs(plan, ['P', '--threads', '1', '--rps', '1', '--quota', 'unlimited']).flags.quota,
    null,
  );
});

test('customer set --expires: a duration counts from now, ISO passes, never clears', () => {
  const set = COMMANDS.find((c) => c.name === 'customer set')!;
  const now = Date.UTC(2026, 0, 1);
  assert.equal(
    parseCommandArgs(set, ['a', '--expires', '30d'], now).flags.expires,
    '2026-01-31T00:00:00.000Z',
  );
  assert.equal(
    parseCommandArgs(set, ['a', '--expires', '2026-12-31'], now).flags.expires,
    '2026-12-31T00:00:00.000Z',
  );
  assert.equal(parseCommandArgs(set, ['a', '--expires', 'never'], now).flags.expires, null);
  assert.throws(
    () => parseCommandArgs(set, ['a', '--expires', 'next week'], now),
    /--expires expects an ISO time/,
  );
});

test('up accepts the config flags as text for loadConfig to validate', () => {
  const up = COMMANDS.find((c) => c.name === 'up')!;
  const p = parseCommandArgs(up, ['--api-port', '9000', '--data-dir', '/tmp/x', '--failover']);
  assert.deepEqual(p.flags, { 'api-port': '9000', 'data-dir': '/tmp/x', failover: true });
  assert.throws(() => parseCommandArgs(up, ['--json']), /unknown flag --json/);
});
